/* The derived status (derived_status.h): the rules of
 * docs/compatibility.md §6.4, first match wins. */
#include "multinode/common/derived_status.h"

#include <string.h>

static const char *const names[] = {
    [MN_DERIVED_PENDING] = "PENDING",       [MN_DERIVED_RUNNING] = "RUNNING",
    [MN_DERIVED_CANCELLING] = "CANCELLING", [MN_DERIVED_SUCCEEDED] = "SUCCEEDED",
    [MN_DERIVED_FAILED] = "FAILED",         [MN_DERIVED_CANCELLED] = "CANCELLED",
    [MN_DERIVED_TIMED_OUT] = "TIMED OUT",
};

void mn_derived_begin(struct mn_derived_tally *t, const struct mn_derived_invocation *inv) {
  memset(t, 0, sizeof *t);
  /* timeout_seconds counts from a delayed start (start_at) when later */
  long long from = inv->creation_s;
  if (inv->has_start_at && inv->start_at_s > from)
    from = inv->start_at_s;
  t->deadline_s = from + inv->timeout_seconds;
}

void mn_derived_add(struct mn_derived_tally *t, const struct mn_derived_attempt *a) {
  bool bare_end = a->worker == MN_DERIVED_WORKER_TERMINATED && a->outcome == MN_DERIVED_OUTCOME_NONE;
  /* signalled before it ever started: the cancellation or timeout won */
  bool aborted_unstarted = bare_end && a->signalled && !a->started;
  bool aborted = a->outcome == MN_DERIVED_OUTCOME_ABORTED || aborted_unstarted;
  t->success |= a->outcome == MN_DERIVED_OUTCOME_SUCCEEDED;
  t->abort |= aborted;
  t->abort_late |= aborted && a->signalled && a->signal_s > t->deadline_s;
  t->failed += a->outcome == MN_DERIVED_OUTCOME_FAILED || (bare_end && !aborted_unstarted);
  t->running |= a->worker == MN_DERIVED_WORKER_RUNNING && a->started &&
                a->outcome == MN_DERIVED_OUTCOME_NONE;
}

enum mn_derived mn_derived_end(const struct mn_derived_tally *t,
                               const struct mn_derived_invocation *inv) {
  if (t->success)
    return MN_DERIVED_SUCCEEDED; /* 1 */
  if (t->abort_late)
    return MN_DERIVED_TIMED_OUT; /* 2 */
  if (t->abort)
    return MN_DERIVED_CANCELLED; /* 3 */
  if (t->failed == inv->max_retries + 1)
    return MN_DERIVED_FAILED; /* 4: also while still RUNNING */
  if (inv->terminated && inv->queue_timeout)
    return MN_DERIVED_TIMED_OUT; /* 5: not started within queue_timeout_seconds */
  if (inv->terminated && inv->last_update_s > t->deadline_s)
    return MN_DERIVED_TIMED_OUT; /* 5: timed out while queued */
  if (inv->terminated)
    return MN_DERIVED_CANCELLED; /* 6: cancelled while queued, project deleted */
  if (inv->cancelling)
    return MN_DERIVED_CANCELLING; /* 7 */
  return t->running ? MN_DERIVED_RUNNING : MN_DERIVED_PENDING; /* 8, 9 */
}

const char *mn_derived_name(enum mn_derived s) {
  if ((unsigned)s < sizeof names / sizeof names[0])
    return names[s];
  return "UNKNOWN";
}

bool mn_derived_finished(enum mn_derived s) {
  return s == MN_DERIVED_SUCCEEDED || s == MN_DERIVED_FAILED || s == MN_DERIVED_CANCELLED ||
         s == MN_DERIVED_TIMED_OUT;
}
