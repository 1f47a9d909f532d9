/* The scheduler's decisions as pure functions over a snapshot of state
 * (docs/compatibility.md §3.5, with the changes of docs/architecture.md §5). No I/O here: the
 * scheduler loads a snapshot, asks these functions what to do, and writes
 * the answers in one transaction. Times are microseconds.
 *
 * Differences from the original loop, each fixing a weakness it lists:
 * - A function still being prepared holds its invocations back, but a
 *   cancellation, timeout or project deletion still ends them.
 * - A function whose last preparation failed does not hold anything: a new
 *   attempt is created, its launch retries the preparation and, when that
 *   fails again, the attempt ends with the reason; the retry policy applies.
 * - Cancellation cascades from a parent that is cancelled OR has ended
 *   (succeeded, failed, timed out) to every descendant, in one pass, in any
 *   input order.
 * - Queued invocations get capacity in FIFO order (creation time, then id). */
#ifndef MN_SCHEDULER_CLASSIFY_H
#define MN_SCHEDULER_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/model.h"

struct mn_sched_exec {
  enum mn_worker_status worker_status;
  enum mn_outcome outcome;
  int64_t termination_signal_time;
  int64_t last_update_time;      /* for an ended attempt: when it ended */
  int64_t execution_start_time;  /* MN_TIME_NULL until the worker started */
  int64_t heartbeat_time;        /* MN_TIME_NULL: none yet */
};

struct mn_sched_fn {
  bool ready;             /* function_status READY */
  bool preparation_failed; /* PENDING with a preparation_error */
  int max_retries;
  int timeout_seconds;
  int max_concurrency;
  /* the additions (docs/compatibility.md, "Task semantics"); 0: not set */
  int max_concurrency_per_key;
  double retry_delay_seconds;
  double retry_backoff_factor;
  double retry_max_delay_seconds;
  int attempt_timeout_seconds;
  int queue_timeout_seconds;
  int heartbeat_timeout_seconds;
};

/* A RUNNING invocation. */
struct mn_sched_inv {
  const char *invocation_id;     /* ties in FIFO order are broken by id */
  int64_t creation_time;
  int64_t cancellation_request_time; /* MN_TIME_NULL when none */
  bool project_deleting;
  int fn;                        /* index into the function array */
  int parent;                    /* index of a RUNNING parent in the same array, or -1 */
  bool parent_cancelled;         /* the parent (not in the array) has a cancellation request */
  bool parent_ended;             /* the parent (not in the array) is TERMINATED */
  const struct mn_sched_exec *execs;
  size_t n_execs;
  /* the additions; zero values keep the original's behaviour */
  int priority;                  /* higher first; FIFO within a priority */
  int64_t start_at;              /* MN_TIME_NULL or 0: eligible from creation */
  int64_t eligible_at;           /* a delayed start or a retry's backoff */
  bool waiting;                  /* not eligible before eligible_at */
  bool live;                     /* unused by classify (it counts execs) */
  const char *concurrency_key;   /* NULL: none */
  double jitter;                 /* uniform in [0, 1): the draw of a backoff */
};

enum mn_sched_action {
  MN_SCHED_LEAVE = 0,            /* nothing to do now */
  MN_SCHED_TERMINATE,            /* set TERMINATED */
  MN_SCHED_CREATE_EXECUTION,     /* start a new attempt */
  MN_SCHED_QUEUED,               /* would start an attempt, but no capacity */
  MN_SCHED_WAIT,                 /* a retry's backoff starts: wait until wait_until[i] */
  MN_SCHED_BLOCKED,              /* would start, but its concurrency key is full */
  MN_SCHED_QUEUE_TIMEOUT         /* set TERMINATED with termination_reason QUEUE_TIMEOUT */
};

/* When an invocation's timeout_seconds and queue_timeout_seconds start to
 * count: its creation, or its start_at when later. */
int64_t mn_sched_base_time(int64_t creation_time, int64_t start_at);

/* The wait before the n-th retry (n >= 1), in microseconds: "equal jitter",
 * a time between half and all of min(max_delay, delay * factor^(n-1)),
 * placed by u in [0, 1). 0 when the function has no retry_delay_seconds. */
int64_t mn_sched_retry_wait(const struct mn_sched_fn *fn, int n, double u);

/* Why a running attempt must end now: 0 none, 1 attempt_timeout_seconds,
 * 2 heartbeat_timeout_seconds. *wake (when not NULL) gets the instant the
 * answer changes (MN_TIME_NULL when never). The heartbeat counts from the
 * later of the worker's start and its last heartbeat or /update. */
int mn_sched_attempt_expired(const struct mn_sched_exec *e, const struct mn_sched_fn *fn,
                             int64_t now, int64_t *wake);

/* The next instant after `now` at which a RUNNING invocation that is not
 * holding a worker needs a decision (its timeout, its queue timeout, the
 * end of its wait), MN_TIME_NULL when none: what the deadline index holds. */
int64_t mn_sched_next_wake(const struct mn_sched_inv *v, const struct mn_sched_fn *fn,
                           int64_t now);

/* True when the invocation's deadline has passed. Compatible with the
 * original's integer seconds: whole seconds of now > whole seconds of
 * creation + timeout, so an end written at `now` always shows
 * last_update_time > creation_time + timeout_seconds in seconds. */
bool mn_sched_timed_out(int64_t creation_time, int timeout_seconds, int64_t now);
/* The first instant at which mn_sched_timed_out becomes true. */
int64_t mn_sched_deadline(int64_t creation_time, int timeout_seconds);

/* Step 3a: marks cancel[i] = true for each invocation that must get a
 * cancellation request now (it has none yet, and its project is being
 * deleted, or an ancestor is cancelled or ended). One pass, any order. */
void mn_sched_propagate_cancellation(const struct mn_sched_inv *invs, size_t n, bool *cancel);

/* Step 3b: classifies every invocation (with the cancellations of 3a already
 * applied to cancellation_request_time by the caller, or passed through
 * `cancel`), handing out each function's free capacity in FIFO order.
 * in_use[f] is the number of RUNNING invocations of function f holding a
 * non-terminated execution. actions has n entries. */
void mn_sched_classify(const struct mn_sched_inv *invs, size_t n, const bool *cancel,
                       const struct mn_sched_fn *fns, size_t n_fns, const int *in_use,
                       int64_t now, enum mn_sched_action *actions);
/* The same, with the additions: capacity goes by priority (higher first),
 * then FIFO; at most max_concurrency_per_key attempts of one concurrency
 * key hold a worker (a queued one whose key is full is BLOCKED, and never
 * blocks the keys behind it); a waiting invocation is not eligible before
 * eligible_at; a retry with a backoff WAITs first (wait_until[i], when
 * wait_until is not NULL); an invocation not started within
 * queue_timeout_seconds of becoming eligible ends (QUEUE_TIMEOUT). */
void mn_sched_classify_ex(const struct mn_sched_inv *invs, size_t n, const bool *cancel,
                          const struct mn_sched_fn *fns, size_t n_fns, const int *in_use,
                          int64_t now, enum mn_sched_action *actions, int64_t *wait_until);

/* Step 4c: whether a RUNNING execution must get its termination signal now. */
bool mn_sched_needs_signal(const struct mn_sched_exec *e, bool cancel_requested,
                           int64_t invocation_creation_time, int timeout_seconds,
                           int64_t now);

/* Step 1: a project is deleted once marked and it has no RUNNING invocation. */
bool mn_sched_project_deletable(int64_t deletion_request_time, size_t running_invocations);

#endif
