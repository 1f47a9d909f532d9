/* Derived status (derived_status.h): the rules of docs/compatibility.md
 * §6.4, first match wins, with times compared in whole seconds as the
 * original client sees them. */
#include "api/derived_status.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

struct exec_facts {
  enum mn_worker_status worker;
  enum mn_outcome outcome;
  int64_t signal_time; /* microseconds or MN_TIME_NULL */
  int64_t start_time;
};

struct inv_facts {
  enum mn_invocation_status status;
  int64_t cancellation_time, creation_time, last_update_time;
  long long timeout_seconds, max_retries;
  const char *termination_reason; /* NULL: none (issue 14's QUEUE_TIMEOUT, ...) */
  int64_t start_at;               /* a delayed start, or MN_TIME_NULL */
};

/* What it reads of each attempt is mirrored by mn_attempt_facts of migration
 * 11 (store/migrations.c), which writes an `invocation` event only when one
 * of those facts changes: a change here goes there too. */
static const char *decide(const struct inv_facts *inv, const struct exec_facts *e, size_t n) {
  /* timeout_seconds counts from a delayed start (start_at) when later */
  long long created = mn_us_to_s(inv->creation_time);
  if (inv->start_at != MN_TIME_NULL && mn_us_to_s(inv->start_at) > created)
    created = mn_us_to_s(inv->start_at);
  long long deadline = created + inv->timeout_seconds;
  bool success = false, abort_late = false, abort = false, running = false;
  long long failed = 0;
  for (size_t k = 0; k < n; k++) {
    bool signalled = e[k].signal_time != MN_TIME_NULL;
    bool started = e[k].start_time != MN_TIME_NULL;
    bool bare_end = e[k].worker == MN_WORKER_TERMINATED && e[k].outcome == MN_OUTCOME_NONE;
    bool aborted_unstarted = bare_end && signalled && !started;
    bool aborted = e[k].outcome == MN_OUTCOME_ABORTED || aborted_unstarted;
    success |= e[k].outcome == MN_OUTCOME_SUCCEEDED;
    abort |= aborted;
    abort_late |= aborted && signalled && mn_us_to_s(e[k].signal_time) > deadline;
    failed += e[k].outcome == MN_OUTCOME_FAILED || (bare_end && !aborted_unstarted);
    running |= e[k].worker == MN_WORKER_RUNNING && started && e[k].outcome == MN_OUTCOME_NONE;
  }
  bool terminated = inv->status == MN_INVOCATION_TERMINATED;
  if (success)
    return "SUCCEEDED";
  if (abort_late)
    return "TIMED OUT";
  if (abort)
    return "CANCELLED";
  if (failed == inv->max_retries + 1)
    return "FAILED";
  if (terminated && inv->termination_reason &&
      strcmp(inv->termination_reason, "QUEUE_TIMEOUT") == 0)
    return "TIMED OUT"; /* not started within queue_timeout_seconds */
  if (terminated && mn_us_to_s(inv->last_update_time) > deadline)
    return "TIMED OUT";
  if (terminated)
    return "CANCELLED";
  if (inv->cancellation_time != MN_TIME_NULL)
    return "CANCELLING";
  return running ? "RUNNING" : "PENDING";
}

const char *mn_derived_status(const struct mn_invocation *inv) {
  struct exec_facts small[8] = {{0}}, *e = small;
  size_t n = inv->n_executions;
  if (n > 8 && !(e = malloc(n * sizeof *e)))
    return "UNKNOWN";
  for (size_t k = 0; k < n; k++)
    e[k] = (struct exec_facts){inv->executions[k].worker_status, inv->executions[k].outcome,
                               inv->executions[k].termination_signal_time,
                               inv->executions[k].execution_start_time};
  struct inv_facts f = {inv->invocation_status, inv->cancellation_request_time,
                        inv->creation_time, inv->last_update_time,
                        inv->function.execution_spec.timeout_seconds,
                        inv->function.execution_spec.max_retries, inv->termination_reason,
                        inv->start_at};
  const char *s = decide(&f, e, n);
  if (e != small)
    free(e);
  return s;
}

static int64_t time_of(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : MN_TIME_NULL;
}

const char *mn_derived_status_json(const json_t *snap) {
  const json_t *execs = json_object_get(snap, "executions");
  size_t n = json_array_size(execs);
  struct exec_facts small[8] = {{0}}, *e = small;
  if (n > 8 && !(e = malloc(n * sizeof *e)))
    return "UNKNOWN";
  for (size_t k = 0; k < n; k++) {
    const json_t *x = json_array_get(execs, k);
    e[k] = (struct exec_facts){MN_WORKER_PENDING, MN_OUTCOME_NONE,
                               time_of(x, "termination_signal_time"),
                               time_of(x, "execution_start_time")};
    const char *w = json_string_value(json_object_get(x, "worker_status"));
    const char *o = json_string_value(json_object_get(x, "outcome"));
    if (w)
      mn_worker_status_parse(w, &e[k].worker);
    if (o)
      mn_outcome_parse(o, &e[k].outcome);
  }
  struct inv_facts f = {MN_INVOCATION_RUNNING, time_of(snap, "cancellation_request_time"),
                        time_of(snap, "creation_time"), time_of(snap, "last_update_time"),
                        json_integer_value(json_object_get(snap, "timeout_seconds")),
                        json_integer_value(json_object_get(snap, "max_retries")),
                        json_string_value(json_object_get(snap, "termination_reason")),
                        time_of(snap, "start_at")};
  const char *st = json_string_value(json_object_get(snap, "invocation_status"));
  if (st)
    mn_invocation_status_parse(st, &f.status);
  const char *s = decide(&f, e, n);
  if (e != small)
    free(e);
  return s;
}

bool mn_derived_status_finished(const char *s) {
  return strcmp(s, "SUCCEEDED") == 0 || strcmp(s, "FAILED") == 0 ||
         strcmp(s, "CANCELLED") == 0 || strcmp(s, "TIMED OUT") == 0;
}
