/* The scheduler's writes in bulk: one statement (one transaction, one round
 * trip) for each kind of decision of a pass, however many invocations it
 * touches. Each is guarded by the expected state, row by row; `applied[i]`
 * (may be NULL) tells which rows changed. */
#ifndef MN_STORE_SCHED_WRITES_H
#define MN_STORE_SCHED_WRITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One invocation (execution_id NULL) or execution, by concrete version id. */
struct mn_sched_key {
  const char *project, *version, *function, *invocation_id, *execution_id;
};

/* Cascade: cancellation_request_time = now where RUNNING and none yet. */
int mn_store_sched_cancel_many(struct mn_store *s, const struct mn_sched_key *keys, size_t n,
                               int64_t now, bool *applied);
/* RUNNING -> TERMINATED (last_update_time = now) where no execution is
 * live any more. */
int mn_store_sched_terminate_many(struct mn_store *s, const struct mn_sched_key *keys,
                                  const char *const *reasons, size_t n, int64_t now,
                                  bool *applied);
/* reasons (NULL, or NULL entries: none) become termination_reason. */

/* Migration 7: what the pass decided about an invocation's timing. */
struct mn_sched_timing {
  bool waiting;
  int64_t eligible_at;
  bool blocked;
  int64_t deadline; /* MN_TIME_NULL: none */
};
int mn_store_sched_set_timing(struct mn_store *s, const struct mn_sched_key *keys,
                              const struct mn_sched_timing *t, size_t n);
/* Back into the queue: the first counts[i] blocked invocations of the
 * concurrency key keys[i] of function fks[i], in queue order. */
int mn_store_sched_unblock(struct mn_store *s, const struct mn_function_key *fks,
                           const char *const *keys, const int *counts, size_t n,
                           int *n_unblocked);
/* A RUNNING attempt without an outcome: FAILED with `reason`, and its
 * termination signal. */
int mn_store_sched_fail_attempt(struct mn_store *s, const struct mn_sched_key *k,
                                const char *reason, int64_t now, bool *applied);
/* New attempts: for each key (execution_id = the new id) an execution row
 * already PROVISIONING (the deciding transaction commits it before any
 * provider call; a crash before the launch is repaired by launching again,
 * idempotently), with key_hashes[i] as its token_hash, and the
 * invocation's last_update_time = now. Only for invocations still RUNNING. */
int mn_store_sched_create_executions(struct mn_store *s, const struct mn_sched_key *keys,
                                     const char *const *key_hashes, size_t n, int64_t now,
                                     bool *applied);
/* Launched workers: PROVISIONING -> RUNNING with worker_details[i] (JSON
 * text), in one statement; applied[i] false where the execution was no
 * longer PROVISIONING (it ended meanwhile). */
int mn_store_sched_workers_running(struct mn_store *s, const struct mn_sched_key *keys,
                                   const char *const *worker_details, size_t n, int64_t now,
                                   bool *applied);
/* Workers that ended: RUNNING -> TERMINATED; reasons[i] becomes the
 * error_message when the execution has neither outcome nor error. */
int mn_store_sched_workers_ended(struct mn_store *s, const struct mn_sched_key *keys,
                                 const char *const *reasons, size_t n, int64_t now,
                                 bool *applied);

#endif
