/* registry.c — the Docker provider's registry (docker_conf.h `registry`):
 * GET /container_repository_credentials names it, so `multinode deploy`
 * pushes there (with the deployer's own login: none is handed out), and
 * prepare pulls from it with the login of registry_username and
 * registry_password (X-Registry-Auth; from the environment with the
 * `_env` form, docs/deploy.md). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

int mn_docker_registry_credentials(void *state, struct mn_registry_credentials *out,
                                   struct mn_provider_error *err) {
  struct mn_docker *d = state;
  const char *r = d->conf.registry;
  if (!r)
    return d->host->error(err, MN_PROVIDER_E_UNSUPPORTED, "no registry: images stay local");
  memset(out, 0, sizeof *out);
  snprintf(out->repository_name, sizeof out->repository_name, "%s", r);
  snprintf(out->endpoint_url, sizeof out->endpoint_url, "https://%.*s", (int)strcspn(r, "/"), r);
  return 0;
}

int mn_docker_registry_auth(const struct mn_docker *d, const char *image, char *out,
                            size_t size) {
  const char *r = d->conf.registry;
  const char *user = d->conf.registry_username, *pass = d->conf.registry_password;
  size_t host = r ? strcspn(r, "/") : 0;
  out[0] = '\0';
  if (!r || !user || strncmp(image, r, host) != 0 || image[host] != '/')
    return 0; /* not from that registry, or no login */
  json_t *j = json_pack("{s:s, s:s, s:s%}", "username", user ? user : "", "password",
                        pass ? pass : "", "serveraddress", r, host);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!text)
    return -1;
  size_t n = strlen(text), prefix = strlen("X-Registry-Auth: ");
  int rc = -1;
  if (prefix + 4 * ((n + 2) / 3) + 1 <= size) {
    memcpy(out, "X-Registry-Auth: ", prefix);
    EVP_EncodeBlock((unsigned char *)out + prefix, (const unsigned char *)text, (int)n);
    for (char *b = out + prefix; *b; b++) /* base64url, as the engine decodes it */
      *b = *b == '+' ? '-' : *b == '/' ? '_' : *b;
    rc = 0;
  }
  OPENSSL_cleanse(text, n);
  free(text);
  return rc;
}
