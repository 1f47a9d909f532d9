/* The REST server: libmicrohttpd with an epoll thread pool for network I/O,
 * routing through the one route table, Bearer auth, bounded request bodies,
 * one log line per request. Handlers (which block on the database) run on a
 * separate pool: the connection is suspended meanwhile and resumed with its
 * response ready, so one slow call never stalls the other connections that
 * share its I/O thread. */
#include "api/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api_keys.h"
#include "api/dispatch.h"
#include "api/edge.h"
#include "api/metrics_http.h"
#include "api/events.h"
#include "api/mhd_errors.h"
#include "api/openapi.h"
#include "api/ui.h"
#include "metrics/metrics.h"
#include "multinode/common/limits.h"
#include "scheduler/pool.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"
#include "util/token.h"

#define DEFAULT_THREADS 4
#define LISTEN_BACKLOG 1024
/* libmicrohttpd's memory pool per connection (MHD_OPTION_CONNECTION_MEMORY_LIMIT,
 * 32 KiB by default): a request's line and headers must fit in it, with
 * the response's headers. It reads into half of it and, once the request
 * is in, zeroes the unread part of that half (and all of it between two
 * requests of a kept-alive connection): an open event stream keeps that
 * much resident, plus the pages the rest straddles. At 10 KiB a request
 * head of up to 9.9 KiB in all (8.7 KiB in 20 headers) is served, nginx's
 * default being 8 KiB for one line; an idle stream costs 11 KiB (24 KiB at
 * the default). docs/events.md has the measurements. */
#define DEFAULT_CONNECTION_POOL_BYTES (10 * 1024) /* server.connection_memory_kib */
#define DRAIN_SEND_SECONDS 5 /* at stop, for answers handed back to be sent */

struct mn_api {
  struct MHD_Daemon *daemon;
  struct mn_api_ctx ctx;
  struct mn_pool *workers;
  pthread_mutex_t mu; /* guards stopping and in_flight */
  pthread_cond_t idle;
  bool stopping;
  size_t in_flight; /* requests handed to the workers, connection suspended */
  size_t answering; /* handed back by a worker, the response not yet sent */
  struct mn_api_keys *keys; /* operator keys; swapped on SIGHUP under keys_mu */
  pthread_mutex_t keys_mu;
  size_t max_body;
  size_t max_discard; /* past this much of a refused body the connection is closed */
  char *openapi;      /* the document, serialised once */
  size_t openapi_len;
  int port;
  struct mn_edge *edge; /* connection limits and request deadlines */
  struct mn_events *events; /* event streams and waits (api/events.h) */
  size_t max_streams;
  size_t pool_bytes; /* MHD_OPTION_CONNECTION_MEMORY_LIMIT */
  pthread_mutex_t log_mu; /* guards the three below (on_mhd_log) */
  int64_t log_window_us;
  unsigned log_count, log_suppressed;
  size_t max_connections;
  int64_t request_timeout_ms;
  char *tls_cert, *tls_key; /* PEM, when serving HTTPS */
  bool metrics_public;      /* GET /metrics without a key */
};

/* One HTTP request, from its headers to its completion. */
struct request_state {
  struct mn_api *api;
  struct MHD_Connection *conn;
  int64_t start_us;
  enum mn_http_method method;
  int pending;     /* an error decided before the body arrived, or 0 */
  bool responded;  /* a response is queued */
  bool openapi;    /* GET /openapi.json */
  bool metrics;    /* GET /metrics (api/metrics_http.h) */
  const struct mn_ui_asset *asset; /* a file of the dashboard (api/ui.h) */
  bool ready;      /* out holds the response (set by a worker) */
  bool begun;      /* the first call (headers complete) has been made */
  bool close;      /* the framing was ambiguous: close after the answer */
  bool authenticated; /* passed the key check (the edge trusts the connection) */
  struct mn_events_wait *wait; /* a ?wait_seconds GET waiting (in flight meanwhile) */
  struct mn_api_output early; /* a 400/422 decided from the headers, or empty */
  struct mn_api_output out;
  char *body;
  size_t body_len, body_cap;
  size_t discarded; /* bytes dropped after an error was decided */
  struct mn_api_request req;
  char *route_path; /* a second copy, cut into segments; the params point into it */
  char *target;     /* the request target as sent (path and query, undecoded) */
  size_t cap;       /* bytes for each of path and route_path */
  char path[];      /* the decoded path as it arrived, then route_path's bytes,
                       then target's */
};

