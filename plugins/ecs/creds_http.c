/* creds_http.c — the one HTTP exchange the credentials sources need, over
 * libcurl: a bounded answer, a deadline, http(s) only. */
#include "creds_source.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "body_buf.h"

#define MAX_ANSWER (1024 * 1024)

int creds_http(const struct creds_http_req *req, const char *what, struct creds_http_resp *resp,
               struct mn_provider_error *err) {
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *hdrs = NULL, *tmp;
  struct mn_body_buf s;
  CURL *h = curl_easy_init();
  CURLcode cc;
  int rc = 0;

  memset(resp, 0, sizeof *resp);
  mn_body_buf_init(&s, MAX_ANSWER);
  if (!h)
    return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "%s: cannot create a curl handle", what);
  for (size_t i = 0; req->headers && req->headers[i]; i++) {
    if (!(tmp = curl_slist_append(hdrs, req->headers[i]))) {
      rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
      goto out;
    }
    hdrs = tmp;
  }
  /* No "Expect: 100-continue" round trip for the small bodies we send. */
  if (req->body && (tmp = curl_slist_append(hdrs, "Expect:")))
    hdrs = tmp;
  curl_easy_setopt(h, CURLOPT_URL, req->url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
  if (req->body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
  } else if (strcmp(req->method, "GET") != 0) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mn_body_buf_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "multinode-ecs-creds");
  if (req->no_proxy)
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  cc = curl_easy_perform(h);
  if (cc != CURLE_OK) {
    if (s.too_big)
      rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "%s: the answer exceeds %d bytes", what,
                      MAX_ANSWER);
    else
      rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "%s: %s", what,
                      errbuf[0] ? errbuf : curl_easy_strerror(cc));
    goto out;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
  resp->len = s.len;
  if (!(resp->body = s.data ? mn_body_buf_take(&s) : calloc(1, 1))) {
    rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto out;
  }
out:
  mn_body_buf_release(&s);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  return rc;
}
