/* creds_http.c — the one HTTP exchange the credentials sources need,
 * through the toolkit's client (plugins/support/http.h): a bounded answer,
 * a deadline, http(s) only. Credentials are fetched rarely (and then
 * cached): a client per exchange. */
#include "creds_source.h"

#include <stdlib.h>
#include <string.h>

#include "http.h"

#define MAX_ANSWER (1024 * 1024)

int creds_http(const struct creds_http_req *req, const char *what, struct creds_http_resp *resp,
               struct mn_provider_error *err) {
  const char *headers[16];
  size_t n = 0;
  char why[600];
  struct mn_http client;
  struct mn_http_config cfg = {.name = what,
                               .user_agent = "multinode-aws-creds",
                               .connect_timeout_ms = req->timeout_ms,
                               .no_proxy = req->no_proxy};
  struct mn_http_response r;

  memset(resp, 0, sizeof *resp);
  for (size_t i = 0; req->headers && req->headers[i]; i++) {
    if (n + 2 >= sizeof headers / sizeof headers[0])
      return creds_fail(err, MN_PROVIDER_E_INVALID, "%s: too many headers", what);
    headers[n++] = req->headers[i];
  }
  /* No "Expect: 100-continue" round trip for the small bodies we send. */
  if (req->body)
    headers[n++] = "Expect:";
  headers[n] = NULL;
  struct mn_http_request rq = {.method = req->method,
                               .url = req->url,
                               .headers = headers,
                               .body = req->body,
                               .timeout_ms = req->timeout_ms,
                               .max_body = MAX_ANSWER};
  if (mn_http_init(&client, &cfg) != 0)
    return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "%s: out of resources", what);
  int rc = mn_http_call(&client, &rq, &r, why, sizeof why);
  mn_http_release(&client);
  if (rc != 0)
    return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "%s", why);
  resp->status = r.status;
  resp->body = r.body; /* malloc'ed: the caller frees it */
  resp->len = r.len;
  return 0;
}
