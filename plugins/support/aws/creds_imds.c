/* creds_imds.c — EC2 instance metadata, IMDSv2 only: PUT a session token,
 * then GET the instance profile's role name and its credentials. Short
 * timeouts, so that a machine that is not an EC2 instance moves on fast. */
#include "creds_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TIMEOUT_MS 1000
#define WHAT "EC2 instance metadata"
#define CREDS_PATH "/latest/meta-data/iam/security-credentials/"

static int status_error(long status, const char *path, const struct creds_http_resp *r,
                        struct mn_provider_error *err) {
  char ex[200];
  return creds_fail(err,
                    status == 429 || status >= 500 ? MN_PROVIDER_E_TRANSIENT : MN_PROVIDER_E_AUTH,
                    WHAT " answered HTTP %ld to %s: %s", status, path,
                    creds_excerpt(r->body, r->len, ex, sizeof ex));
}

/* One exchange; a transport failure means "no instance metadata here":
 * CREDS_SKIP with a TRANSIENT code in err (a refresh reports it as such). */
static int call(const char *base, const char *method, const char *path, const char *header,
                struct creds_http_resp *resp, struct mn_provider_error *err) {
  char url[1024];
  const char *headers[2] = {header, NULL};
  struct creds_http_req req = {.method = method, .url = url, .headers = headers,
                               .timeout_ms = TIMEOUT_MS, .no_proxy = 1};
  snprintf(url, sizeof url, "%s%s", base, path);
  if (creds_http(&req, WHAT, resp, err))
    return CREDS_SKIP;
  return 0;
}

int creds_imds_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                     struct mn_provider_error *err) {
  const struct creds_env *e = &ctx->env;
  struct creds_http_resp r = {0};
  char base[512], hdr[512], path[512], role[256];
  size_t n;
  int rc;

  if (e->imds_disabled && strcasecmp(e->imds_disabled, "true") == 0)
    return CREDS_SKIP;
  if (e->imds_endpoint)
    snprintf(base, sizeof base, "%s", e->imds_endpoint);
  else if (e->imds_endpoint_mode && strcasecmp(e->imds_endpoint_mode, "IPv6") == 0)
    snprintf(base, sizeof base, "http://[fd00:ec2::254]");
  else
    snprintf(base, sizeof base, "http://169.254.169.254");
  for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
    base[n - 1] = '\0';

  /* 1. the session token */
  if ((rc = call(base, "PUT", "/latest/api/token", "X-aws-ec2-metadata-token-ttl-seconds: 21600",
                 &r, err)))
    goto out;
  if (r.status != 200) {
    rc = status_error(r.status, "/latest/api/token", &r, err);
    goto out;
  }
  if (r.len == 0 || r.len > 400 || creds_has_ctl(r.body) || strlen(r.body) != r.len) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH, WHAT " answered a malformed session token");
    goto out;
  }
  snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", r.body);
  free(r.body);
  r.body = NULL;

  /* 2. the role of the instance profile */
  if ((rc = call(base, "GET", CREDS_PATH, hdr, &r, err)))
    goto out;
  if (r.status == 404) {
    creds_fail(err, MN_PROVIDER_E_AUTH, WHAT ": no IAM role is attached to this instance");
    rc = CREDS_SKIP;
    goto out;
  }
  if (r.status != 200) {
    rc = status_error(r.status, CREDS_PATH, &r, err);
    goto out;
  }
  n = strcspn(r.body, "\r\n");
  if (n == 0 || n >= sizeof role || memchr(r.body, '/', n) || strlen(r.body) != r.len) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH, WHAT " answered a malformed role name at %s",
                    CREDS_PATH);
    goto out;
  }
  memcpy(role, r.body, n);
  role[n] = '\0';
  if (creds_has_ctl(role)) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH, WHAT " answered a malformed role name");
    goto out;
  }
  free(r.body);
  r.body = NULL;

  /* 3. its credentials */
  snprintf(path, sizeof path, CREDS_PATH "%s", role);
  if ((rc = call(base, "GET", path, hdr, &r, err)))
    goto out;
  if (r.status != 200) {
    rc = status_error(r.status, path, &r, err);
    goto out;
  }
  rc = creds_from_json(r.body, r.len, WHAT, out, err);
out:
  free(r.body);
  return rc;
}
