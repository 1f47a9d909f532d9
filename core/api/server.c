/* The REST server: libmicrohttpd with an epoll thread pool for network I/O,
 * routing through the one route table, Bearer auth, bounded request bodies,
 * one log line per request. Handlers (which block on the database) run on a
 * separate pool: the connection is suspended meanwhile and resumed with its
 * response ready, so one slow call never stalls the other connections that
 * share its I/O thread. */
#include "api/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/dispatch.h"
#include "api/openapi.h"
#include "scheduler/pool.h"
#include "util/clock.h"
#include "util/log.h"

#define DEFAULT_THREADS 4
#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define CONNECTION_LIMIT 1000
#define IDLE_TIMEOUT_S 60
#define LISTEN_BACKLOG 1024

struct mn_api {
  struct MHD_Daemon *daemon;
  struct mn_api_ctx ctx;
  struct mn_pool *workers;
  pthread_mutex_t mu; /* guards stopping and in_flight */
  pthread_cond_t idle;
  bool stopping;
  size_t in_flight; /* requests handed to the workers, connection suspended */
  char *api_key;
  size_t api_key_len;
  size_t max_body;
  size_t max_discard; /* past this much of a refused body the connection is closed */
  char *openapi;      /* the document, serialised once */
  size_t openapi_len;
  int port;
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
  bool ready;      /* out holds the response (set by a worker) */
  struct mn_api_output out;
  char *body;
  size_t body_len, body_cap;
  size_t discarded; /* bytes dropped after an error was decided */
  struct mn_api_request req;
  char *route_path; /* a second copy, cut into segments; the params point into it */
  char path[];      /* the decoded path as it arrived, then route_path's bytes */
};

