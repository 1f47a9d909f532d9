/* http.c — the providers' HTTP client (see http.h). */
#include "http.h"

#include <multinode/provider.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_buf.h"

#define CONNECT_TIMEOUT_DEFAULT_MS 10000L

int mn_http_init(struct mn_http *h, const struct mn_http_config *cfg) {
  memset(h, 0, sizeof *h);
  h->conf = *cfg;
  if (!h->conf.name)
    h->conf.name = "HTTP server";
  return pthread_mutex_init(&h->lock, NULL) == 0 ? 0 : -1;
}

void mn_http_release(struct mn_http *h) {
  for (size_t i = 0; i < h->n_idle; i++)
    curl_easy_cleanup(h->idle[i]);
  h->n_idle = 0;
  pthread_mutex_destroy(&h->lock);
}

static void set_blob(CURL *c, CURLoption opt, const void *data, size_t len) {
  struct curl_blob b = {(void *)data, len, CURL_BLOB_NOCOPY};
  curl_easy_setopt(c, opt, &b);
}

/* The client's options; a pooled handle was reset when it came back. */
static void base_options(const struct mn_http *h, CURL *c) {
  const struct mn_http_config *f = &h->conf;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   f->connect_timeout_ms > 0 ? f->connect_timeout_ms : CONNECT_TIMEOUT_DEFAULT_MS);
  if (f->unix_socket)
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, f->unix_socket);
  if (f->user_agent)
    curl_easy_setopt(c, CURLOPT_USERAGENT, f->user_agent);
  if (f->no_proxy)
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  if (f->tls.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (f->tls.ca_data)
    set_blob(c, CURLOPT_CAINFO_BLOB, f->tls.ca_data, f->tls.ca_len);
  else if (f->tls.ca_file)
    curl_easy_setopt(c, CURLOPT_CAINFO, f->tls.ca_file);
  if (f->tls.cert_data) {
    set_blob(c, CURLOPT_SSLCERT_BLOB, f->tls.cert_data, f->tls.cert_len);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (f->tls.cert_file) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, f->tls.cert_file);
  }
  if (f->tls.key_data) {
    set_blob(c, CURLOPT_SSLKEY_BLOB, f->tls.key_data, f->tls.key_len);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (f->tls.key_file) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, f->tls.key_file);
  }
}

CURL *mn_http_handle_get(struct mn_http *h, const char *url) {
  CURL *c = NULL;
  pthread_mutex_lock(&h->lock);
  if (h->n_idle > 0)
    c = h->idle[--h->n_idle];
  pthread_mutex_unlock(&h->lock);
  if (!c && !(c = curl_easy_init()))
    return NULL;
  base_options(h, c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  return c;
}

void mn_http_handle_put(struct mn_http *h, CURL *c, int reuse) {
  if (!c)
    return;
  long connects = 0;
  if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK)
    connects = 0;
  pthread_mutex_lock(&h->lock);
  h->connects += (uint64_t)(connects > 0 ? connects : 0);
  if (reuse && h->n_idle < MN_HTTP_POOL_MAX) {
    curl_easy_reset(c); /* keeps its connection cache and TLS session */
    h->idle[h->n_idle++] = c;
    c = NULL;
  }
  pthread_mutex_unlock(&h->lock);
  if (c)
    curl_easy_cleanup(c);
}

uint64_t mn_http_connects(struct mn_http *h) {
  pthread_mutex_lock(&h->lock);
  uint64_t n = h->connects;
  pthread_mutex_unlock(&h->lock);
  return n;
}

struct sink {
  CURL *easy;
  const struct mn_http_request *req;
  struct mn_body_buf body;
  int streaming; /* 1: a 2xx answer goes to req->sink; -1: it does not; 0: not known yet */
  int stopped;   /* the sink asked to stop */
};

static size_t on_data(char *data, size_t size, size_t n, void *arg) {
  struct sink *s = arg;
  if (s->req->sink && s->streaming == 0) {
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    s->streaming = status >= 200 && status <= 299 ? 1 : -1;
  }
  if (s->streaming == 1) {
    size_t got = s->req->sink(data, size, n, s->req->sink_ctx);
    if (got != size * n)
      s->stopped = 1;
    return got;
  }
  return mn_body_buf_write(data, size, n, &s->body);
}

