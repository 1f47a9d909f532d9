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
};

struct mn_sched_fn {
  bool ready;             /* function_status READY */
  bool preparation_failed; /* PENDING with a preparation_error */
  int max_retries;
  int timeout_seconds;
  int max_concurrency;
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
};

enum mn_sched_action {
  MN_SCHED_LEAVE = 0,            /* nothing to do now */
  MN_SCHED_TERMINATE,            /* set TERMINATED */
  MN_SCHED_CREATE_EXECUTION,     /* start a new attempt */
  MN_SCHED_QUEUED                /* would start an attempt, but no capacity */
};

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

/* Step 4c: whether a RUNNING execution must get its termination signal now. */
bool mn_sched_needs_signal(const struct mn_sched_exec *e, bool cancel_requested,
                           int64_t invocation_creation_time, int timeout_seconds,
                           int64_t now);

/* Step 1: a project is deleted once marked and it has no RUNNING invocation. */
bool mn_sched_project_deletable(int64_t deletion_request_time, size_t running_invocations);

#endif
