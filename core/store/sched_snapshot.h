/* What the scheduler reads and writes in bulk: the working set of a pass
 * (the RUNNING invocations it must decide on, with their executions, parent
 * and project state, and the functions they belong to), plus the few
 * guarded updates that only the scheduler makes. The working set holds what
 * changed and what can be launched, never a whole queue (migration 5,
 * docs/architecture.md "Queues"). Inputs and outputs are left out (they can
 * be 250 kB each and no decision needs them). */
#ifndef MN_STORE_SCHED_SNAPSHOT_H
#define MN_STORE_SCHED_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/model.h"
#include "store/store.h"

struct mn_snap_invocation {
  struct mn_invocation inv; /* function key in inv.function; input/outputs NULL */
  bool project_deleting;
  bool live;          /* holds a non-terminated execution */
  int64_t attention;  /* non-zero: something happened to decide on */
  int64_t eligible_at; /* migration 7: a delayed start or a retry's backoff */
  bool waiting;        /* not eligible before eligible_at */
  bool blocked;        /* its concurrency key was full at the head */
  int64_t deadline;    /* the next wake the deadline index holds (MN_TIME_NULL: none) */
  int fn; /* index into mn_sched_snapshot.functions, -1 when not found */
};

struct mn_sched_snapshot {
  struct mn_snap_invocation *invs; /* ordered by key */
  size_t n_invs;
  struct mn_function *functions;   /* ordered by key */
  size_t n_functions;
  size_t rows_read;                /* rows the statements returned */
};

/* Function keys (borrowed strings). */
struct mn_fn_keys {
  const struct mn_function_key *keys; /* version ids in version_ref */
  size_t n;
};

/* The working set at `now`: live, attention, due and deleting invocations,
 * and the heads of the queues of `hints` (functions whose queue may hold
 * invocations), as many per function as it has free capacity. */
int mn_store_sched_snapshot(struct mn_store *s, const struct mn_fn_keys *hints, int64_t now,
                            struct mn_sched_snapshot *out);

/* The working set's statement ($1-$3 hint arrays, $4 now), for tests that
 * EXPLAIN what it reads. */
const char *mn_store_sched_working_set_sql(void);

/* Calls cb once per function whose queue is not empty (a skip scan: one
 * index descent per function). A non-zero return of cb stops with
 * MN_ENOMEM. */
typedef int mn_fn_key_fn(void *ctx, const struct mn_function_key *key);
int mn_store_sched_queued_functions(struct mn_store *s, mn_fn_key_fn *cb, void *ctx);

/* The end of a pass, in one statement: the cancellation cascade (every
 * RUNNING descendant without a cancellation request of the invocations
 * cascade_*, at any depth, gets one, with attention), the attention of
 * clear_*[i] cleared unless it changed since it was read (attention[i]) or
 * the cascade reached it, and the earliest deadline after `now` of a RUNNING
 * invocation (MN_TIME_NULL when there is none). */
struct mn_sched_settle {
  const struct mn_function_key *const *cascade_fks;
  const char *const *cascade_ids;
  size_t n_cascade;
  const struct mn_function_key *const *clear_fks;
  const char *const *clear_ids;
  const int64_t *attention;
  size_t n_clear;
  int64_t now;
};
struct mn_sched_settled {
  int cancelled, cleared;
  int64_t next_deadline;
};
int mn_store_sched_settle(struct mn_store *s, const struct mn_sched_settle *in,
                          struct mn_sched_settled *out);
/* The index of an invocation in the snapshot, or -1. */
int mn_sched_snapshot_find_invocation(const struct mn_sched_snapshot *snap,
                                      const char *project, const char *version,
                                      const char *function, const char *invocation_id);
void mn_sched_snapshot_release(struct mn_sched_snapshot *snap);

/* Deletes every project marked for deletion that has no RUNNING invocation
 * (cascading to everything under it). *n_deleted may be NULL. */
int mn_store_sched_delete_projects(struct mn_store *s, int *n_deleted);

/* Sets cancellation_request_time = now on a RUNNING invocation that has
 * none yet (the cascade; a user's own request is never overwritten). */
int mn_store_sched_cancel(struct mn_store *s, const struct mn_function_key *fk,
                          const char *invocation_id, int64_t now, bool *applied);

/* RUNNING -> TERMINATED of an execution whose worker ended: when it has no
 * outcome and no error_message yet, `reason` becomes its error_message. */
int mn_store_sched_worker_ended(struct mn_store *s, const struct mn_function_key *fk,
                                const char *invocation_id, const char *execution_id,
                                const char *reason, int64_t now, bool *applied);

/* An execution that never got a worker (PENDING or PROVISIONING) ends
 * TERMINATED: with the termination signal recorded when it was cancelled or
 * timed out before it started (signalled = true), else with `reason` as its
 * error_message (a failed preparation or launch). */
int mn_store_sched_end_unlaunched(struct mn_store *s, const struct mn_function_key *fk,
                                  const char *invocation_id, const char *execution_id,
                                  enum mn_worker_status from, bool signalled,
                                  const char *reason, int64_t now, bool *applied);

/* The worker_status of the execution with this id (ids are unique across
 * the database), or MN_EEXECUTION_NOT_FOUND. */
int mn_store_sched_execution_status(struct mn_store *s, const char *execution_id,
                                    enum mn_worker_status *out);

/* A stable id of this database, created on first use: providers label their
 * workers with it. *out is a heap string. */
int mn_store_cluster_id(struct mn_store *s, char **out);

#endif
