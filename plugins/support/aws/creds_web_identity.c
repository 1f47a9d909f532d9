/* creds_web_identity.c — STS AssumeRoleWithWebIdentity with the token in
 * AWS_WEB_IDENTITY_TOKEN_FILE for AWS_ROLE_ARN (EKS IRSA, GitHub OIDC...):
 * the query protocol, unsigned (the token is the proof), answered in XML. */
#include "creds_source.h"
#include "creds_xml.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 10000
#define WHAT "STS AssumeRoleWithWebIdentity"
#define MAX_TOKEN 20000 /* the model's WebIdentityToken max length */

/* The model's RoleSessionName: [\w+=,.@-]{2,64}. */
static int valid_session_name(const char *s) {
  size_t n = strlen(s);
  if (n < 2 || n > 64)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("_+=,.@-", *s)))
      return 0;
  return 1;
}

static void endpoint(const struct creds_ctx *ctx, char *out, size_t cap) {
  if (ctx->sts_endpoint)
    snprintf(out, cap, "%s", ctx->sts_endpoint);
  else if (!ctx->region)
    snprintf(out, cap, "https://sts.amazonaws.com");
  else
    snprintf(out, cap, "https://sts.%s.amazonaws.com%s", ctx->region,
             strncmp(ctx->region, "cn-", 3) == 0 ? ".cn" : "");
}

static char *form(const char *role_arn, const char *session, const char *token) {
  char *a = curl_easy_escape(NULL, role_arn, 0), *s = curl_easy_escape(NULL, session, 0);
  char *t = curl_easy_escape(NULL, token, 0), *body = NULL;
  if (a && s && t) {
    size_t n = strlen(a) + strlen(s) + strlen(t) + 128;
    if ((body = malloc(n)))
      snprintf(body, n,
               "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s"
               "&RoleSessionName=%s&WebIdentityToken=%s",
               a, s, t);
  }
  curl_free(a);
  curl_free(s);
  curl_free(t);
  return body;
}

static int is_transient_code(const char *code) {
  static const char *const codes[] = {"Throttling",          "ThrottlingException",
                                      "RequestLimitExceeded", "IDPCommunicationError",
                                      "ServiceUnavailable",  "InternalFailure",
                                      "InternalError",       "RequestTimeout"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (strcmp(code, codes[i]) == 0)
      return 1;
  return 0;
}

static int answer_error(const struct creds_http_resp *r, struct mn_provider_error *err) {
  char code[128] = "", msg[300] = "", ex[200];
  const char *a, *b, *end = r->body + r->len;
  int transient = r->status == 429 || r->status >= 500;

  if (creds_xml_section(r->body, end, "Error", &a, &b) == 0 &&
      creds_xml_text(a, b, "Code", code, sizeof code) == 0) {
    if (creds_xml_text(a, b, "Message", msg, sizeof msg) != 0)
      msg[0] = '\0';
    return creds_fail(err,
                      transient || is_transient_code(code) ? MN_PROVIDER_E_TRANSIENT
                                                           : MN_PROVIDER_E_AUTH,
                      WHAT " failed (HTTP %ld): %s%s%s", r->status, code, msg[0] ? ": " : "",
                      msg);
  }
  return creds_fail(err, transient ? MN_PROVIDER_E_TRANSIENT : MN_PROVIDER_E_AUTH,
                    WHAT " failed (HTTP %ld): %s", r->status,
                    creds_excerpt(r->body, r->len, ex, sizeof ex));
}

static int answer_credentials(const struct creds_http_resp *r, struct mn_aws_creds *out,
                              struct mn_provider_error *err) {
  static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                      "Expiration"};
  static const size_t caps[] = {sizeof out->access_key, sizeof out->secret_key,
                                sizeof out->session_token, 64};
  char *vals[4] = {0};
  const char *a, *b, *c, *d, *end = r->body + r->len;
  int64_t expires;
  int rc, x;

  if ((x = creds_xml_section(r->body, end, "AssumeRoleWithWebIdentityResult", &a, &b)) ||
      (x = creds_xml_section(a, b, "Credentials", &c, &d)))
    return creds_fail(err, MN_PROVIDER_E_AUTH, WHAT " answered %s",
                      x == CREDS_XML_ABSENT ? "no AssumeRoleWithWebIdentityResult/Credentials"
                                            : "malformed XML around Credentials");
  for (size_t i = 0; i < 4; i++) {
    if (!(vals[i] = malloc(caps[i]))) {
      rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
      goto out;
    }
    if ((x = creds_xml_text(c, d, names[i], vals[i], caps[i])) != 0) {
      rc = creds_fail(err, MN_PROVIDER_E_AUTH, WHAT " answered %s Credentials/%s",
                      x == CREDS_XML_ABSENT ? "no" : "a malformed or too long", names[i]);
      goto out;
    }
  }
  if (creds_parse_time(vals[3], &expires)) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH,
                    WHAT " answered an Expiration that is not an ISO 8601 time: \"%.64s\"",
                    vals[3]);
    goto out;
  }
  rc = creds_set(out, vals[0], vals[1], vals[2], expires, WHAT, err);
