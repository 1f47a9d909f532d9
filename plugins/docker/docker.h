/* docker.h — the Docker provider's state, shared by its files (never
 * installed; the daemon sees only include/multinode/provider.h).
 *
 * Every execution is one container named after its execution id (see
 * container_spec.h), labelled with the execution and this daemon's cluster
 * id. The engine is the only record: nothing is kept in memory that a
 * restarted daemon would need. Saved logs live under
 * <data_dir>/<provider_name>/logs/<container name>.log. */
#ifndef MN_DOCKER_DOCKER_H
#define MN_DOCKER_DOCKER_H

#include <limits.h>
#include <pthread.h>

#include "docker_conf.h"
#include "engine_api.h"
#include "multinode/provider.h"

#define MN_DOCKER_CALL_TIMEOUT_MS 60000L

struct mn_docker_stopper; /* terminate.c */
struct mn_docker_events;  /* events.c */

struct mn_docker {
  const struct mn_host *host;
  struct mn_docker_conf conf;
  struct mn_docker_http http;
  char log_dir[PATH_MAX];
  char list_path[1024]; /* GET path listing this cluster's containers */
  struct mn_docker_stopper *stopper;
  struct mn_docker_events *events;
  pthread_mutex_t prune_lock; /* guards next_prune_us */
  int64_t next_prune_us;      /* when release next deletes old saved logs */
};

/* One container of this cluster, as the list call shows it. */
struct mn_docker_summary {
  char name[256];         /* without the leading '/' */
  char execution_id[256]; /* from its label */
  char state[32];         /* created, running, paused, restarting, removing, exited, dead */
};

/* provider operations, one file each */
int mn_docker_launch(void *state, const struct mn_launch_spec *spec,
                     struct mn_worker_ref *ref_out, struct mn_provider_error *err);
int mn_docker_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                           struct mn_worker_state *states_out, struct mn_provider_error *err);
int mn_docker_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                         struct mn_provider_error *err);
int mn_docker_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                        struct mn_provider_error *err);
int mn_docker_release(void *state, const struct mn_worker_ref *ref,
                      struct mn_provider_error *err);
int mn_docker_logs(void *state, const struct mn_worker_ref *ref, const char *offset,
                   int max_lines, struct mn_log_page *page, struct mn_provider_error *err);

/* engine.c: calls shared by the operations */
/* The engine could not be reached: TRANSIENT. */
int mn_docker_unreachable(struct mn_docker *d, struct mn_provider_error *err, const char *why);
/* An error reply: 404 NOT_FOUND, 5xx TRANSIENT, 401/403 AUTH, other
 * INVALID; the message is "<what>: <the engine's message>". */
int mn_docker_refused(struct mn_docker *d, struct mn_provider_error *err,
                      const struct mn_docker_reply *reply, const char *what);
/* This cluster's containers (all states). *out is malloc'ed. */
int mn_docker_list(struct mn_docker *d, struct mn_docker_summary **out, size_t *n,
                   struct mn_provider_error *err);
/* GET /containers/NAME/json -> state (MISSING on 404). */
int mn_docker_inspect_one(struct mn_docker *d, const char *name, struct mn_worker_state *out,
                          struct mn_provider_error *err);
/* The saved log of a container: <log_dir>/<name>.log. -1 if too long. */
int mn_docker_log_path(struct mn_docker *d, const char *name, char *out, size_t size);
/* The ref's container name, checked (it is used in URLs and paths). */
int mn_docker_ref_name(struct mn_docker *d, const struct mn_worker_ref *ref,
                       struct mn_provider_error *err);

/* terminate.c: the thread that carries out stop?t=grace calls */
int mn_docker_stopper_start(struct mn_docker *d, struct mn_provider_error *err);
void mn_docker_stopper_stop(struct mn_docker *d);

/* events.c: watches the engine's die events and wakes the daemon */
int mn_docker_events_start(struct mn_docker *d, struct mn_provider_error *err);
void mn_docker_events_stop(struct mn_docker *d);

/* registry.c: GET /container_repository_credentials names conf.registry;
 * the X-Registry-Auth line for pulling IMAGE from it ("" when IMAGE is
 * elsewhere or no login is configured); -1 when it does not fit SIZE. */
int mn_docker_registry_credentials(void *state, struct mn_registry_credentials *out,
                                   struct mn_provider_error *err);
int mn_docker_registry_auth(const struct mn_docker *d, const char *image, char *out, size_t size);

#endif
