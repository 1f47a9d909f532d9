/* http.c — calls to the Docker Engine API over its unix socket. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_buf.h"

#define CONNECT_TIMEOUT_MS 5000L
#define BODY_MAX (64u * 1024 * 1024)

int mn_docker_http_init(struct mn_docker_http *h, const char *socket) {
  memset(h, 0, sizeof *h);
  if (strlen(socket) >= sizeof h->socket)
    return -1;
  memcpy(h->socket, socket, strlen(socket) + 1);
  return pthread_mutex_init(&h->lock, NULL) == 0 ? 0 : -1;
}

void mn_docker_http_release(struct mn_docker_http *h) {
  for (size_t i = 0; i < h->n_idle; i++)
    curl_easy_cleanup(h->idle[i]);
  h->n_idle = 0;
  pthread_mutex_destroy(&h->lock);
}

static CURL *handle_get(struct mn_docker_http *h) {
  CURL *c = NULL;
  pthread_mutex_lock(&h->lock);
  if (h->n_idle > 0)
    c = h->idle[--h->n_idle];
  pthread_mutex_unlock(&h->lock);
  return c ? c : curl_easy_init();
}

static void handle_put(struct mn_docker_http *h, CURL *c) {
  curl_easy_reset(c); /* keeps the connection cache */
  pthread_mutex_lock(&h->lock);
  if (h->n_idle < MN_DOCKER_POOL_MAX) {
    h->idle[h->n_idle++] = c;
    c = NULL;
  }
  pthread_mutex_unlock(&h->lock);
  if (c)
    curl_easy_cleanup(c);
}


struct stop_aware {
  mn_docker_write_fn *cb;
  void *ctx;
  CURL *easy;
  int filter; /* pass only a 2xx body to cb */
  int stopped; /* the callback asked to stop */
};

static size_t stop_aware_write(char *data, size_t size, size_t n, void *vctx) {
  struct stop_aware *s = vctx;
  if (s->filter) {
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299)
      return size * n; /* an error body: the status says enough */
  }
  size_t got = s->cb(data, size, n, s->ctx);
  if (got != size * n)
    s->stopped = 1;
  return got;
}

/* One request, with no version prefix added. */
static int perform(struct mn_docker_http *h, const char *method, const char *url_path,
                   const char *body, const char *header, long timeout_ms, mn_docker_write_fn *cb, void *ctx,
                   int filter, long *status, char *why, size_t why_size) {
  char url[4096];
  struct curl_slist *headers = NULL;
  struct stop_aware sa = {cb, ctx, NULL, filter, 0};
  int rc = 0;

  *status = 0;
  if (snprintf(url, sizeof url, "http://docker%s", url_path) >= (int)sizeof url) {
    snprintf(why, why_size, "request path too long");
    return -1;
  }
  CURL *c = handle_get(h);
  if (!c) {
    snprintf(why, why_size, "out of memory");
    return -1;
  }
  sa.easy = c;
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->socket);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stop_aware_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sa);
  if (header)
    headers = curl_slist_append(headers, header);
  if (body)
    headers = curl_slist_append(headers, "Content-Type: application/json");
  if (headers)
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
  }
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && sa.stopped)) {
    snprintf(why, why_size, "docker engine at \"%s\": %s", h->socket, curl_easy_strerror(cc));
    rc = -1;
  }
  curl_slist_free_all(headers);
  if (rc == 0)
    handle_put(h, c);
  else
    curl_easy_cleanup(c); /* a broken connection is not reused */
  return rc;
}

/* "1.41" -> 1041 */
static int version_number(const char *v) {
  int major = 0, minor = 0;
  if (!v || sscanf(v, "%d.%d", &major, &minor) != 2)
    return -1;
  return major * 1000 + minor;
}

static int negotiate(struct mn_docker_http *h, long timeout_ms, char *why, size_t why_size) {
  struct mn_body_buf b;
  long status;
  int rc = -1;

  mn_body_buf_init(&b, BODY_MAX);
  pthread_mutex_lock(&h->lock);
  int known = h->prefix[0] != '\0';
  pthread_mutex_unlock(&h->lock);
  if (known)
    return 0;
  if (perform(h, "GET", "/version", NULL, NULL, timeout_ms, mn_body_buf_write, &b, 0, &status, why, why_size))
    goto done;
  json_t *v = status == 200 && b.data ? json_loads(b.data, 0, NULL) : NULL;
  const char *engine = json_string_value(json_object_get(v, "ApiVersion"));
  int n = version_number(engine);
  if (n < 0) {
    snprintf(why, why_size, "docker engine at \"%s\": GET /version answered %ld without an "
             "ApiVersion", h->socket, status);
  } else if (n < version_number(MN_DOCKER_API_MIN)) {
    snprintf(why, why_size, "docker engine at \"%s\" speaks API %s; at least %s is needed",
             h->socket, engine, MN_DOCKER_API_MIN);
  } else {
    pthread_mutex_lock(&h->lock);
    snprintf(h->prefix, sizeof h->prefix, "/v%s",
             n < version_number(MN_DOCKER_API_VERSION) ? engine : MN_DOCKER_API_VERSION);
    pthread_mutex_unlock(&h->lock);
    rc = 0;
  }
  json_decref(v);
done:
  mn_body_buf_release(&b);
  return rc;
}