out:
  for (size_t i = 0; i < 4; i++) {
    if (vals[i])
      memset(vals[i], 0, caps[i]);
    free(vals[i]);
  }
  return rc;
}

int creds_assume_role_with_web_identity(const struct creds_ctx *ctx, const char *role_arn,
                                        const char *token_file, const char *session_name,
                                        struct mn_aws_creds *out, struct mn_provider_error *err) {
  static const char *const headers[] = {
      "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "Accept: text/xml",
      NULL};
  char url[1024], session[80];
  char *token = NULL, *body = NULL;
  struct creds_http_resp r = {0};
  struct creds_http_req req = {.method = "POST", .url = url, .headers = headers,
                               .timeout_ms = TIMEOUT_MS};
  int rc;

  if (session_name) {
    if (!valid_session_name(session_name))
      return creds_fail(err, MN_PROVIDER_E_AUTH,
                        "role session name \"%.80s\" is invalid: 2 to 64 of letters, digits "
                        "and _+=,.@-",
                        session_name);
    snprintf(session, sizeof session, "%s", session_name);
  } else {
    snprintf(session, sizeof session, "multinode-%lld",
             (long long)(creds_now_us(ctx) / 1000000));
  }
  if ((rc = creds_read_small_file(token_file, MAX_TOKEN, &token)) != 0)
    return creds_fail(err, MN_PROVIDER_E_AUTH, "cannot read the web identity token file "
                      "\"%.200s\": %s", token_file,
                      rc == -EFBIG ? "larger than 20000 bytes" : strerror(-rc));
  if (strlen(token) < 4) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH, "the web identity token file \"%.200s\" is empty",
                    token_file);
    goto out;
  }
  if (!(body = form(role_arn, session, token))) {
    rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto out;
  }
  endpoint(ctx, url, sizeof url);
  req.body = body;
  if ((rc = creds_http(&req, WHAT, &r, err)))
    goto out;
  rc = r.status == 200 ? answer_credentials(&r, out, err) : answer_error(&r, err);
  if (rc == 0)
    creds_log(ctx, MN_HOST_LOG_DEBUG, "assumed role %s with a web identity token", role_arn);
out:
  free(r.body);
  if (body)
    memset(body, 0, strlen(body));
  free(body);
  if (token)
    memset(token, 0, strlen(token));
  free(token);
  return rc;
}

int creds_web_identity_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                             struct mn_provider_error *err) {
  const struct creds_env *e = &ctx->env;

  if (!e->web_identity_token_file && !e->role_arn)
    return CREDS_SKIP;
  if (!e->web_identity_token_file || !e->role_arn)
    return creds_fail(err, MN_PROVIDER_E_AUTH, "%s is set but %s is not",
                      e->role_arn ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE",
                      e->role_arn ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
  return creds_assume_role_with_web_identity(ctx, e->role_arn, e->web_identity_token_file,
                                             e->role_session_name, out, err);
}
