/* engine_api.c — calls to the Docker Engine API over its unix socket. */
#include "engine_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define CONNECT_TIMEOUT_MS 5000L
#define BODY_MAX (64u * 1024 * 1024)

int mn_docker_http_init(struct mn_docker_http *h, const char *socket) {
  memset(h, 0, sizeof *h);
  if (strlen(socket) >= sizeof h->socket)
    return -1;
  memcpy(h->socket, socket, strlen(socket) + 1);
  snprintf(h->name, sizeof h->name, "docker engine at \"%s\"", h->socket);
  struct mn_http_config cfg = {
      .name = h->name, .unix_socket = h->socket, .connect_timeout_ms = CONNECT_TIMEOUT_MS};
  if (pthread_mutex_init(&h->lock, NULL) != 0)
    return -1;
  if (mn_http_init(&h->client, &cfg) != 0) {
    pthread_mutex_destroy(&h->lock);
    return -1;
  }
  return 0;
}

void mn_docker_http_release(struct mn_docker_http *h) {
  mn_http_release(&h->client);
  pthread_mutex_destroy(&h->lock);
}

/* One request to url_path (no version prefix added): the body kept in
 * reply, or a 2xx body streamed to sink. */
static int perform(struct mn_docker_http *h, const char *method, const char *url_path,
                   const char *body, const char *header, long timeout_ms,
                   mn_docker_write_fn *sink, void *ctx, struct mn_docker_reply *reply, char *why,
                   size_t why_size) {
  char url[4096];
  const char *headers[3];
  size_t n = 0;
  struct mn_http_response r;

  memset(reply, 0, sizeof *reply);
  reply->retry_after_us = -1;
  if (snprintf(url, sizeof url, "http://docker%s", url_path) >= (int)sizeof url) {
    snprintf(why, why_size, "request path too long");
    return -1;
  }
  if (header)
    headers[n++] = header;
  if (body)
    headers[n++] = "Content-Type: application/json";
  headers[n] = NULL;
  struct mn_http_request rq = {
      .method = method,
      .url = url,
      .headers = headers,
      .body = body,
      .timeout_ms = timeout_ms,
      .max_body = BODY_MAX,
      .sink = sink,
      .sink_ctx = ctx,
  };
  if (mn_http_call(&h->client, &rq, &r, why, why_size) != 0)
    return -1;
  reply->status = r.status;
  reply->body = r.body;
  reply->len = r.len;
  reply->retry_after_us = r.retry_after_us;
  return 0;
}

/* "1.41" -> 1041 */
static int version_number(const char *v) {
  int major = 0, minor = 0;
  if (!v || sscanf(v, "%d.%d", &major, &minor) != 2)
    return -1;
  return major * 1000 + minor;
}

static int negotiate(struct mn_docker_http *h, long timeout_ms, char *why, size_t why_size) {
  struct mn_docker_reply reply;
  int rc = -1;

  pthread_mutex_lock(&h->lock);
  int known = h->prefix[0] != '\0';
  pthread_mutex_unlock(&h->lock);
  if (known)
    return 0;
  if (perform(h, "GET", "/version", NULL, NULL, timeout_ms, NULL, NULL, &reply, why, why_size))
    return -1;
  json_t *v = reply.status == 200 ? json_loads(reply.body, 0, NULL) : NULL;
  const char *engine = json_string_value(json_object_get(v, "ApiVersion"));
  int n = version_number(engine);
  if (n < 0) {
    snprintf(why, why_size, "%s: GET /version answered %ld without an ApiVersion", h->name,
             reply.status);
  } else if (n < version_number(MN_DOCKER_API_MIN)) {
    snprintf(why, why_size, "%s speaks API %s; at least %s is needed", h->name, engine,
             MN_DOCKER_API_MIN);
  } else {
    pthread_mutex_lock(&h->lock);
    snprintf(h->prefix, sizeof h->prefix, "/v%s",
             n < version_number(MN_DOCKER_API_VERSION) ? engine : MN_DOCKER_API_VERSION);
    pthread_mutex_unlock(&h->lock);
    rc = 0;
  }
  json_decref(v);
  mn_docker_reply_release(&reply);
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
  struct mn_docker_reply reply;
  *status = 0;
  if (negotiate(h, timeout_ms, why, why_size))
    return -1;
  if (versioned(h, path, full, sizeof full)) {
    snprintf(why, why_size, "request path too long");
    return -1;
  }
  if (perform(h, method, full, NULL, NULL, timeout_ms, write_cb, ctx, &reply, why, why_size))
    return -1;
  *status = reply.status; /* an error body is dropped: the status says enough */
  mn_docker_reply_release(&reply);
  return 0;
}

static int call(struct mn_docker_http *h, const char *method, const char *path,
                const json_t *body, const char *header, long timeout_ms,
                struct mn_docker_reply *reply, char *why, size_t why_size) {
  char full[4096];
  char *text = NULL;

  memset(reply, 0, sizeof *reply);
  reply->retry_after_us = -1;
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
  int rc = perform(h, method, full, text, header, timeout_ms, NULL, NULL, reply, why, why_size);
  free(text);
  return rc;
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

CURL *mn_docker_http_handle(struct mn_docker_http *h, const char *path) {
  char full[2048], url[2100];
  if (versioned(h, path, full, sizeof full) ||
      snprintf(url, sizeof url, "http://docker%s", full) >= (int)sizeof url)
    return NULL;
  return mn_http_handle_get(&h->client, url);
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
