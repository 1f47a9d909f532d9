/* api.c — one call to the compute API (template.h), through the provider
 * toolkit: the HTTP client of plugins/support/http.h (connections reused
 * across calls and threads, a time-out, a bounded body, the Retry-After of
 * the answer) and its table of what a status means. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

/* Where this API's statuses mean something else than the toolkit's table
 * (mn_http_status_code: 404/410 NOT_FOUND, 401/403 AUTH, 408/429/5xx
 * TRANSIENT, any other 4xx INVALID). */
static const struct mn_http_status_rule overrides[] = {
    {507, MN_PROVIDER_E_CAPACITY}, /* "no capacity": the daemon waits, no attempt spent */
    {0, 0},
};

int tpl_call(struct tpl *t, const char *method, const char *path, json_t *body, json_t **out,
             long *status, struct mn_provider_error *err) {
  const struct mn_host *host = t->host;
  const char *headers[3] = {"Content-Type: application/json", t->auth[0] ? t->auth : NULL, NULL};
  char url[4096], why[MN_PROVIDER_ERROR_MSG_MAX];
  struct mn_http_response r;

  if (out)
    *out = NULL;
  if (status)
    *status = 0;
  size_t base = strlen(t->conf.endpoint);
  while (base && t->conf.endpoint[base - 1] == '/')
    base--;
  if (snprintf(url, sizeof url, "%.*s%s", (int)base, t->conf.endpoint, path) >= (int)sizeof url)
    return host->error(err, MN_PROVIDER_E_INVALID, "compute API: %s %s: URL too long", method,
                       path);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  if (body && !text)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  struct mn_http_request rq = {.method = method,
                               .url = url,
                               .headers = headers,
                               .body = text,
                               .timeout_ms = (long)t->conf.timeout_s * 1000,
                               .max_body = 4u << 20};
  int answered = mn_http_call(&t->http, &rq, &r, why, sizeof why);
  free(text);
  if (answered != 0) /* no answer (refused, reset, timed out): try again later */
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "%s", why);

  if (status)
    *status = r.status;
  int code = mn_http_status_code(r.status, overrides);
  json_t *j = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
  if (code == 0 && r.len && !j) {
    code = host->error(err, MN_PROVIDER_E_TRANSIENT, "compute API: %s %s: HTTP %ld: not JSON",
                       method, path, r.status);
  } else if (code == 0) {
    if (out) {
      *out = j;
      j = NULL;
    }
  } else {
    const char *msg = json_string_value(json_object_get(j, "message"));
    host->error(err, code, "compute API: %s %s: HTTP %ld: %s", method, path, r.status,
                msg ? msg : "(no message)");
    /* 429 or 503 with Retry-After: the daemon's tracker waits that long
     * before it calls again. The provider itself never sleeps or retries. */
    if (r.retry_after_us >= 0 &&
        (code == MN_PROVIDER_E_TRANSIENT || code == MN_PROVIDER_E_CAPACITY))
      mn_provider_retry_after(host, err, r.retry_after_us);
  }
  json_decref(j);
  mn_http_response_release(&r);
  return code;
}
