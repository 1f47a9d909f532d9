/* engine_api.h — the Docker Engine API over its unix socket, through the
 * toolkit's HTTP client (plugins/support/http.h: concurrent calls, idle
 * handles pooled with their connections open). The API version is negotiated on first use from
 * GET /version: the engine's ApiVersion, capped at MN_DOCKER_API_VERSION,
 * becomes the "/vX.Y" prefix of every path. */
#ifndef MN_DOCKER_ENGINE_API_H
#define MN_DOCKER_ENGINE_API_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "http.h"

#define MN_DOCKER_API_VERSION "1.41" /* what this provider is written against */
#define MN_DOCKER_API_MIN "1.25"     /* NanoCpus, StopTimeout, label filters */

struct mn_docker_http {
  char socket[128];
  char name[160];  /* "docker engine at \"<socket>\"", for messages */
  struct mn_http client;
  pthread_mutex_t lock; /* guards prefix */
  char prefix[16]; /* "/v1.41"; "" until negotiated */
};

struct mn_docker_reply {
  long status; /* HTTP status */
  char *body;  /* NUL-terminated; free() it */
  size_t len;
  int64_t retry_after_us; /* the Retry-After of the answer, or -1 */
};

/* Streams a 2xx body to write_cb (curl's signature; an error body is
 * dropped, see *status); returning less than asked stops the transfer,
 * which is then NOT an error. */
typedef mn_http_sink_fn mn_docker_write_fn;

int mn_docker_http_init(struct mn_docker_http *h, const char *socket);
void mn_docker_http_release(struct mn_docker_http *h);

/* METHOD path (relative to the version prefix, with its query) and an
 * optional JSON body. Returns 0 when the engine answered (any status: see
 * reply->status), -1 when it could not be reached (why says so). */
int mn_docker_http_call(struct mn_docker_http *h, const char *method, const char *path,
                        const json_t *body, long timeout_ms, struct mn_docker_reply *reply,
                        char *why, size_t why_size);
/* The same, without a body and with one extra HEADER line ("Name: value"),
 * e.g. X-Registry-Auth for a pull. */
int mn_docker_http_call_header(struct mn_docker_http *h, const char *method, const char *path,
                               const char *header, long timeout_ms,
                               struct mn_docker_reply *reply, char *why, size_t why_size);
/* The same, without a body and with one extra HEADER line ("Name: value"),
 * e.g. X-Registry-Auth for a pull. */
int mn_docker_http_call_header(struct mn_docker_http *h, const char *method, const char *path,
                               const char *header, long timeout_ms,
                               struct mn_docker_reply *reply, char *why, size_t why_size);
int mn_docker_http_stream(struct mn_docker_http *h, const char *method, const char *path,
                          long timeout_ms, mn_docker_write_fn *write_cb, void *ctx,
                          long *status, char *why, size_t why_size);
void mn_docker_reply_release(struct mn_docker_reply *reply);

/* The engine's own message of an error reply ({"message": "..."}), or the
 * body's start; "" when there is none. */
void mn_docker_reply_message(const struct mn_docker_reply *reply, char *out, size_t size);

/* A pooled handle for path (version prefix added) with the client's
 * options, for a transfer driven by the caller (the event stream, the
 * stopper's multi handle); back with mn_http_handle_put(&h->client, ...).
 * NULL when the path is too long or memory runs out. */
CURL *mn_docker_http_handle(struct mn_docker_http *h, const char *path);

#endif
