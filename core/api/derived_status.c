/* The daemon's inputs to the derived status (derived_status.h): times in
 * microseconds become the whole seconds the original client sees. */
#include "api/derived_status.h"

#include <string.h>

#include "util/clock.h"

static struct mn_derived_attempt attempt(enum mn_worker_status w, enum mn_outcome o,
                                         int64_t signal_time, int64_t start_time) {
  struct mn_derived_attempt a = {
      .worker = w == MN_WORKER_RUNNING      ? MN_DERIVED_WORKER_RUNNING
                : w == MN_WORKER_TERMINATED ? MN_DERIVED_WORKER_TERMINATED
                                            : MN_DERIVED_WORKER_OTHER,
      .outcome = o == MN_OUTCOME_NONE        ? MN_DERIVED_OUTCOME_NONE
                 : o == MN_OUTCOME_SUCCEEDED ? MN_DERIVED_OUTCOME_SUCCEEDED
                 : o == MN_OUTCOME_FAILED    ? MN_DERIVED_OUTCOME_FAILED
                 : o == MN_OUTCOME_ABORTED   ? MN_DERIVED_OUTCOME_ABORTED
                                             : MN_DERIVED_OUTCOME_OTHER,
      .started = start_time != MN_TIME_NULL,
      .signalled = signal_time != MN_TIME_NULL,
      .signal_s = signal_time == MN_TIME_NULL ? 0 : mn_us_to_s(signal_time),
  };
  return a;
}

static struct mn_derived_invocation invocation(enum mn_invocation_status st, const char *reason,
                                               int64_t cancellation, int64_t creation,
                                               int64_t last_update, int64_t start_at,
                                               long long timeout, long long max_retries) {
  struct mn_derived_invocation f = {
      .terminated = st == MN_INVOCATION_TERMINATED,
      .queue_timeout = reason && strcmp(reason, "QUEUE_TIMEOUT") == 0,
      .cancelling = cancellation != MN_TIME_NULL,
      .creation_s = mn_us_to_s(creation),
      .last_update_s = mn_us_to_s(last_update),
      .has_start_at = start_at != MN_TIME_NULL,
      .start_at_s = start_at == MN_TIME_NULL ? 0 : mn_us_to_s(start_at),
      .timeout_seconds = timeout,
      .max_retries = max_retries,
  };
  return f;
}

enum mn_derived mn_derived_status(const struct mn_invocation *inv) {
  struct mn_derived_invocation f = invocation(
      inv->invocation_status, inv->termination_reason, inv->cancellation_request_time,
      inv->creation_time, inv->last_update_time, inv->start_at,
      inv->function.execution_spec.timeout_seconds, inv->function.execution_spec.max_retries);
  struct mn_derived_tally t;
  mn_derived_begin(&t, &f);
  for (size_t k = 0; k < inv->n_executions; k++) {
    const struct mn_execution *x = &inv->executions[k];
    struct mn_derived_attempt a = attempt(x->worker_status, x->outcome,
                                          x->termination_signal_time, x->execution_start_time);
    mn_derived_add(&t, &a);
  }
  return mn_derived_end(&t, &f);
}

static int64_t time_of(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_integer(v) ? (int64_t)json_integer_value(v) : MN_TIME_NULL;
}

enum mn_derived mn_derived_status_json(const json_t *snap) {
  enum mn_invocation_status st = MN_INVOCATION_RUNNING;
  const char *s = json_string_value(json_object_get(snap, "invocation_status"));
  if (s)
    mn_invocation_status_parse(s, &st);
  struct mn_derived_invocation f =
      invocation(st, json_string_value(json_object_get(snap, "termination_reason")),
                 time_of(snap, "cancellation_request_time"), time_of(snap, "creation_time"),
                 time_of(snap, "last_update_time"), time_of(snap, "start_at"),
                 json_integer_value(json_object_get(snap, "timeout_seconds")),
                 json_integer_value(json_object_get(snap, "max_retries")));
  struct mn_derived_tally t;
  mn_derived_begin(&t, &f);
  size_t k;
  const json_t *x;
  json_array_foreach(json_object_get(snap, "executions"), k, x) {
    enum mn_worker_status w = MN_WORKER_PENDING;
    enum mn_outcome o = MN_OUTCOME_NONE;
    const char *ws = json_string_value(json_object_get(x, "worker_status"));
    const char *os = json_string_value(json_object_get(x, "outcome"));
    if (ws)
      mn_worker_status_parse(ws, &w);
    if (os)
      mn_outcome_parse(os, &o);
    struct mn_derived_attempt a = attempt(w, o, time_of(x, "termination_signal_time"),
                                          time_of(x, "execution_start_time"));
    mn_derived_add(&t, &a);
  }
  return mn_derived_end(&t, &f);
}
