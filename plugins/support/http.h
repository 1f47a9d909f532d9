/* http.h — the providers' one HTTP client, over libcurl (part of the
 * provider toolkit, plugins/support; usable by providers built outside this
 * tree).
 *
 * One struct mn_http per provider instance and endpoint. Idle easy handles
 * wait in a small pool, and each keeps its connection cache and TLS session:
 * a provider's calls reuse their connections (one handshake, not one per
 * call). Calls may run concurrently from any thread. Every call has a
 * time-out, a bounded body, and hands back the Retry-After of the answer.
 *
 *     struct mn_http h;
 *     struct mn_http_config cfg = {.name = "nomad API", .user_agent = "multinoded-nomad/1"};
 *     mn_http_init(&h, &cfg);
 *     struct mn_http_request rq = {.method = "GET", .url = "https://nomad:4646/v1/jobs",
 *                                  .timeout_ms = 30000};
 *     struct mn_http_response r;
 *     if (mn_http_call(&h, &rq, &r, why, sizeof why) == 0) {
 *       ...r.status, r.body, r.retry_after_us...
 *       mn_http_response_release(&r);
 *     }
 *     mn_http_release(&h);
 *
 * What an answer's status means for the daemon is mn_http_status_code(). */
#ifndef MN_SUPPORT_HTTP_H
#define MN_SUPPORT_HTTP_H

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define MN_HTTP_POOL_MAX 16
#define MN_HTTP_BODY_MAX_DEFAULT (16u << 20)

/* TLS of an https endpoint. Blobs (PEM) and strings are borrowed: they
 * must outlive the client. NULL / 0: libcurl's default (the system CAs, no
 * client certificate). */
struct mn_http_tls {
  int insecure; /* no verification of the server (kubeconfig's insecure-skip-tls-verify) */
  const void *ca_data;
  size_t ca_len;
  const char *ca_file;
  const void *cert_data;
  size_t cert_len;
  const char *cert_file;
  const void *key_data;
  size_t key_len;
  const char *key_file;
};

struct mn_http_config {
  const char *name;        /* in messages: "docker engine at ..." ; borrowed */
  const char *unix_socket; /* talk over this unix socket instead of TCP; borrowed */
  const char *user_agent;  /* borrowed; NULL: libcurl's none */
  long connect_timeout_ms; /* 0: 10 s */
  int no_proxy;            /* never through a proxy (link-local endpoints) */
  struct mn_http_tls tls;
};

struct mn_http {
  struct mn_http_config conf;
  pthread_mutex_t lock;
  CURL *idle[MN_HTTP_POOL_MAX];
  size_t n_idle;
  uint64_t connects; /* new connections opened so far (each a TLS handshake on https) */
};

/* Streams the body of a 2xx answer (libcurl's write callback signature; a
 * non-2xx body is kept in the response instead). Returning less than
 * size * n stops the transfer, which is then NOT an error. */
typedef size_t mn_http_sink_fn(char *data, size_t size, size_t n, void *ctx);

struct mn_http_request {
  const char *method;         /* "GET", "POST", ... */
  const char *url;            /* over a unix socket: "http://localhost/path" */
  const char *const *headers; /* "Name: value", NULL-terminated; or NULL */
  const char *body;           /* NULL: none (a POST/PUT/PATCH then sends an empty one) */
  size_t body_len;            /* 0 with a body: strlen(body) */
  long timeout_ms;            /* the whole exchange; 0: no limit */
  size_t max_body;            /* 0: MN_HTTP_BODY_MAX_DEFAULT */
  const char *capture;        /* a header whose value to keep ("x-amzn-ErrorType"), or NULL */
  /* AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:<region>:<service>"),
   * with the access key as user and the secret key as password; or NULL. */
  const char *aws_sigv4;
  const char *user;
  const char *password;
  mn_http_sink_fn *sink; /* stream a 2xx body here instead of keeping it; or NULL */
  void *sink_ctx;
};

struct mn_http_response {
  long status;            /* the HTTP status */
  char *body;             /* NUL-terminated, never NULL; free with mn_http_response_release */
  size_t len;
  int64_t retry_after_us; /* the Retry-After header (seconds or a date), or -1 */
  char captured[256];     /* the value of request.capture, or "" */
};

/* Copies cfg (its strings stay borrowed). 0, or -1 when out of resources. */
int mn_http_init(struct mn_http *h, const struct mn_http_config *cfg);
void mn_http_release(struct mn_http *h);

/* Performs the request. Returns 0 when the server answered, whatever the
 * status; -1 with why ("<name>: <reason>") when it could not be reached,
 * timed out, or its answer passed max_body. */
int mn_http_call(struct mn_http *h, const struct mn_http_request *req,
                 struct mn_http_response *resp, char *why, size_t why_size);
void mn_http_response_release(struct mn_http_response *resp);

/* A handle from the pool with the client's options set (socket, TLS,
 * connect time-out, user agent, no signals) and url, for a transfer the
 * provider drives itself (an endless event stream, a multi handle). Give it
 * back with mn_http_handle_put: reuse 1 keeps its connection for later
 * calls, 0 closes it (after an error). NULL when out of memory. */
CURL *mn_http_handle_get(struct mn_http *h, const char *url);
void mn_http_handle_put(struct mn_http *h, CURL *c, int reuse);

/* The connections the client opened so far (CURLINFO_NUM_CONNECTS summed
 * over its calls): on https, its TLS handshakes. */
uint64_t mn_http_connects(struct mn_http *h);

/* Percent-encodes s into out (for query values). -1 when it does not fit. */
int mn_http_escape(const char *s, char *out, size_t size);

/* What an answer's status means (MN_PROVIDER_E_* or 0): 2xx and 3xx 0;
 * 404 and 410 NOT_FOUND; 401 and 403 AUTH; 408, 429 and 5xx (and 0, no
 * answer) TRANSIENT; any other 4xx INVALID. overrides, when not NULL, is a
 * list ended by {0, 0} that takes precedence (a provider's own meaning of a
 * status). 429 is TRANSIENT everywhere: the answer's retry_after_us says
 * when to try again. */
struct mn_http_status_rule {
  long status;
  int code;
};
int mn_http_status_code(long status, const struct mn_http_status_rule *overrides);

#endif