/* The route a request is counted under (metrics/metrics.h). */
static int metrics_route(const struct request_state *st) {
  if (st->req.route)
    return (int)(st->req.route - mn_api_routes);
  if (st->method != MN_HTTP_GET) /* the extra routes are GET only */
    return MN_METRICS_ROUTE_NONE;
  return st->openapi  ? MN_METRICS_ROUTE_OPENAPI
         : st->metrics ? MN_METRICS_ROUTE_METRICS
         : st->asset   ? MN_METRICS_ROUTE_UI
                       : MN_METRICS_ROUTE_NONE;
}

static void log_request(const struct request_state *st, const char *method, int status) {
  mn_metrics_http(metrics_route(st), status, mn_monotonic_us() - st->start_us);
  if (MN_LOG_INFO > mn_log_threshold)
    return;
  /* the path as it arrived, up to 511 bytes (the log escapes it) */
  mn_log_info("api", "%s %.511s %d %lldus", method, st->path, status,
              (long long)(mn_monotonic_us() - st->start_us));
}

/* Queues text as the response; MUST_FREE text is owned from here on. */
static enum MHD_Result queue_text(struct MHD_Connection *conn, struct request_state *st,
                                  const char *method, int status, char *text, size_t len,
                                  enum MHD_ResponseMemoryMode mode) {
  static const char internal[] = "{\"detail\":\"Internal Server Error\"}";
  if (!text) {
    text = (char *)internal;
    len = sizeof internal - 1;
    mode = MHD_RESPMEM_PERSISTENT;
    status = 500;
  }
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, mode);
  if (!resp) {
    if (mode == MHD_RESPMEM_MUST_FREE)
      free(text);
    return MHD_NO;
  }
  const char *type = "application/json";
  if (st->asset && status == 200) {
    type = st->asset->content_type;
    MHD_add_response_header(resp, "Content-Security-Policy", MN_UI_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  } else if (st->metrics && status == 200) {
    type = MN_METRICS_CONTENT_TYPE;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (st->close)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  /* past the key check and not refused by it: the edge may trust the
   * connection from now on */
  st->authenticated = st->authenticated && status != 401 && status != 403;
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
  MHD_destroy_response(resp);
  st->responded = true;
  log_request(st, method, status);
  return ret;
}

/* The block of an event stream's response: libmicrohttpd allocates (and
 * zeroes) this much with each stream's response, but uses it only for an
 * HTTP/1.0 client; over HTTP/1.1 the stream is chunked and the callback
 * writes into the connection's own buffer. So it is small: 2 KiB cost an
 * idle stream 1.9 KiB more (docs/events.md). */
#define STREAM_BLOCK 256

/* An event stream (api/events.h): read from the stream's queue through
 * libmicrohttpd's content callback, which suspends the connection while
 * the queue is empty. It no longer counts against the edge's connections
 * for requests (its own limit is the stream limit). */
static enum MHD_Result queue_stream(struct MHD_Connection *conn, struct request_state *st,
                                    const char *method) {
  struct mn_event_stream *s = st->out.stream;
  st->out.stream = NULL;
  struct MHD_Response *resp = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, STREAM_BLOCK, mn_events_stream_read, s, mn_events_stream_release);
  if (!resp) {
    mn_events_stream_discard(s);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  MHD_add_response_header(resp, "X-Accel-Buffering", "no");
  mn_events_stream_attach(s, conn);
  mn_edge_stream_begun(st->api->edge, conn);
  enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
  MHD_destroy_response(resp);
  st->responded = true;
  log_request(st, method, 200);
  return ret;
}

static enum MHD_Result queue_output(struct MHD_Connection *conn, struct request_state *st,
                                    const char *method, struct mn_api_output *out) {
  if (out->stream)
    return queue_stream(conn, st, method);
  mn_events_wait_free(out->wait); /* answered now, whatever it waited for */
  out->wait = NULL;
  char *text = out->text;
  out->text = NULL;
  return queue_text(conn, st, method, out->status, text, out->len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, struct request_state *st,
                                   const char *method, int code) {
  struct mn_api_output out;
  mn_api_output_error(code, &out);
  return queue_output(conn, st, method, &out);
}

/* HTTPBearer as FastAPI has it, then the key in constant time: the
 * operator's key, or the shape of an execution's key, whose owner and scope
 * the dispatcher checks (it needs the database). */
static int check_auth(const struct mn_api *api, struct MHD_Connection *conn,
                      struct mn_principal *who) {
  const char *header =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!header)
    return MN_ENOT_AUTHENTICATED;
  const char *space = strchr(header, ' ');
  if (!space || space == header || space[1] == '\0')
    return MN_ENOT_AUTHENTICATED;
  if (space - header != 6 || strncasecmp(header, "bearer", 6) != 0)
    return MN_EBAD_CREDENTIALS;
  const char *key = space + 1;
  size_t len = strlen(key);
  pthread_mutex_lock((pthread_mutex_t *)&api->keys_mu);
  struct mn_api_keys *keys = mn_api_keys_ref(api->keys);
  pthread_mutex_unlock((pthread_mutex_t *)&api->keys_mu);
  const struct mn_api_key_entry *entry = mn_api_keys_match(keys, key, len);
  if (entry) {
    who->kind = entry->role == MN_ROLE_ADMIN ? MN_PRINCIPAL_ADMIN : MN_PRINCIPAL_OPERATOR;
    who->key = entry;
    who->keys = keys;
    return 0;
  }
  mn_api_keys_unref(keys);
  if (mn_token_is_execution(key)) {
    who->kind = MN_PRINCIPAL_EXECUTION;
    mn_token_hash(key, len, who->key_hash);
    return 0;
  }
  return MN_EAPI_KEY_INVALID;
}

/* Whether a body follows the headers, and its announced size (or 0). */
static bool announced_body(struct MHD_Connection *conn, unsigned long long *length) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  *length = cl ? strtoull(cl, NULL, 10) : 0;
  if (*length > 0)
    return true;
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static const char *query_value(void *cls, const char *key) {
  return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

static const char *header_value(void *cls, const char *name) {
  return MHD_lookup_connection_value(cls, MHD_HEADER_KIND, name);
}

static enum MHD_Result count_content_length(void *cls, enum MHD_ValueKind kind,
                                           const char *key, const char *value) {
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
    (*(int *)cls)++;
  return MHD_YES;
}

/* Where a body ends must be beyond doubt (request smuggling): two
 * Content-Length headers, or one beside Transfer-Encoding, are refused with
 * 400 and the connection is closed after the answer. true: refused. */
static bool check_framing(struct MHD_Connection *conn, struct request_state *st) {
  int n = 0;
  MHD_get_connection_values(conn, MHD_HEADER_KIND, count_content_length, &n);
  bool chunked = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
  if (n < 2 && !(n == 1 && chunked))
    return false;
  st->close = true;
  mn_api_output_json(400,
                     json_pack("{s:s}", "detail",
                               n > 1 ? "The request has more than one Content-Length header"
                                     : "The request has both Content-Length and "
                                       "Transfer-Encoding headers"),
                     &st->early);
  return true;
}

/* No control character anywhere in the target, %00 included (the decoded
 * path would end there). true: refused with 422. */
static bool check_target(struct request_state *st) {
  struct mn_api_response res = {0};
  if (mn_api_check_target(st->target, &res) == 0)
    return false;
  mn_api_output_json(res.status, res.body, &st->early);
  return true;
}

/* GET /metrics: any operator key that may see every project (every role
 * reads), or none with server.metrics.public (docs/observability.md). */
static int check_metrics_auth(struct mn_api *api, struct MHD_Connection *conn,
                              struct request_state *st) {
  if (api->metrics_public)
    return 0;
  int rc = check_auth(api, conn, &st->req.principal);
  if (rc != 0)
    return rc;
  const struct mn_api_key_entry *key = st->req.principal.key;
  if (st->req.principal.kind == MN_PRINCIPAL_EXECUTION || (key && key->projects))
    return MN_EAPI_KEY_INVALID;
  st->authenticated = true;
  return 0;
}

/* The first call for a request: route, auth and the announced size are
 * decided before any of the body is read. An error for a POST/PUT that
 * carries a body is answered at once (MHD then closes the connection
 * without reading the body); one without a body waits for the final call
 * so the connection stays alive. */
static enum MHD_Result begin(struct mn_api *api, struct MHD_Connection *conn,
                             struct request_state *st, const char *method) {
  unsigned long long length;
  bool has_body = announced_body(conn, &length);
  int rc;
  if (check_framing(conn, st) || check_target(st)) {
    if (has_body || st->close)
      return queue_output(conn, st, method, &st->early);
    st->pending = MN_EINVAL;
    return MHD_YES;
  }
  if (strcmp(st->path, "/openapi.json") == 0)
    rc = st->method == MN_HTTP_GET ? (st->openapi = true, 0) : MN_EMETHOD;
  else if ((st->metrics = strcmp(st->path, "/metrics") == 0))
    rc = st->method == MN_HTTP_GET ? check_metrics_auth(api, conn, st) : MN_EMETHOD;
  else if ((st->asset = mn_ui_find(st->path)) != NULL)
    rc = st->method == MN_HTTP_GET ? 0 : MN_EMETHOD;
  else
    rc = mn_route_match(st->method, st->route_path, &st->req);
  if (rc == 0 && st->req.route && !st->req.route->no_auth)
    rc = check_auth(api, conn, &st->req.principal);
  if (rc == 0 && st->req.route && !st->req.route->no_auth)
    st->authenticated = true;
  if (rc == 0 && length > api->max_body)
    rc = MN_ETOOLARGE;
  if (rc == 0)
    return MHD_YES;
  if (has_body)
    return queue_error(conn, st, method, rc);
  st->pending = rc;
  return MHD_YES;
}

static int append_body(struct mn_api *api, struct request_state *st, const char *data,
                       size_t size) {
  if (size > api->max_body - st->body_len)
    return MN_ETOOLARGE;
  if (st->body_len + size > st->body_cap) {
    size_t cap = st->body_cap ? st->body_cap : 1024;
    while (cap < st->body_len + size)
      cap *= 2;
    if (cap > api->max_body)
      cap = api->max_body;
    char *grown = realloc(st->body, cap);
    if (!grown)
      return MN_ENOMEM;
    st->body = grown;
    st->body_cap = cap;
  }
  memcpy(st->body + st->body_len, data, size);
  st->body_len += size;
  return 0;
}

/* On a worker: runs the handler, then hands the connection back to MHD,
 * which calls on_request again and sends st->out. */
static void run_request(struct mn_api *api, struct request_state *st) {
  if (st->metrics)
    mn_api_metrics_output(api->ctx.store, &st->out);
  else
    mn_api_dispatch(&api->ctx, &st->req, st->body, st->body_len, &st->out);
}

static void run_on_worker(void *arg);

/* A waiting GET's end, deadline or the daemon's stop (any thread): run it
 * again on a worker; it answers with the state then. */
static void wait_over(void *arg) {
  struct request_state *st = arg;
  if (mn_pool_submit(st->api->workers, run_on_worker, st) != 0)
    run_on_worker(st);
}

static void run_on_worker(void *arg) {
  struct request_state *st = arg;
  struct mn_api *api = st->api; /* st may be gone once the connection resumes */
  if (st->wait) { /* the second run of a waiting GET */
    mn_events_wait_free(st->wait);
    st->wait = NULL;
    st->req.waited = true;
    free(st->out.text);
    st->out = (struct mn_api_output){0};
  }
  run_request(api, st);
  if (st->out.wait) { /* still in flight, the connection still suspended */
    st->wait = st->out.wait;
    st->out.wait = NULL;
    mn_events_wait_arm(st->wait, wait_over, st);
    return;
  }
  pthread_mutex_lock(&api->mu);
  st->ready = true;
  api->answering++;
  MHD_resume_connection(st->conn);
  if (--api->in_flight == 0)
    pthread_cond_broadcast(&api->idle);
  pthread_mutex_unlock(&api->mu);
}

/* The final call: the whole body is here. */
static enum MHD_Result finish(struct mn_api *api, struct MHD_Connection *conn,
                              struct request_state *st, const char *method) {
  mn_edge_request_received(api->edge, conn);
  if (st->pending && st->early.text)
    return queue_output(conn, st, method, &st->early);
  if (st->pending)
    return queue_error(conn, st, method, st->pending);
  if (st->openapi)
    return queue_text(conn, st, method, 200, api->openapi, api->openapi_len,
                      MHD_RESPMEM_PERSISTENT);
  if (st->asset)
    return queue_text(conn, st, method, 200, (char *)st->asset->data, st->asset->len,
                      MHD_RESPMEM_PERSISTENT);
  if (st->ready)
    return queue_output(conn, st, method, &st->out);
  st->api = api;
  st->conn = conn;
  st->req.query = query_value;
  st->req.header = header_value;
  st->req.query_cls = conn;
  if (st->req.route && st->req.route->from_memory) { /* never queued behind the database */
    mn_api_dispatch(&api->ctx, &st->req, st->body, st->body_len, &st->out);
    return queue_output(conn, st, method, &st->out);
  }
  /* under mu, so the worker's resume cannot come before this suspend */
  bool handed_off = false;
  pthread_mutex_lock(&api->mu);
  if (!api->stopping && mn_pool_submit(api->workers, run_on_worker, st) == 0) {
    MHD_suspend_connection(conn);
    api->in_flight++;
    handed_off = true;
  }
  pthread_mutex_unlock(&api->mu);
  if (handed_off)
    return MHD_YES;
  /* stopping (or the pool refused): run it on this thread */
  run_request(api, st);
  return queue_output(conn, st, method, &st->out);
}

/* A request's state, made as soon as its request line is read (MHD's URI
 * log callback, which sees the target before it is decoded): room for the
 * target and two copies of the decoded path, which is never longer. */
static struct request_state *request_new(const char *target) {
  size_t len = strlen(target);
  struct request_state *st = calloc(1, sizeof *st + 3 * (len + 1));
  if (!st)
    return NULL;
  st->start_us = mn_monotonic_us();
  st->cap = len + 1;
  st->route_path = st->path + st->cap;
  st->target = st->path + 2 * st->cap;
  memcpy(st->target, target, len + 1);
  return st;
}

static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn) {
  return request_new(uri);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  struct mn_api *api = cls;
  struct request_state *st = *con_cls;
  if (!st && !(st = *con_cls = request_new(url)))
    return MHD_NO;
  if (!st->begun) {
    size_t len = strlen(url);
    if (len >= st->cap)
      return MHD_NO; /* cannot be: decoding never lengthens the path */
    st->begun = true;
    st->method = mn_http_method_parse(method);
    memcpy(st->path, url, len + 1);
    memcpy(st->route_path, url, len + 1);
    return begin(api, conn, st, method);
  }
  if (*upload_data_size > 0) {
    size_t size = *upload_data_size;
    *upload_data_size = 0;
    if (!st->responded && !st->pending) {
      int rc = append_body(api, st, upload_data, size);
      if (rc == 0)
        return MHD_YES;
      st->pending = rc; /* answered once the request is complete */
      size += st->body_len;
      free(st->body);
      st->body = NULL;
      st->body_len = st->body_cap = 0;
    }
    /* MHD 0.9 cannot answer in the middle of a body: the rest is read and
     * dropped, up to a bound past which the connection is simply closed */
    st->discarded += size;
    return st->discarded > api->max_discard ? MHD_NO : MHD_YES;
  }
  if (st->responded)
    return MHD_YES;
  return finish(api, conn, st, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  struct mn_api *api = cls;
  struct request_state *st = *con_cls;
  mn_edge_request_done(api->edge, conn, st && st->authenticated);
  if (!st)
    return;
  if (st->ready) {
    pthread_mutex_lock(&api->mu);
    if (--api->answering == 0)
      pthread_cond_broadcast(&api->idle);
    pthread_mutex_unlock(&api->mu);
  }
  mn_api_keys_unref(st->req.principal.keys);
  mn_events_stream_discard(st->out.stream);
  mn_events_wait_free(st->out.wait);
  free(st->early.text);
  free(st->out.text);
  free(st->body);
  free(st);
  *con_cls = NULL;
}

/* libmicrohttpd speaks up for each connection that goes wrong (a reset, a
 * failed TLS handshake): under a flood that would be a flood of lines, so
 * at most MHD_LOG_BURST of them per MHD_LOG_WINDOW_US, then a count. */
#define MHD_LOG_BURST 20
#define MHD_LOG_WINDOW_US (10 * MN_US_PER_S)

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  struct mn_api *api = cls;
  int64_t now = mn_monotonic_us();
  unsigned suppressed = 0;
  pthread_mutex_lock(&api->log_mu);
  if (now - api->log_window_us >= MHD_LOG_WINDOW_US) {
    suppressed = api->log_suppressed;
    api->log_window_us = now;
    api->log_count = api->log_suppressed = 0;
  }
  bool emit = api->log_count < MHD_LOG_BURST;
  if (emit)
    api->log_count++;
  else
    api->log_suppressed++;
  pthread_mutex_unlock(&api->log_mu);
  if (suppressed)
    mn_log_warn("api", "libmicrohttpd: %u more messages were not logged", suppressed);
  if (!emit)
    return;
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t len = strlen(line);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  mn_log_warn("api", "libmicrohttpd: %s", line);
}

/* Resolves host (a name or a numeric address) for binding. */
static int resolve_listen(const char *host, int port, struct sockaddr_storage *out,
                          struct mn_error *err) {
  struct addrinfo hints = {0}, *ai = NULL;
  char service[16];
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(service, sizeof service, "%d", port);
  int gai = getaddrinfo(host && *host ? host : NULL, service, &hints, &ai);
  if (gai != 0)
    return mn_fail(err, MN_ECONFIG, "cannot resolve listen address \"%s\": %s",
                   host ? host : "", gai_strerror(gai));
  memcpy(out, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);
  return 0;
}

int mn_api_bind(const char *host, int port, int *fd, struct mn_error *err) {
  struct sockaddr_storage addr;
  int rc = resolve_listen(host, port, &addr, err);
  if (rc != 0)
    return rc;
  socklen_t len = addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in);
  int s = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
  if (s < 0)
    return mn_fail(err, MN_EIO, "cannot make a socket: %s", strerror(errno));
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); /* not REUSEPORT */
  if (bind(s, (struct sockaddr *)&addr, len) < 0 || listen(s, LISTEN_BACKLOG) < 0) {
    int e = errno;
    close(s);
    return mn_fail(err, MN_EIO, "cannot listen on %s:%d: %s%s", host && *host ? host : "*",
                   port, strerror(e),
                   e == EADDRINUSE ? " (another daemon, or another program, has that port: "
                                     "stop it or choose another server.listen_port)"
                                   : "");
  }
  *fd = s;
  return 0;
}