static void log_request(const struct request_state *st, const char *method, int status) {
  if (MN_LOG_INFO > mn_log_threshold)
    return;
  char path[512];
  size_t i = 0;
  /* the path as it arrived, control characters masked so a line stays one line */
  for (const char *p = st->path; *p && i < sizeof path - 1; p++)
    path[i++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
  path[i] = '\0';
  mn_log_info("api", "%s %s %d %lldus", method, path, status,
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
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
  MHD_destroy_response(resp);
  st->responded = true;
  log_request(st, method, status);
  return ret;
}

static enum MHD_Result queue_output(struct MHD_Connection *conn, struct request_state *st,
                                    const char *method, struct mn_api_output *out) {
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

/* HTTPBearer as FastAPI has it, then the key in constant time. */
static int check_auth(const struct mn_api *api, struct MHD_Connection *conn) {
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
  if (len != api->api_key_len || CRYPTO_memcmp(key, api->api_key, len) != 0)
    return MN_EAPI_KEY_INVALID;
  return 0;
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
  if (strcmp(st->path, "/openapi.json") == 0)
    rc = st->method == MN_HTTP_GET ? (st->openapi = true, 0) : MN_EMETHOD;
  else
    rc = mn_route_match(st->method, st->route_path, &st->req);
  if (rc == 0 && st->req.route && !st->req.route->no_auth)
    rc = check_auth(api, conn);
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
static void run_on_worker(void *arg) {
  struct request_state *st = arg;
  struct mn_api *api = st->api; /* st may be gone once the connection resumes */
  mn_api_dispatch(&api->ctx, &st->req, st->body, st->body_len, &st->out);
  pthread_mutex_lock(&api->mu);
  st->ready = true;
  MHD_resume_connection(st->conn);
  if (--api->in_flight == 0)
    pthread_cond_broadcast(&api->idle);
  pthread_mutex_unlock(&api->mu);
}

/* The final call: the whole body is here. */
static enum MHD_Result finish(struct mn_api *api, struct MHD_Connection *conn,
                              struct request_state *st, const char *method) {
  if (st->pending)
    return queue_error(conn, st, method, st->pending);
  if (st->openapi)
    return queue_text(conn, st, method, 200, api->openapi, api->openapi_len,
                      MHD_RESPMEM_PERSISTENT);
  if (st->ready)
    return queue_output(conn, st, method, &st->out);
  st->api = api;
  st->conn = conn;
  st->req.query = query_value;
  st->req.header = header_value;
  st->req.query_cls = conn;
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
  mn_api_dispatch(&api->ctx, &st->req, st->body, st->body_len, &st->out);
  return queue_output(conn, st, method, &st->out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  struct mn_api *api = cls;
  struct request_state *st = *con_cls;
  if (!st) {
    size_t len = strlen(url);
    st = calloc(1, sizeof *st + 2 * (len + 1));
    if (!st)
      return MHD_NO;
    st->start_us = mn_monotonic_us();
    st->method = mn_http_method_parse(method);
    memcpy(st->path, url, len + 1);
    st->route_path = st->path + len + 1;
    memcpy(st->route_path, url, len + 1);
    *con_cls = st;
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
  struct request_state *st = *con_cls;
  if (!st)
    return;
  free(st->out.text);
  free(st->body);
  free(st);
  *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
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

void mn_api_stop(struct mn_api *api) {
  if (!api)
    return;
  /* no new hand-offs; wait for the suspended connections to come back
   * (MHD must not be stopped with any still suspended) */
  pthread_mutex_lock(&api->mu);
  api->stopping = true;
  while (api->in_flight > 0)
    pthread_cond_wait(&api->idle, &api->mu);
  pthread_mutex_unlock(&api->mu);
  if (api->daemon)
    MHD_stop_daemon(api->daemon);
  mn_pool_free(api->workers);
  pthread_cond_destroy(&api->idle);
  pthread_mutex_destroy(&api->mu);
  free(api->openapi);
  free(api->api_key);
  free(api);
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
  unsigned threads = opt->threads > 0 ? (unsigned)opt->threads : DEFAULT_THREADS;
  /* the logger first, so MHD prints nothing on its own; a pool of one is no pool */
  struct MHD_OptionItem options[] = {
      {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, api},
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      {MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, NULL},
      {MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL},
      {MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG, NULL},
      {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, api},
      {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL},
      {MHD_OPTION_END, 0, NULL},
  };
  api->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api, MHD_OPTION_ARRAY,
                                 options, MHD_OPTION_END);
  if (!api->daemon)
    return mn_fail(err, MN_EIO, "cannot listen on %s:%d",
                   opt->listen_host ? opt->listen_host : "*", opt->listen_port);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
  api->port = info ? info->port : opt->listen_port;
  mn_log_info("api", "listening on %s:%d with %u I/O threads",
              opt->listen_host ? opt->listen_host : "*", api->port, threads);
  return 0;
}

int mn_api_start(const struct mn_api_options *opt, struct mn_store *store,
                 struct mn_api **out, struct mn_error *err) {
  int rc;
  *out = NULL;
  if (!opt->api_key || !*opt->api_key)
    return mn_fail(err, MN_ECONFIG, "the API key must not be empty");
  if (opt->listen_port < 0 || opt->listen_port > 65535)
    return mn_fail(err, MN_ECONFIG, "listen port %d is out of range", opt->listen_port);
  struct mn_api *api = calloc(1, sizeof *api);
  if (!api)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  pthread_mutex_init(&api->mu, NULL);
  pthread_cond_init(&api->idle, NULL);
  api->ctx = (struct mn_api_ctx){store, opt->logs, opt->logs_ctx, opt->credentials,
                                 opt->credentials_ctx, opt->providers, opt->providers_ctx};
  api->max_body = opt->max_body_bytes ? opt->max_body_bytes : DEFAULT_MAX_BODY;
  api->max_discard = api->max_body <= SIZE_MAX / 4 ? api->max_body * 4 : SIZE_MAX;
  api->api_key = strdup(opt->api_key);
  api->api_key_len = strlen(opt->api_key);
  json_t *doc = mn_openapi_document();
  api->openapi = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  if (!api->api_key || !api->openapi) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto fail;
  }
  api->openapi_len = strlen(api->openapi);
  /* every connection has at most one request in a worker's hands */
  size_t workers = opt->workers > 0 ? (size_t)opt->workers : default_workers();
  if ((rc = mn_pool_new(workers, CONNECTION_LIMIT, &api->workers)) != 0) {
    mn_fail(err, rc, "cannot start %zu API workers", workers);
    goto fail;
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
