/* template.h — the template provider's state and its parts. The provider
 * drives a made-up "compute API" over HTTP (simulated in tests by
 * tests/sims/template/compute_sim.py); docs/writing-a-provider.md walks
 * through it. Copy the folder, rename `tpl`/`template`, and replace the
 * API's paths and JSON with your platform's.
 *
 *   template.c  the table, init/shutdown, check_config, registry_credentials
 *   config.c    the section providers.<name>, read in one function
 *   api.c       one call to the API: JSON in and out, status -> error
 *   launch.c    prepare (a profile per function) and launch (a worker per
 *               execution, idempotent by its name)
 *   workers.c   inspect_many, terminate, release, list_owned
 *   logs.c      logs, paged by line offset
 *   watch.c     the thread that long-polls the API's events and wakes the
 *               daemon when a worker exits */
#ifndef MN_TEMPLATE_H
#define MN_TEMPLATE_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include <multinode/provider.h>

#include "http.h"

/* providers.<name>, as config.c reads it. Strings belong to the host. */
struct tpl_config {
  const char *endpoint;   /* the API's base URL, without a trailing slash */
  const char *token_file; /* a file holding the API's bearer token, or NULL */
  int64_t timeout_s;      /* the most one call may take */
};

struct tpl {
  const struct mn_host *host; /* valid until shutdown */
  struct tpl_config conf;
  char auth[4200];            /* "Authorization: Bearer <token>", or "" */
  char owner[200];            /* host->cluster_id, escaped for a query */
  struct mn_http http;        /* the API's connections, reused by every call */
  char http_name[600];        /* "compute API at <endpoint>", in messages */
  /* the watcher (watch.c) */
  pthread_t watcher;
  int watcher_started;
  pthread_mutex_t lock; /* guards stop */
  pthread_cond_t cond;  /* signalled by shutdown */
  int stop;
};

/* config.c: the section's keys (the provider table's config_keys), and
 * their reading into conf, with the token file's content into auth as an
 * Authorization header ("" without one). Used by init and by check_config,
 * so both see the same rules. */
extern const struct mn_config_key tpl_config_keys[];
int tpl_config_read(const struct mn_cfg_node *config, const struct mn_host *host,
                    struct tpl_config *conf, char *auth, size_t auth_size,
                    struct mn_provider_error *err);

/* api.c: METHOD path (query included) with body (JSON, or NULL). On a 2xx
 * answer returns 0 and *out holds the parsed body (NULL when empty; the
 * caller json_decrefs it; out may be NULL). Otherwise returns the
 * MN_PROVIDER_E_* code the status means, err reading
 * "compute API: METHOD path: HTTP 409: <the API's message>", and the
 * answer's Retry-After in err->retry_after_us. *status gets the HTTP status
 * (0: no answer) when status is not NULL. */
int tpl_call(struct tpl *t, const char *method, const char *path, json_t *body, json_t **out,
             long *status, struct mn_provider_error *err);

/* launch.c */
int tpl_prepare(void *state, const struct mn_function_desc *fn, struct mn_prepared *out,
                struct mn_provider_error *err);
int tpl_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
               struct mn_provider_error *err);

/* workers.c */
int tpl_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                     struct mn_worker_state *states_out, struct mn_provider_error *err);
int tpl_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                  struct mn_provider_error *err);
int tpl_release(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err);
int tpl_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx, struct mn_provider_error *err);
/* A worker's state from the API's view of it. */
void tpl_worker_state(json_t *worker, struct mn_worker_state *out);

/* logs.c */
int tpl_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
             struct mn_log_page *page, struct mn_provider_error *err);

/* watch.c: starts the thread (after everything else in init), and stops
 * and joins it (first thing in shutdown). */
int tpl_watch_start(struct tpl *t, struct mn_provider_error *err);
void tpl_watch_stop(struct tpl *t);

#endif
