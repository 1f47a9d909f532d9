/* The REST API server: libmicrohttpd with its own thread pool (epoll), JSON
 * with jansson, state through the store. Wire-compatible with the original
 * Multinode control plane (docs/compatibility.md §1-§2). */
#ifndef MN_API_SERVER_H
#define MN_API_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/model.h"
#include "store/store.h"
#include "util/error.h"

/* Serves the logs endpoint for executions that have worker_details: the
 * daemon wires it to the provider that ran the worker. `inv` holds exactly
 * the execution asked for. Fills *lines_out (a new JSON array of strings)
 * and *next_offset_out (heap string or NULL). */
typedef int mn_api_logs_fn(void *ctx, const struct mn_invocation *inv,
                           const char *initial_offset, int max_lines,
                           json_t **lines_out, char **next_offset_out,
                           struct mn_error *err);

/* Fills a ContainerRepositoryCredentials object (a new JSON object). */
typedef int mn_api_credentials_fn(void *ctx, json_t **out, struct mn_error *err);

/* Fills a ProvidersList object (a new JSON object). */
typedef int mn_api_providers_fn(void *ctx, json_t **out, struct mn_error *err);

struct mn_readiness;

struct mn_api_options {
  const char *listen_host; /* e.g. "127.0.0.1" */
  int listen_port;         /* 0: pick a free port (see mn_api_port) */
  const char *api_key;     /* an admin key; ignored when keys is set */
  struct mn_api_keys *keys; /* operator keys (api/api_keys.h; the server takes a reference) */
  int threads;             /* 0 means 4 */
  size_t max_body_bytes;   /* 0 means 1 MiB; larger bodies get 413 */
  mn_api_logs_fn *logs;    /* NULL: every execution's log is empty */
  void *logs_ctx;
  mn_api_credentials_fn *credentials; /* NULL: local defaults */
  void *credentials_ctx;
  mn_api_providers_fn *providers; /* NULL: an empty list */
  void *providers_ctx;
  /* Handlers run on their own pool of this many threads (0: two per CPU;
   * more than the store's pool_size only wait for a connection); the
   * `threads` above only do network I/O, so a slow database call never
   * holds up the other connections. */
  int workers;
  /* The edge (api/edge.h): connections at once (0: 1000), connections
   * without an authenticated request per client address (0: 64), and the
   * time a connection has to deliver a whole request (0: 30 s). */
  size_t max_connections;
  size_t max_unauthenticated_per_client;
  int64_t request_timeout_ms;
  /* HTTPS through libmicrohttpd's GnuTLS: PEM files, both or neither. */
  const char *tls_cert_file;
  const char *tls_key_file;
  /* Event streams (docs/events.md): open at once (0: 1000, on top of
   * max_connections), bytes queued for one before it is dropped (0: 1 MiB),
   * seconds events are kept for resuming (0: 3600). */
  size_t max_event_streams;
  size_t event_stream_buffer_bytes;
  /* libmicrohttpd's memory per connection (0: 10 KiB): bounds a request's
   * head and is most of what an open event stream costs. */
  size_t connection_memory_bytes;
  int64_t event_retention_s;
  /* GET /readyz reports it (api/readiness.h); NULL: not ready. Borrowed. */
  struct mn_readiness *readiness;
  /* GET /metrics answers without a key (server.metrics.public). */
  bool metrics_public;
  /* A socket from mn_api_bind, listened on instead of binding here; the
   * caller keeps it until mn_api_start succeeds. */
  bool bound;
  int listen_fd;
};

struct mn_api;

/* Binds and listens on host:port (no SO_REUSEPORT: a port in use is an
 * error), before anything else of the daemon starts. */
int mn_api_bind(const char *host, int port, int *fd, struct mn_error *err);

int mn_api_start(const struct mn_api_options *opt, struct mn_store *store,
                 struct mn_api **out, struct mn_error *err);
/* Replaces the operator keys (SIGHUP): requests in flight finish with the
 * keys they matched. Takes a reference to KEYS. */
void mn_api_set_keys(struct mn_api *api, struct mn_api_keys *keys);
/* The port actually bound (useful with listen_port 0). */
int mn_api_port(const struct mn_api *api);
/* Stops accepting connections (the listening socket is closed, so a new
 * connection is refused at once); those open are still served. NULL-safe. */
void mn_api_quiesce(struct mn_api *api);
void mn_api_stop(struct mn_api *api); /* NULL-safe; waits for requests in flight */

#endif