static int versioned(struct mn_docker_http *h, const char *path, char *out, size_t size) {
  pthread_mutex_lock(&h->lock);
  int n = snprintf(out, size, "%s%s", h->prefix, path);
  pthread_mutex_unlock(&h->lock);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

int mn_docker_http_stream(struct mn_docker_http *h, const char *method, const char *path,
                          long timeout_ms, mn_docker_write_fn *write_cb, void *ctx,
                          long *status, char *why, size_t why_size) {
  char full[4096];
  *status = 0;
  if (negotiate(h, timeout_ms, why, why_size))
    return -1;
  if (versioned(h, path, full, sizeof full)) {
    snprintf(why, why_size, "request path too long");
    return -1;
  }
  return perform(h, method, full, NULL, NULL, timeout_ms, write_cb, ctx, 1, status, why, why_size);
}

static int call(struct mn_docker_http *h, const char *method, const char *path,
                const json_t *body, const char *header, long timeout_ms,
                struct mn_docker_reply *reply, char *why, size_t why_size) {
  char full[4096];
  struct mn_body_buf b;
  char *text = NULL;
  int rc;

  memset(reply, 0, sizeof *reply);
  mn_body_buf_init(&b, BODY_MAX);
  if (negotiate(h, timeout_ms, why, why_size))
    return -1;
  if (versioned(h, path, full, sizeof full)) {
    snprintf(why, why_size, "request path too long");
    return -1;
  }
  if (body && !(text = json_dumps(body, JSON_COMPACT))) {
    snprintf(why, why_size, "out of memory");
    return -1;
  }
  rc = perform(h, method, full, text, header, timeout_ms, mn_body_buf_write, &b, 0, &reply->status, why,
               why_size);
  free(text);
  if (rc == 0 && b.too_big) {
    snprintf(why, why_size, "docker engine: %s %s answered more than %u bytes", method, path,
             BODY_MAX);
    rc = -1;
  }
  if (rc != 0) {
    mn_body_buf_release(&b);
    return rc;
  }
  reply->len = b.len;
  reply->body = b.data ? mn_body_buf_take(&b) : calloc(1, 1);
  if (!reply->body) {
    snprintf(why, why_size, "out of memory");
    return -1;
  }
  return 0;
}

int mn_docker_http_call(struct mn_docker_http *h, const char *method, const char *path,
                        const json_t *body, long timeout_ms, struct mn_docker_reply *reply,
                        char *why, size_t why_size) {
  return call(h, method, path, body, NULL, timeout_ms, reply, why, why_size);
}

int mn_docker_http_call_header(struct mn_docker_http *h, const char *method, const char *path,
                               const char *header, long timeout_ms,
                               struct mn_docker_reply *reply, char *why, size_t why_size) {
  return call(h, method, path, NULL, header, timeout_ms, reply, why, why_size);
}

void mn_docker_reply_release(struct mn_docker_reply *reply) {
  free(reply->body);
  memset(reply, 0, sizeof *reply);
}

void mn_docker_reply_message(const struct mn_docker_reply *reply, char *out, size_t size) {
  out[0] = '\0';
  if (!reply->body || !reply->body[0])
    return;
  json_t *j = json_loads(reply->body, 0, NULL);
  const char *m = json_string_value(json_object_get(j, "message"));
  if (m)
    snprintf(out, size, "%s", m);
  else
    snprintf(out, size, "%.200s", reply->body);
  json_decref(j);
  size_t n = strlen(out);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    out[--n] = '\0';
}

int mn_docker_url_escape(const char *s, char *out, size_t size) {
  char *e = curl_easy_escape(NULL, s, 0); /* the handle is unused since curl 7.82 */
  int rc = e && strlen(e) < size ? 0 : -1;
  if (rc == 0)
    memcpy(out, e, strlen(e) + 1);
  curl_free(e);
  return rc;
}