void mn_api_set_keys(struct mn_api *api, struct mn_api_keys *keys) {
  struct mn_api_keys *old;
  mn_api_keys_ref(keys);
  pthread_mutex_lock(&api->keys_mu);
  old = api->keys;
  api->keys = keys;
  pthread_mutex_unlock(&api->keys_mu);
  mn_api_keys_unref(old);
}

void mn_api_quiesce(struct mn_api *api) {
  if (!api || !api->daemon)
    return;
  MHD_socket fd = MHD_quiesce_daemon(api->daemon);
  if (fd != MHD_INVALID_SOCKET)
    close(fd);
}

void mn_api_stop(struct mn_api *api) {
  if (!api)
    return;
  /* no new hand-offs; wait for the suspended connections to come back
   * (MHD must not be stopped with any still suspended) */
  mn_signal_stop(&api->mu, &api->stopping, NULL);
  mn_events_shutdown(api->events); /* waits answer, streams end */
  pthread_mutex_lock(&api->mu);
  while (api->in_flight > 0)
    pthread_cond_wait(&api->idle, &api->mu);
  /* and for their answers to be sent (MHD's thread queues them after the
   * resume; stopping MHD first would close them unanswered), within a bound
   * (docs/deploy.md: SIGTERM drains) */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += DRAIN_SEND_SECONDS;
  while (api->answering > 0 && pthread_cond_timedwait(&api->idle, &api->mu, &until) == 0) {
  }
  pthread_mutex_unlock(&api->mu);
  if (api->daemon)
    MHD_stop_daemon(api->daemon);
  mn_edge_free(api->edge);
  mn_pool_free(api->workers);
  mn_events_free(api->events);
  pthread_cond_destroy(&api->idle);
  pthread_mutex_destroy(&api->log_mu);
  pthread_mutex_destroy(&api->mu);
  free(api->openapi);
  mn_api_keys_unref(api->keys);
  pthread_mutex_destroy(&api->keys_mu);
  free(api->tls_cert);
  if (api->tls_key)
    OPENSSL_cleanse(api->tls_key, strlen(api->tls_key));
  free(api->tls_key);
  free(api);
}

