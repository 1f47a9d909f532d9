/* ecr.c — registry credentials for `multinode deploy`: ECR's
 * GetAuthorizationToken answers a base64 "AWS:<password>" token valid for
 * 12 hours and the registry's proxyEndpoint; the repository is configured
 * (providers.ecs.repository), as the original read CONTAINER_REPOSITORY_NAME. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

/* Decodes base64 TEXT into out (NUL-terminated); -1 when it is not base64 or
 * does not fit. */
static int base64_decode(const char *text, char *out, size_t size) {
  size_t n = strlen(text);
  if (n == 0 || n % 4 != 0 || n / 4 * 3 + 1 > size)
    return -1;
  int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
  if (len < 0)
    return -1;
  if (text[n - 1] == '=') /* EVP_DecodeBlock counts the padding as zero bytes */
    len -= text[n - 2] == '=' ? 2 : 1;
  out[len] = '\0';
  return (int)strlen(out) == len ? 0 : -1; /* no NUL inside */
}

int mn_ecs_registry_credentials(void *state, struct mn_registry_credentials *out,
                                struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  const struct mn_host *host = e->host;
  json_t *req = json_object(), *res = NULL;
  char token[sizeof out->username + sizeof out->password];
  int rc;
  if (!e->conf.repository)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "providers.ecs.repository is not set: no repository to push images to");
  if (!req)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  rc = mn_ecs_call(e, MN_ECS_SVC_ECR, "GetAuthorizationToken", req, &res, err);
  json_decref(req);
  if (rc)
    return rc;
  json_t *data = json_array_get(json_object_get(res, "authorizationData"), 0);
  const char *b64 = json_string_value(json_object_get(data, "authorizationToken"));
  const char *endpoint = json_string_value(json_object_get(data, "proxyEndpoint"));
  char *colon;
  if (!b64 || !endpoint || base64_decode(b64, token, sizeof token) != 0 ||
      !(colon = strchr(token, ':')) || (size_t)(colon - token) >= sizeof out->username ||
      strlen(colon + 1) >= sizeof out->password) {
    json_decref(res);
    return host->error(err, MN_PROVIDER_E_TRANSIENT,
                       "ecr GetAuthorizationToken: unexpected answer (no usable "
                       "authorizationToken/proxyEndpoint)");
  }
  *colon = '\0';
  snprintf(out->username, sizeof out->username, "%s", token);
  snprintf(out->password, sizeof out->password, "%s", colon + 1);
  snprintf(out->endpoint_url, sizeof out->endpoint_url, "%s", endpoint);
  snprintf(out->repository_name, sizeof out->repository_name, "%s", e->conf.repository);
  OPENSSL_cleanse(token, sizeof token);
  json_decref(res);
  return 0;
}
