/* json_call.c — AWS JSON-protocol calls (see aws/json_call.h). Errors are
 * classified by error.c. */
#include "json_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define BODY_MAX (16u << 20)

int mn_aws_client_init(struct mn_aws_client *c, const struct mn_host *host, const char *user_agent,
                       const struct mn_aws_creds_config *cc, long timeout_ms,
                       struct mn_provider_error *err) {
  memset(c, 0, sizeof *c);
  c->host = host;
  c->region = cc->region;
  c->timeout_ms = timeout_ms;
  struct mn_http_config hc = {.name = "AWS API", .user_agent = user_agent};
  if (mn_http_init(&c->http, &hc) != 0)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of resources");
  c->http_ready = 1;
  return mn_aws_creds_chain_new(cc, host, &c->creds, err);
}

void mn_aws_client_release(struct mn_aws_client *c) {
  mn_aws_creds_chain_free(c->creds);
  c->creds = NULL;
  if (c->http_ready)
    mn_http_release(&c->http);
  c->http_ready = 0;
}

int mn_aws_endpoint(const char *configured, const char *host_prefix, const char *region, char *out,
                    size_t size) {
  const char *suffix = strncmp(region, "cn-", 3) == 0 ? ".cn" : "";
  int n = configured
              ? snprintf(out, size, "%s", configured)
              : snprintf(out, size, "https://%s.%s.amazonaws.com%s/", host_prefix, region, suffix);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The error of a non-200 answer: AWS's type and message. */
static int answer_error(struct mn_aws_client *c, const struct mn_aws_service *svc,
                        const char *action, const struct mn_http_response *r,
                        struct mn_provider_error *err) {
  const char *header_type = r->captured[0] ? r->captured : NULL;
  char type[128] = "";
  const char *message = NULL;
  json_t *j = r->body[0] ? json_loads(r->body, 0, NULL) : NULL;
  if (json_is_object(j)) {
    mn_aws_error_type(json_string_value(json_object_get(j, "__type")), type, sizeof type);
    message = json_string_value(json_object_get(j, "message"));
    if (!message)
      message = json_string_value(json_object_get(j, "Message"));
  }
  if (!type[0] && header_type)
    mn_aws_error_type(header_type, type, sizeof type);
  int code = mn_aws_error_code(r->status, type[0] ? type : NULL);
  c->host->error(err, code, "%s %s: %s%s%s (HTTP %ld)", svc->name, action, type[0] ? type : "error",
                 message ? ": " : "", message ? message : "", r->status);
  json_decref(j);
  if (code == MN_PROVIDER_E_TRANSIENT && r->retry_after_us > 0)
    mn_provider_retry_after(c->host, err, r->retry_after_us);
  return code;
}

static int call_once(struct mn_aws_client *c, const struct mn_aws_service *svc, const char *url,
                     const char *action, const char *payload, json_t **response,
                     struct mn_provider_error *err) {
  const struct mn_host *host = c->host;
  struct mn_aws_creds cr;
  struct mn_http_response r;
  char target[256], content_type[64], token[4200], sigv4[128], why[600];
  const char *headers[4] = {target, content_type, NULL, NULL};
  int rc;

  if ((rc = mn_aws_creds_get(c->creds, &cr, err)) != 0)
    return rc;
  snprintf(target, sizeof target, "X-Amz-Target: %s.%s", svc->target, action);
  snprintf(content_type, sizeof content_type, "Content-Type: application/x-amz-json-%s",
           svc->json_version ? svc->json_version : "1.1");
  /* No "Expect:" line to switch off 100-continue: libcurl 7.88 would sign
   * the removed header. Bodies stay far below its 1 MB threshold anyway. */
  if (cr.session_token[0]) {
    snprintf(token, sizeof token, "X-Amz-Security-Token: %s", cr.session_token);
    headers[2] = token;
  }
  snprintf(sigv4, sizeof sigv4, "aws:amz:%s:%s", c->region, svc->signing);
  struct mn_http_request rq = {
      .method = "POST",
      .url = url,
      .headers = headers,
      .body = payload,
      .timeout_ms = c->timeout_ms,
      .max_body = BODY_MAX,
      .capture = "x-amzn-ErrorType",
      .aws_sigv4 = sigv4,
      .user = cr.access_key,
      .password = cr.secret_key,
  };
  if (mn_http_call(&c->http, &rq, &r, why, sizeof why) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: %s", svc->name, action, why);
    goto done;
  }
  if (r.status != 200) {
    rc = answer_error(c, svc, action, &r, err);
    goto release;
  }
  json_error_t jerr;
  *response = r.len ? json_loads(r.body, 0, &jerr) : json_object();
  if (!json_is_object(*response)) {
    json_decref(*response);
    *response = NULL;
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: the answer is not a JSON object",
                     svc->name, action);
    goto release;
  }
  rc = 0;
release:
  mn_http_response_release(&r);
done:
  memset(&cr, 0, sizeof cr);
  memset(token, 0, sizeof token);
  return rc;
}

int mn_aws_json_call(struct mn_aws_client *c, const struct mn_aws_service *svc, const char *url,
                     const char *action, const json_t *request, json_t **response,
                     struct mn_provider_error *err) {
  *response = NULL;
  char *payload = json_dumps(request, JSON_COMPACT);
  if (!payload)
    return c->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  int rc = call_once(c, svc, url, action, payload, response, err);
  if (rc != 0)
    c->host->log(c->host, rc == MN_PROVIDER_E_TRANSIENT ? MN_HOST_LOG_WARN : MN_HOST_LOG_ERROR,
                 "%s", err->msg);
  free(payload);
  return rc;
}