/* A whole PEM file into a string, for libmicrohttpd's in-memory options. */
static int read_pem(const char *path, const char *what, char **out, struct mn_error *err) {
  FILE *f = fopen(path, "r");
  char *text = NULL;
  size_t len = 0, cap = 0;
  *out = NULL;
  if (!f)
    return mn_fail(err, MN_ECONFIG, "cannot read %s \"%s\": %s", what, path, strerror(errno));
  for (;;) {
    if (len + 4096 + 1 > cap) {
      char *grown = cap < ((size_t)1 << 20) ? realloc(text, cap = cap ? 2 * cap : 8192) : NULL;
      if (!grown) {
        fclose(f);
        free(text);
        return mn_fail(err, MN_ECONFIG, "%s \"%s\" is too large", what, path);
      }
      text = grown;
    }
    size_t n = fread(text + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
  }
  bool failed = ferror(f);
  fclose(f);
  text[len] = '\0';
  if (failed || !strstr(text, "-----BEGIN ")) {
    free(text);
    return mn_fail(err, MN_ECONFIG, "%s \"%s\" is not a PEM file", what, path);
  }
  *out = text;
  return 0;
}

/* Two per CPU: enough to keep the database busy, few enough that the
 * backends do not crowd each other out (more only adds tail latency). */
static size_t default_workers(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1)
    cpus = 1;
  return cpus > 32 ? 64 : (size_t)cpus * 2;
}

