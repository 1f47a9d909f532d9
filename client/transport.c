/* HTTP transport: URL building, one request over the client's reused curl
 * handle, JSON in and out, and the retry policy. */
#include "client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE_BYTES (64u << 20)
#define RETRY_FIRST_DELAY_MS 100
#define RETRY_MAX_DELAY_MS 5000

/* ---------------------------------------------------------- strings */

static int append(char **s, size_t *len, const char *add, size_t n) {
  char *grown = realloc(*s, *len + n + 1);
  if (!grown)
    return -1;
  memcpy(grown + *len, add, n);
  *len += n;
  grown[*len] = '\0';
  *s = grown;
  return 0;
}

static int append_escaped(struct mn_client *c, char **s, size_t *len, const char *raw) {
  char *esc = curl_easy_escape(c->curl, raw, 0);
  int rc;
  if (!esc)
    return -1;
  rc = append(s, len, esc, strlen(esc));
  curl_free(esc);
  return rc;
}

char *mn_client__path(struct mn_client *c, const char *fmt, ...) {
  char *out = NULL;
  size_t len = 0;
  va_list ap;
  const char *p = fmt;

  va_start(ap, fmt);
  if (append(&out, &len, "", 0) < 0)
    goto fail;
  while (*p) {
    const char *hole = strstr(p, "%s");
    size_t n = hole ? (size_t)(hole - p) : strlen(p);
    if (append(&out, &len, p, n) < 0)
      goto fail;
    if (!hole)
      break;
    const char *arg = va_arg(ap, const char *);
    if (!arg || append_escaped(c, &out, &len, arg) < 0)
      goto fail;
    p = hole + 2;
  }
  va_end(ap);
  return out;

fail:
  va_end(ap);
  free(out);
  return NULL;
}

int mn_client__query_add(struct mn_client *c, char **path, const char *key, const char *value) {
  size_t len = strlen(*path);
  const char *sep = strchr(*path, '?') ? "&" : "?";
  if (append(path, &len, sep, 1) < 0 || append_escaped(c, path, &len, key) < 0 ||
      append(path, &len, "=", 1) < 0 || append_escaped(c, path, &len, value) < 0)
    return MN_CLIENT_E_NOMEM;
  return 0;
}

/* ---------------------------------------------------------- one request */

struct response {
  char *data;
  size_t len;
  int too_large;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct response *r = userdata;
  size_t n = size * nmemb;
  if (r->len + n > MAX_RESPONSE_BYTES) {
    r->too_large = 1;
    return 0;
  }
  if (append(&r->data, &r->len, ptr, n) < 0)
    return 0;
  return n;
}

static void set_method(CURL *h, const char *method, const char *body) {
  int is_get = strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0;
  if (is_get) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
    return;
  }
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") ? method : NULL);
}

/* Returns 0 with *status set, or MN_CLIENT_E_TRANSPORT / _NOMEM. */
static int perform(struct mn_client *c, const char *method, const char *url, const char *body,
                   struct response *resp, long *status, struct mn_client_error *err) {
  CURL *h = c->curl;
  CURLcode cc;

  c->curl_errbuf[0] = '\0';
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "multinode-client/1");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->request_timeout_ms);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
  set_method(h, method, body);

  cc = curl_easy_perform(h);
  if (cc != CURLE_OK) {
    if (resp->too_large)
      return mn_client__fail(err, MN_CLIENT_E_PROTOCOL, "%s %s: response larger than %u bytes",
                             method, url, MAX_RESPONSE_BYTES);
    mn_client__fail(err, MN_CLIENT_E_TRANSPORT, "%s",
                    c->curl_errbuf[0] ? c->curl_errbuf : curl_easy_strerror(cc));
    if (err)
      err->transport = (int)cc;
    return MN_CLIENT_E_TRANSPORT;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  return 0;
}

/* ---------------------------------------------------------- retry policy */

static int unreachable(int cc) {
  return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
         cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* The connection broke or timed out after the request may have been sent. */
static int broken(int cc) {
  return cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
         cc == CURLE_PARTIAL_FILE || cc == CURLE_OPERATION_TIMEDOUT;
}

static int should_retry(const char *method, int rc, long status, const struct mn_client_error *e) {
  int is_post = strcmp(method, "POST") == 0;
  if (rc == MN_CLIENT_E_TRANSPORT)
    return unreachable(e->transport) || (!is_post && broken(e->transport));
  if (rc == 0)
    return status == 502 || status == 503 || (!is_post && status == 504);
  return 0;
}

int mn_client__call(struct mn_client *c, const char *method, const char *path,
                    const json_t *body, json_t **out, struct mn_client_error *err) {
  struct mn_client_error local;
  struct mn_client_error *e = err ? err : &local;
  struct response resp = {0};
  char *url = NULL;
  char *text = NULL;
  long status = 0;
  long delay = RETRY_FIRST_DELAY_MS;
  long long start = mn_client__now_ms();
  int attempts = 0;
  int rc;

  if (out)
    *out = NULL;
  mn_client__error_clear(e);
  if (body) {
    text = json_dumps(body, JSON_COMPACT);
    if (!text) {
      rc = mn_client__fail(e, MN_CLIENT_E_NOMEM, "cannot encode the request body");
      goto done;
    }
  }
  url = malloc(strlen(c->api_url) + strlen(path) + 1);
  if (!url) {
    rc = mn_client__fail(e, MN_CLIENT_E_NOMEM, "out of memory");
    goto done;
  }
  strcpy(url, c->api_url);
  strcat(url, path);

  for (;;) {
    free(resp.data);
    memset(&resp, 0, sizeof resp);
    attempts++;
    rc = perform(c, method, url, text, &resp, &status, e);
    if (!c->retry || !should_retry(method, rc, status, e))
      break;
    if (mn_client__now_ms() - start + delay > c->retry_deadline_ms)
      break;
    mn_client__sleep_ms(delay);
    delay = delay * 2 > RETRY_MAX_DELAY_MS ? RETRY_MAX_DELAY_MS : delay * 2;
  }
  if (rc < 0)
    goto note_attempts;

  if (status < 200 || status > 299) {
    rc = mn_client__http_error(e, status, resp.data, resp.len);
    goto note_attempts;
  }
  if (out) {
    json_error_t jerr;
    *out = resp.len ? json_loadb(resp.data, resp.len, 0, &jerr) : NULL;
    if (!*out)
      rc = mn_client__fail(e, MN_CLIENT_E_PROTOCOL, "%s %s: the response is not JSON: %s",
                           method, path, resp.len ? jerr.text : "empty body");
  }
  goto done;

note_attempts:
  if (attempts > 1 && rc == MN_CLIENT_E_TRANSPORT) {
    size_t n = strlen(e->detail);
    snprintf(e->detail + n, sizeof e->detail - n, " (gave up after %d attempts in %lld ms)",
             attempts, mn_client__now_ms() - start);
  }
done:
  free(resp.data);
  free(url);
  free(text);
  return rc;
}

int mn_client__call_path(struct mn_client *c, const char *method, char *path,
                         const json_t *body, json_t **out, struct mn_client_error *err) {
  int rc;
  if (!path) {
    if (out)
      *out = NULL;
    return mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
  }
  rc = mn_client__call(c, method, path, body, out, err);
  free(path);
  return rc;
}

int mn_client__bad_arg(struct mn_client_error *err, json_t **out, const char *what) {
  if (out)
    *out = NULL;
  return mn_client__fail(err, MN_CLIENT_E_INVAL, "%s is missing", what);
}
