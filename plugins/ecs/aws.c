/* aws.c — the AWS JSON 1.1 protocol over libcurl: POST / with
 * X-Amz-Target and Content-Type application/x-amz-json-1.1, signed by
 * libcurl's SigV4 (CURLOPT_AWS_SIGV4), plus X-Amz-Security-Token for
 * temporary credentials. Errors are classified by aws_error.c. */
#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_error.h"
#include "body_buf.h"
#include "calls.h"
#include "ecs.h"

#define MAX_ATTEMPTS 4
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 2000
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

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

/* Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
static long backoff_ms(int attempt) {
  long ceiling = BACKOFF_BASE_MS << attempt;
  unsigned int r = 0;
  if (ceiling > BACKOFF_CAP_MS)
    ceiling = BACKOFF_CAP_MS;
  if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
    r = (unsigned int)time(NULL);
  return (long)(r % (unsigned long)(ceiling + 1));
}

/* The error of a non-200 answer: AWS's type and message. */
static int answer_error(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                        long status, const struct mn_body_buf *body, const char *header_type,
                        struct mn_provider_error *err) {
  char type[128] = "";
  const char *message = NULL;
  json_t *j = body->data ? json_loads(body->data, 0, NULL) : NULL;
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
  return code;
}

struct header_capture {
  char error_type[128];
};

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct header_capture *h = userdata;
  size_t n = size * nmemb;
  static const char name[] = "x-amzn-errortype:";
  if (n > sizeof name && strncasecmp(ptr, name, sizeof name - 1) == 0) {
    const char *v = ptr + sizeof name - 1;
    size_t len = n - (sizeof name - 1);
    while (len && (*v == ' ' || *v == '\t'))
      v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
      len--;
    if (len >= sizeof h->error_type)
      len = sizeof h->error_type - 1;
    memcpy(h->error_type, v, len);
    h->error_type[len] = '\0';
  }
  return n;
}

static int call_once(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                     const char *payload, json_t **response, struct mn_provider_error *err) {
  const struct mn_host *host = e->host;
  struct ecs_creds cr;
  struct curl_slist *headers = NULL;
  struct mn_body_buf body;
  struct header_capture hc = {""};
  char line[4300], sigv4[128];
  long status = 0;
  int rc;

  mn_body_buf_init(&body, BODY_MAX);
  if ((rc = ecs_creds_get(e->creds, &cr, err)) != 0)
    return rc;
  CURL *c = curl_easy_init();
  if (!c) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: cannot create a curl handle",
                     services[svc].name, action);
    goto done;
  }
  snprintf(line, sizeof line, "X-Amz-Target: %s.%s", services[svc].target, action);
  headers = curl_slist_append(headers, line);
  headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.1");
  /* No "Expect:" line to switch off 100-continue: libcurl 7.88 would sign
   * the removed header. Bodies stay far below its 1 MB threshold anyway. */
  if (cr.session_token[0]) {
    snprintf(line, sizeof line, "X-Amz-Security-Token: %s", cr.session_token);
    headers = curl_slist_append(headers, line);
  }
  snprintf(sigv4, sizeof sigv4, "aws:amz:%s:%s", e->conf.region, services[svc].signing);
  curl_easy_setopt(c, CURLOPT_URL, e->urls[svc]);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
  curl_easy_setopt(c, CURLOPT_USERNAME, cr.access_key);
  curl_easy_setopt(c, CURLOPT_PASSWORD, cr.secret_key);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "multinode-ecs/1.0");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)e->conf.request_timeout);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mn_body_buf_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &hc);
  CURLcode cc = curl_easy_perform(c);
  if (cc != CURLE_OK) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: %s: %s", services[svc].name, action,
                     e->urls[svc], body.too_big ? "answer too large" : curl_easy_strerror(cc));
    goto done;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    rc = answer_error(e, svc, action, status, &body, hc.error_type[0] ? hc.error_type : NULL,
                      err);
    goto done;
  }
  json_error_t jerr;
  *response = body.len ? json_loads(body.data, 0, &jerr) : json_object();
  if (!json_is_object(*response)) {
    json_decref(*response);
    *response = NULL;
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "%s %s: the answer is not a JSON object",
                     services[svc].name, action);
    goto done;
  }
  rc = 0;

done:
  memset(&cr, 0, sizeof cr);
  curl_slist_free_all(headers);
  if (c)
    curl_easy_cleanup(c);
  mn_body_buf_release(&body);
  return rc;
}

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
  for (int attempt = 0;; attempt++) {
    rc = call_once(e, svc, action, payload, response, err);
    if (rc != MN_PROVIDER_E_TRANSIENT || attempt + 1 >= MAX_ATTEMPTS)
      break;
    long ms = backoff_ms(attempt);
    e->host->log(e->host, MN_HOST_LOG_DEBUG, "%s; retrying in %ld ms", err->msg, ms);
    sleep_ms(ms);
  }
  if (rc != 0)
    e->host->log(e->host, rc == MN_PROVIDER_E_TRANSIENT ? MN_HOST_LOG_WARN : MN_HOST_LOG_ERROR,
                 "%s", err->msg);
  free(payload);
  return rc;
}