static int start_daemon(struct mn_api *api, const struct mn_api_options *opt,
                        struct mn_error *err) {
  struct sockaddr_storage addr;
  int rc = resolve_listen(opt->listen_host, opt->listen_port, &addr, err);
  if (rc != 0)
    return rc;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
                   MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (addr.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  if (api->tls_cert)
    flags |= MHD_USE_TLS;
  unsigned threads = opt->threads > 0 ? (unsigned)opt->threads : DEFAULT_THREADS;
  /* whole seconds; a deadline under one second still closes idle ones */
  unsigned idle_s = (unsigned)((api->request_timeout_ms + 999) / 1000);
  /* the logger first, so MHD prints nothing on its own */
  struct MHD_OptionItem options[16] = {
      {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, api},
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      /* streams have a limit of their own, on top of the one for requests */
      {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)(api->max_connections + api->max_streams), NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, idle_s, NULL},
      {MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG, NULL},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, api},
      {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)mn_edge_notify_connection, api->edge},
      {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, api},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)api->pool_bytes, NULL},
  };
  size_t n = 9;
  if (opt->bound) /* bound by mn_api_bind before the rest started */
    options[1] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, opt->listen_fd, NULL};
  if (api->tls_cert) {
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, api->tls_cert};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, api->tls_key};
  }
  if (threads > 1) /* a pool of one is no pool */
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL};
  options[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api, MHD_OPTION_ARRAY,
                                 options, MHD_OPTION_END);
  if (!api->daemon)
    return mn_fail(err, MN_EIO, "cannot listen on %s:%d",
                   opt->listen_host ? opt->listen_host : "*", opt->listen_port);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
  api->port = info ? info->port : opt->listen_port;
  mn_log_info("api", "listening on %s:%d (%s) with %u I/O threads",
              opt->listen_host ? opt->listen_host : "*", api->port,
              api->tls_cert ? "https" : "http", threads);
  if (!mn_mhd_errors_interposed())
    mn_log_warn("api", "libmicrohttpd's own error pages stay HTML in this build");
  return 0;
}

