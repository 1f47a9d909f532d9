/* The derived status an invocation ends with (reference §6.4, rules 1-6),
 * computed once by the scheduler when it terminates the invocation. */
#include "metrics/metrics.h"

#include "util/clock.h"

enum mn_metrics_end mn_metrics_end_of(const struct mn_invocation *inv, int timeout_seconds,
                                      int max_retries, bool queue_timeout, int64_t now) {
  int64_t limit = inv->creation_time + (int64_t)timeout_seconds * MN_US_PER_S;
  bool aborted_late = false, aborted = false;
  size_t failed = 0;
  for (size_t i = 0; i < inv->n_executions; i++) {
    const struct mn_execution *e = &inv->executions[i];
    bool signalled = e->termination_signal_time != MN_TIME_NULL;
    if (e->outcome == MN_OUTCOME_SUCCEEDED)
      return MN_END_SUCCEEDED; /* 1 */
    bool is_aborted =
        e->outcome == MN_OUTCOME_ABORTED ||
        (e->worker_status == MN_WORKER_TERMINATED && e->outcome == MN_OUTCOME_NONE &&
         signalled && e->execution_start_time == MN_TIME_NULL);
    if (is_aborted) {
      aborted = true;
      aborted_late |= signalled && e->termination_signal_time > limit;
    } else if (e->outcome == MN_OUTCOME_FAILED ||
               (e->worker_status == MN_WORKER_TERMINATED && e->outcome == MN_OUTCOME_NONE)) {
      failed++;
    }
  }
  if (aborted_late)
    return MN_END_TIMED_OUT; /* 2 */
  if (aborted)
    return MN_END_CANCELLED; /* 3 */
  if (failed >= (size_t)max_retries + 1)
    return MN_END_FAILED; /* 4 */
  if (queue_timeout)
    return MN_END_TIMED_OUT; /* 5: not started within its queue timeout */
  return now > limit ? MN_END_TIMED_OUT : MN_END_CANCELLED; /* 5, 6 */
}
