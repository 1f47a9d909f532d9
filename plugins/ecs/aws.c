/* aws.c — the AWS JSON 1.1 protocol over the toolkit's HTTP client
 * (plugins/support/http.h; connections kept from call to call): POST / with
 * X-Amz-Target and Content-Type application/x-amz-json-1.1, signed by
 * libcurl's SigV4 (CURLOPT_AWS_SIGV4), plus X-Amz-Security-Token for
 * temporary credentials. Errors are classified by aws_error.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_error.h"
#include "calls.h"
#include "ecs.h"

#define BODY_MAX (16u << 20)

static const struct {
  const char *name;    /* in messages */
  const char *signing; /* SigV4 service name */
  const char *target;  /* X-Amz-Target prefix */
} services[MN_ECS_SVC_COUNT] = {
    [MN_ECS_SVC_ECS] = {"ecs", "ecs", "AmazonEC2ContainerServiceV20141113"},
    [MN_ECS_SVC_LOGS] = {"logs", "logs", "Logs_20140328"},
    [MN_ECS_SVC_ECR] = {"ecr", "ecr", "AmazonEC2ContainerRegistry_V20150921"},
};

/* The error of a non-200 answer: AWS's type and message. */
static int answer_error(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                        const struct mn_http_response *r, struct mn_provider_error *err) {
  long status = r->status;
  const char *body = r->body, *header_type = r->captured[0] ? r->captured : NULL;
  char type[128] = "";
  const char *message = NULL;
  json_t *j = body[0] ? json_loads(body, 0, NULL) : NULL;
  if (json_is_object(j)) {
    mn_ecs_error_type(json_string_value(json_object_get(j, "__type")), type, sizeof type);
    message = json_string_value(json_object_get(j, "message"));
    if (!message)
      message = json_string_value(json_object_get(j, "Message"));
  }
  if (!type[0] && header_type)
    mn_ecs_error_type(header_type, type, sizeof type);
  int code = mn_ecs_error_code(status, type[0] ? type : NULL);
  e->host->error(err, code, "%s %s: %s%s%s (HTTP %ld)", services[svc].name, action,
                 type[0] ? type : "error", message ? ": " : "", message ? message : "", status);
  json_decref(j);
  if (code == MN_PROVIDER_E_TRANSIENT && r->retry_after_us > 0)
    mn_provider_retry_after(e->host, err, r->retry_after_us);
  return code;
}

static int call_once(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                     const char *payload, json_t **response, struct mn_provider_error *err) {
  const struct mn_host *host = e->host;
  struct ecs_creds cr;
  struct mn_http_response r;
  char target[256], token[4200], sigv4[128], why[600];
  const char *headers[4] = {target, "Content-Type: application/x-amz-json-1.1", NULL, NULL};
  int rc;

  if ((rc = ecs_creds_get(e->creds, &cr, err)) != 0)
    return rc;
  snprintf(target, sizeof target, "X-Amz-Target: %s.%s", services[svc].target, action);
  /* No "Expect:" line to switch off 100-continue: libcurl 7.88 would sign
   * the removed header. Bodies stay far below its 1 MB threshold anyway. */
  if (cr.session_token[0]) {
    snprintf(token, sizeof token, "X-Amz-Security-Token: %s", cr.session_token);
    headers[2] = token;
  }
  snprintf(sigv4, sizeof sigv4, "aws:amz:%s:%s", e->conf.region, services[svc].signing);
  struct mn_http_request rq = {
      .method = "POST",
      .url = e->urls[svc],
      .headers = headers,
      .body = payload,
      .timeout_ms = (long)e->conf.request_timeout * 1000L,
      .max_body = BODY_MAX,
      .capture = "x-amzn-ErrorType",
      .aws_sigv4 = sigv4,
      .user = cr.access_key,
      .password = cr.secret_key,
  };
  if (mn_http_call(&e->http, &rq, &r, why, sizeof why) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: %s", services[svc].name, action, why);
    goto done;
  }
  if (r.status != 200) {
    rc = answer_error(e, svc, action, &r, err);
    goto release;
  }
  json_error_t jerr;
  *response = r.len ? json_loads(r.body, 0, &jerr) : json_object();
  if (!json_is_object(*response)) {
    json_decref(*response);
    *response = NULL;
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: the answer is not a JSON object",
                     services[svc].name, action);
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

/* One call; a TRANSIENT failure goes back to the daemon, whose tracker
 * retries it with backoff (provider.h: no provider sleeps). */
int mn_ecs_call(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                const json_t *request, json_t **response, struct mn_provider_error *err) {
  *response = NULL;
  if (!mn_ecs_call_find(svc, action)) /* calls.c lists every call (and its IAM actions) */
    return e->host->error(err, MN_PROVIDER_E_INVALID, "%s %s: not in the provider's list of calls",
                          services[svc].name, action);
  char *payload = json_dumps(request, JSON_COMPACT);
  int rc;
  if (!payload)
    return e->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  rc = call_once(e, svc, action, payload, response, err);
  if (rc != 0)
    e->host->log(e->host, rc == MN_PROVIDER_E_TRANSIENT ? MN_HOST_LOG_WARN : MN_HOST_LOG_ERROR,
                 "%s", err->msg);
  free(payload);
  return rc;
}