int mn_api_start(const struct mn_api_options *opt, struct mn_store *store,
                 struct mn_api **out, struct mn_error *err) {
  int rc;
  *out = NULL;
  if (!opt->keys && (!opt->api_key || !*opt->api_key))
    return mn_fail(err, MN_ECONFIG, "the API key must not be empty");
  if (opt->listen_port < 0 || opt->listen_port > 65535)
    return mn_fail(err, MN_ECONFIG, "listen port %d is out of range", opt->listen_port);
  struct mn_api *api = calloc(1, sizeof *api);
  if (!api)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  pthread_mutex_init(&api->mu, NULL);
  pthread_mutex_init(&api->log_mu, NULL);
  pthread_cond_init(&api->idle, NULL);
  api->ctx = (struct mn_api_ctx){store, opt->logs, opt->logs_ctx, opt->credentials,
                                 opt->credentials_ctx, opt->providers, opt->providers_ctx,
                                 opt->readiness, NULL};
  api->max_connections = opt->max_connections ? opt->max_connections : 1000;
  api->request_timeout_ms = opt->request_timeout_ms > 0 ? opt->request_timeout_ms : 30000;
  api->metrics_public = opt->metrics_public;
  api->max_body = opt->max_body_bytes ? opt->max_body_bytes : MN_API_MAX_BODY_DEFAULT;
  api->max_discard = api->max_body <= SIZE_MAX / 4 ? api->max_body * 4 : SIZE_MAX;
  pthread_mutex_init(&api->keys_mu, NULL);
  api->keys = opt->keys ? mn_api_keys_ref(opt->keys) : mn_api_keys_new_admin(opt->api_key);
  json_t *doc = mn_openapi_document();
  api->openapi = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  if (!api->keys || !api->openapi) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto fail;
  }
  api->openapi_len = strlen(api->openapi);
  /* every connection has at most one request in a worker's hands */
  size_t workers = opt->workers > 0 ? (size_t)opt->workers : default_workers();
  if ((rc = mn_pool_new("mn-api", workers, api->max_connections, &api->workers)) != 0) {
    mn_fail(err, rc, "cannot start %zu API workers", workers);
    goto fail;
  }
  if (!opt->tls_cert_file != !opt->tls_key_file) {
    rc = mn_fail(err, MN_ECONFIG, "TLS needs both a certificate and a key file");
    goto fail;
  }
  if (opt->tls_cert_file) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      rc = mn_fail(err, MN_ECONFIG, "this libmicrohttpd was built without TLS");
      goto fail;
    }
    if ((rc = read_pem(opt->tls_cert_file, "the TLS certificate", &api->tls_cert, err)) != 0 ||
        (rc = read_pem(opt->tls_key_file, "the TLS key", &api->tls_key, err)) != 0)
      goto fail;
  }
  struct mn_edge_options eopt = {
      .max_connections = api->max_connections,
      .max_unauthenticated_per_client = opt->max_unauthenticated_per_client,
      .request_timeout_ms = api->request_timeout_ms,
  };
  if ((rc = mn_edge_new(&eopt, &api->edge, err)) != 0)
    goto fail;
  api->max_streams = opt->max_event_streams ? opt->max_event_streams : 1000;
  api->pool_bytes =
      opt->connection_memory_bytes ? opt->connection_memory_bytes : DEFAULT_CONNECTION_POOL_BYTES;
  if (store) {
    /* keep-alives well inside the idle timeout that closes quiet connections */
    int64_t keepalive_ms = api->request_timeout_ms / 2 < 15000 ? api->request_timeout_ms / 2 : 15000;
    struct mn_events_options evopt = {api->max_streams, opt->event_stream_buffer_bytes,
                                      keepalive_ms, opt->event_retention_s};
    if ((rc = mn_events_start(&evopt, store, &api->events, err)) != 0)
      goto fail;
    api->ctx.events = api->events;
  }
  if ((rc = start_daemon(api, opt, err)) != 0)
    goto fail;
  *out = api;
  return 0;
fail:
  mn_api_stop(api);
  return rc;
}

int mn_api_port(const struct mn_api *api) { return api ? api->port : -1; }
