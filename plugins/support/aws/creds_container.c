/* creds_container.c — the ECS container credentials endpoint:
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
 * AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization header from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch: EKS Pod
 * Identity rotates it) or AWS_CONTAINER_AUTHORIZATION_TOKEN. */
#include "creds_source.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TIMEOUT_MS 5000
#define WHAT "the ECS container credentials endpoint"

/* Like the AWS SDKs: a full URI over plain http must stay on this machine
 * or go to the container credential hosts of ECS and EKS. */
static int allowed_http_host(const char *host) {
  static const char *const ok[] = {"localhost", "[::1]", "169.254.170.2", "169.254.170.23",
                                   "[fd00:ec2::23]"};
  unsigned a, b, c, d;
  char tail;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strcasecmp(host, ok[i]) == 0)
      return 1;
  return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
         c < 256 && d < 256;
}

static int check_full_uri(const char *uri, struct mn_provider_error *err) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int rc = 0;

  if (!u)
    return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  if (curl_url_set(u, CURLUPART_URL, uri, 0) ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
      curl_url_get(u, CURLUPART_HOST, &host, 0)) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH,
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI \"%.200s\" is not a URL", uri);
  } else if (strcasecmp(scheme, "https") != 0 &&
             !(strcasecmp(scheme, "http") == 0 && allowed_http_host(host))) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH,
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI \"%.200s\": plain http is allowed only "
                    "to a loopback address, 169.254.170.2 or 169.254.170.23; use https",
                    uri);
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

/* The Authorization header, or NULL when none is configured. */
static int auth_header(const struct creds_ctx *ctx, char **out, struct mn_provider_error *err) {
  const struct creds_env *e = &ctx->env;
  char *token = NULL;
  int rc = 0;

  *out = NULL;
  if (e->container_auth_token_file) {
    int r = creds_read_small_file(e->container_auth_token_file, 16384, &token);
    if (r)
      return creds_fail(err, MN_PROVIDER_E_AUTH,
                        "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \"%.200s\": %s",
                        e->container_auth_token_file, strerror(-r));
  } else if (e->container_auth_token) {
    if (!(token = strdup(e->container_auth_token)))
      return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  } else {
    return 0;
  }
  if (!*token || creds_has_ctl(token)) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH,
                    "the container authorization token is empty or holds a control character");
  } else {
    size_t n = strlen(token) + sizeof "Authorization: ";
    if (!(*out = malloc(n)))
      rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    else
      snprintf(*out, n, "Authorization: %s", token);
  }
  free(token);
  return rc;
}

int creds_container_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                          struct mn_provider_error *err) {
  const struct creds_env *e = &ctx->env;
  struct creds_http_resp resp = {0};
  char *url = NULL, *auth = NULL, ex[256];
  const char *headers[3] = {"Accept: application/json", NULL, NULL};
  struct creds_http_req req = {.method = "GET", .timeout_ms = TIMEOUT_MS, .no_proxy = 1};
  int rc;

  if (e->container_relative_uri) {
    const char *rel = e->container_relative_uri;
    size_t n = strlen(ctx->container_host) + strlen(rel) + 16;
    if (!(url = malloc(n)))
      return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    snprintf(url, n, "http://%s%s%s", ctx->container_host, rel[0] == '/' ? "" : "/", rel);
  } else if (e->container_full_uri) {
    if ((rc = check_full_uri(e->container_full_uri, err)))
      return rc;
    if (!(url = strdup(e->container_full_uri)))
      return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  } else {
    return CREDS_SKIP;
  }
  if ((rc = auth_header(ctx, &auth, err)))
    goto out;
  headers[1] = auth;
  req.url = url;
  req.headers = headers;
  if ((rc = creds_http(&req, WHAT, &resp, err)))
    goto out;
  if (resp.status == 200)
    rc = creds_from_json(resp.body, resp.len, WHAT, out, err);
  else
    rc = creds_fail(err,
                    resp.status == 429 || resp.status >= 500 ? MN_PROVIDER_E_TRANSIENT
                                                             : MN_PROVIDER_E_AUTH,
                    "%s (%s) answered HTTP %ld: %s", WHAT, url, resp.status,
                    creds_excerpt(resp.body, resp.len, ex, sizeof ex));
out:
  free(resp.body);
  free(auth);
  free(url);
  return rc;
}