static void capture(CURL *c, const char *name, char *out, size_t size) {
  struct curl_header *hv = NULL;
  out[0] = '\0';
  if (name && curl_easy_header(c, name, 0, CURLH_HEADER, -1, &hv) == CURLHE_OK && hv->value)
    snprintf(out, size, "%s", hv->value);
}

int mn_http_call(struct mn_http *h, const struct mn_http_request *req,
                 struct mn_http_response *resp, char *why, size_t why_size) {
  struct curl_slist *headers = NULL;
  struct sink s = {.req = req};
  char errbuf[CURL_ERROR_SIZE] = "";
  int rc = 0;

  memset(resp, 0, sizeof *resp);
  resp->retry_after_us = -1;
  mn_body_buf_init(&s.body, req->max_body ? req->max_body : MN_HTTP_BODY_MAX_DEFAULT);
  CURL *c = mn_http_handle_get(h, req->url);
  if (!c) {
    snprintf(why, why_size, "%s: out of memory", h->conf.name);
    return -1;
  }
  s.easy = c;
  for (size_t i = 0; req->headers && req->headers[i]; i++) {
    struct curl_slist *more = curl_slist_append(headers, req->headers[i]);
    if (!more) {
      snprintf(why, why_size, "%s: out of memory", h->conf.name);
      rc = -1;
      goto done;
    }
    headers = more;
  }
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  if (req->body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(req->body_len ? req->body_len : strlen(req->body)));
  } else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "DELETE") != 0 &&
             strcmp(req->method, "HEAD") != 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
  }
  if (headers)
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (req->timeout_ms > 0)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  if (req->aws_sigv4) {
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, req->user ? req->user : "");
    curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode cc = curl_easy_perform(c);
  if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && s.stopped)) {
    if (s.body.too_big)
      snprintf(why, why_size, "%s: %s %s answered more than %zu bytes", h->conf.name, req->method,
               req->url, s.body.max);
    else
      snprintf(why, why_size, "%s: %s", h->conf.name,
               errbuf[0] ? errbuf : curl_easy_strerror(cc));
    rc = -1;
    goto done;
  }
  curl_off_t retry_after = 0;
  struct curl_header *seen = NULL;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
    resp->retry_after_us = (int64_t)retry_after * 1000000;
  else if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &seen) == CURLHE_OK)
    resp->retry_after_us = 0; /* "Retry-After: 0", or a date already past: now */
  capture(c, req->capture, resp->captured, sizeof resp->captured);
  resp->body = mn_buf_take(&s.body.buf, &resp->len);
  if (!resp->body) {
    snprintf(why, why_size, "%s: out of memory", h->conf.name);
    rc = -1;
  }

done:
  curl_slist_free_all(headers);
  mn_buf_release(&s.body.buf);
  mn_http_handle_put(h, c, rc == 0); /* a broken connection is not reused */
  if (rc != 0)
    memset(resp, 0, sizeof *resp);
  return rc;
}

void mn_http_response_release(struct mn_http_response *resp) {
  free(resp->body);
  resp->body = NULL;
  resp->len = 0;
}

int mn_http_escape(const char *s, char *out, size_t size) {
  char *e = curl_easy_escape(NULL, s, 0); /* the handle is unused since curl 7.82 */
  int rc = e && strlen(e) < size ? 0 : -1;
  if (rc == 0)
    memcpy(out, e, strlen(e) + 1);
  curl_free(e);
  return rc;
}

int mn_http_status_code(long status, const struct mn_http_status_rule *overrides) {
  for (const struct mn_http_status_rule *r = overrides; r && r->status; r++)
    if (r->status == status)
      return r->code;
  if (status >= 200 && status <= 399)
    return MN_PROVIDER_OK;
  if (status == 404 || status == 410)
    return MN_PROVIDER_E_NOT_FOUND;
  if (status == 401 || status == 403)
    return MN_PROVIDER_E_AUTH;
  if (status == 0 || status == 408 || status == 429 || status >= 500)
    return MN_PROVIDER_E_TRANSIENT;
  return MN_PROVIDER_E_INVALID;
}
