/* Internal to core/scheduler: the scheduler's state, shared by its decision
 * loop (scheduler.c), its passes (pass.c) and its provider jobs (jobs.c). */
#ifndef MN_SCHEDULER_INTERNAL_H
#define MN_SCHEDULER_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "plugin/host.h"
#include "scheduler/pool.h"
#include "scheduler/queues.h"
#include "scheduler/scheduler.h"
#include "scheduler/tracker.h"
#include "store/model.h"
#include "store/store.h"

struct mn_scheduler {
  struct mn_scheduler_options opt;
  struct mn_store *store;
  struct mn_plugins *plugins;
  struct mn_pool *pool;
  pthread_t thread;
  bool thread_started;
  int wake_fd;           /* eventfd: jobs, providers and stop wake the loop */
  atomic_bool stopping;
  atomic_bool active;    /* holds the lock */
  atomic_bool inspect_now; /* a provider reported a change */
  PGconn *lock_conn;     /* holds the advisory lock and LISTENs */
  pthread_mutex_t mu;    /* guards tracker and inspect_busy */
  struct mn_tracker *tracker;
  int64_t next_inspect;
  int64_t next_prune;
  bool reconciled;       /* strays cleaned since becoming active */
  bool projects_dirty;   /* a project changed or invocations ended: look for deletions */
  int64_t next_project_sweep;
  struct mn_queues *queues; /* functions whose queue may hold invocations (queues.h) */
  int64_t next_queue_scan;  /* when to rebuild them from the queue index */
  size_t last_rows_read;    /* rows the last pass read (for tests and logs) */
  atomic_ulong passes;       /* passes begun: a job that saw none begin while it ran
                             * ends without waking the loop when nothing changed */
  atomic_ulong reports;      /* provider reports (mn_scheduler_wake) so far */
  unsigned long reports_inspected; /* those a pass inspected after (pass.c) */
  pthread_mutex_t launched_mu;      /* guards the two below (jobs.c) */
  struct mn_launched *launched;     /* launched workers whose RUNNING write is due */
  bool launched_writer;             /* a launch job is writing them */
  atomic_uint wake_why;     /* enum mn_sched_wake bits since the loop last woke */
  char woken_by[96];        /* what woke the loop for this pass (debug log) */
};

/* Who woke the decision loop (shown in the pass's debug line). */
enum mn_sched_wake {
  MN_WAKE_PROVIDER = 1u, /* a provider reported a change (wake()) */
  MN_WAKE_LAUNCH = 2u,
  MN_WAKE_PREPARE = 4u,
  MN_WAKE_TERMINATE = 8u,
  MN_WAKE_INSPECT = 16u,
  MN_WAKE_STOP = 32u
};

/* pass.c: one decision pass at `now`; *next_wake gets the time the next
 * pass is due at the latest. */
void mn_sched_pass(struct mn_scheduler *s, int64_t now, int64_t *next_wake);
/* pass.c: after becoming active, terminates and releases every worker a
 * provider still holds for an execution that has ended or does not exist. */
void mn_sched_reconcile(struct mn_scheduler *s);

/* jobs.c: the provider calls, run on the pool. Each copies what it needs;
 * the tracker entry `key` is in flight until the job ends. */
struct mn_exec_ref {
  char *project, *version, *function, *invocation_id, *execution_id;
  bool keyed; /* a launch: its key hash went in with the row (pass.c) */
};
/* fn: the function of an execution the calling pass has just created (its
 * row holds the key hash: ref->keyed), so the launch need not read it
 * again; NULL: the launch reads the execution and gives up unless it is
 * still PROVISIONING. */
int mn_sched_submit_launch(struct mn_scheduler *s, const struct mn_exec_ref *ref,
                           const struct mn_function *fn);
int mn_sched_submit_prepare(struct mn_scheduler *s, const struct mn_function *fn,
                            const char *key);
int mn_sched_submit_terminate(struct mn_scheduler *s, const struct mn_exec_ref *ref,
                              const json_t *worker_details, int grace_seconds);
/* One batch of RUNNING executions of provider `h` to inspect. */
struct mn_inspect_batch;
struct mn_inspect_batch *mn_inspect_batch_new(struct mn_provider_handle *h);
int mn_inspect_batch_add(struct mn_inspect_batch *b, const struct mn_exec_ref *ref,
                         const json_t *worker_details);
size_t mn_inspect_batch_size(const struct mn_inspect_batch *b);
int mn_sched_submit_inspect(struct mn_scheduler *s, struct mn_inspect_batch *b);
void mn_inspect_batch_free(struct mn_inspect_batch *b);

/* Tracker access under s->mu. begin: true when no call is in flight and no
 * backoff holds it (then it is marked in flight); end: clears in flight and
 * records the result (message NULL: success). */
bool mn_sched_track_begin(struct mn_scheduler *s, const char *key, int64_t now,
                          int64_t *not_before);
void mn_sched_track_end(struct mn_scheduler *s, const char *key, const char *failure);
/* The same, with the wait a provider asked for (its error's retry_after_us;
 * 0: the tracker's backoff). */
void mn_sched_track_end_after(struct mn_scheduler *s, const char *key, const char *failure,
                              int64_t retry_after_us);
void mn_sched_wake_loop(struct mn_scheduler *s, enum mn_sched_wake why);

void mn_exec_ref_release(struct mn_exec_ref *r);
int mn_exec_ref_copy(struct mn_exec_ref *dst, const char *project, const char *version,
                     const char *function, const char *invocation_id,
                     const char *execution_id);

#endif
