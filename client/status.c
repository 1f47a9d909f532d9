/* The readable status of an invocation, derived on the client from its
 * InvocationInfo exactly as the original client does (docs/compatibility.md
 * §6.4), by the one implementation of its rules (common/derived_status.c). */
#include "client_internal.h"

#include "multinode/common/derived_status.h"

#include <stdio.h>
#include <string.h>

/* The client's enum mn_status is the common library's enum mn_derived. */
_Static_assert(MN_STATUS_PENDING == (int)MN_DERIVED_PENDING &&
                   MN_STATUS_RUNNING == (int)MN_DERIVED_RUNNING &&
                   MN_STATUS_CANCELLING == (int)MN_DERIVED_CANCELLING &&
                   MN_STATUS_SUCCEEDED == (int)MN_DERIVED_SUCCEEDED &&
                   MN_STATUS_FAILED == (int)MN_DERIVED_FAILED &&
                   MN_STATUS_CANCELLED == (int)MN_DERIVED_CANCELLED &&
                   MN_STATUS_TIMED_OUT == (int)MN_DERIVED_TIMED_OUT,
               "enum mn_status follows enum mn_derived");

const char *mn_status_str(enum mn_status s) {
  return mn_derived_name((enum mn_derived)s);
}

int mn_status_finished(enum mn_status s) {
  return mn_derived_finished((enum mn_derived)s);
}

static int is(const char *a, const char *b) {
  return a && strcmp(a, b) == 0;
}

static int has_value(const json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return v && !json_is_null(v);
}

/* What §6.4 reads of one ExecutionSummary (times in whole seconds). */
static struct mn_derived_attempt attempt_of(const json_t *e) {
  const char *outcome = mn_client_json_str(e, "outcome");
  const char *worker = mn_client_json_str(e, "worker_status");
  struct mn_derived_attempt a = {
      .worker = is(worker, "RUNNING")      ? MN_DERIVED_WORKER_RUNNING
                : is(worker, "TERMINATED") ? MN_DERIVED_WORKER_TERMINATED
                                           : MN_DERIVED_WORKER_OTHER,
      .outcome = !outcome                   ? MN_DERIVED_OUTCOME_NONE
                 : is(outcome, "SUCCEEDED") ? MN_DERIVED_OUTCOME_SUCCEEDED
                 : is(outcome, "FAILED")    ? MN_DERIVED_OUTCOME_FAILED
                 : is(outcome, "ABORTED")   ? MN_DERIVED_OUTCOME_ABORTED
                                            : MN_DERIVED_OUTCOME_OTHER,
      .started = has_value(e, "execution_start_time"),
  };
  a.signalled = mn_client_json_int(e, "termination_signal_time", &a.signal_s);
  return a;
}

static int need_int(const json_t *obj, const char *key, long long *out,
                    struct mn_client_error *err) {
  if (!mn_client_json_int(obj, key, out))
    return mn_client__fail(err, MN_CLIENT_E_PROTOCOL, "InvocationInfo: %s is missing", key);
  return 0;
}

int mn_status_derive(const json_t *inv, struct mn_status_info *out, struct mn_client_error *err) {
  const json_t *spec = json_object_get(inv, "execution_spec");
  const json_t *execs = json_object_get(inv, "executions");
  const char *server_status = mn_client_json_str(inv, "invocation_status");
  long long latest_update = 0;
  struct mn_derived_invocation f = {0};
  struct mn_derived_tally t;
  const json_t *latest = NULL;
  size_t i;
  int rc;

  memset(out, 0, sizeof *out);
  if (!json_is_object(inv) || !json_is_object(spec) || !json_is_array(execs) ||
      !server_status)
    return mn_client__fail(err, MN_CLIENT_E_PROTOCOL,
                           "InvocationInfo: execution_spec, executions or "
                           "invocation_status is missing");
  if ((rc = need_int(inv, "creation_time", &f.creation_s, err)) < 0 ||
      (rc = need_int(inv, "last_update_time", &f.last_update_s, err)) < 0 ||
      (rc = need_int(spec, "timeout_seconds", &f.timeout_seconds, err)) < 0 ||
      (rc = need_int(spec, "max_retries", &f.max_retries, err)) < 0)
    return rc;
  /* additive: a delayed start (start_at) */
  const json_t *start_at = json_object_get(inv, "start_at");
  f.has_start_at = json_is_number(start_at);
  if (f.has_start_at)
    f.start_at_s = (long long)json_number_value(start_at);
  f.terminated = is(server_status, "TERMINATED");
  f.queue_timeout = is(mn_client_json_str(inv, "termination_reason"), "QUEUE_TIMEOUT");
  f.cancelling = has_value(inv, "cancellation_request_time");
  mn_derived_begin(&t, &f);

  int use_us = json_array_size(execs) > 0;
  for (i = 0; i < json_array_size(execs); i++)
    use_us &= json_is_integer(json_object_get(json_array_get(execs, i), "last_update_time_us"));
  for (i = 0; i < json_array_size(execs); i++) {
    const json_t *e = json_array_get(execs, i);
    long long when = 0;
    if (!json_is_object(e))
      return mn_client__fail(err, MN_CLIENT_E_PROTOCOL, "InvocationInfo: executions[%zu]", i);
    struct mn_derived_attempt a = attempt_of(e);
    mn_derived_add(&t, &a);
    /* the microsecond time when every execution has it (this daemon's),
     * else the original's seconds; on a tie the later attempt wins, as in
     * the Python and JavaScript clients (tests/data/status) */
    if (!(use_us && mn_client_json_int(e, "last_update_time_us", &when)))
      mn_client_json_int(e, "last_update_time", &when);
    if (!latest || when >= latest_update) {
      latest = e;
      latest_update = when;
    }
  }

  out->terminated = f.terminated;
  out->num_failed_attempts = t.failed;
  out->status = (enum mn_status)mn_derived_end(&t, &f);
  if (latest) {
    out->result = mn_client_json_str(latest, "output");
    out->error = mn_client_json_str(latest, "error_message");
    out->latest_execution_id = mn_client_json_str(latest, "execution_id");
  }
  return 0;
}

void mn_status_readable(const struct mn_status_info *info, char *buf, size_t size) {
  size_t n;
  if (!size)
    return;
  snprintf(buf, size, "%s", mn_status_str(info->status));
  n = strlen(buf);
  if (info->num_failed_attempts > 0 && n < size)
    n += (size_t)snprintf(buf + n, size - n, ", %d failed attempt%s", info->num_failed_attempts,
                          info->num_failed_attempts == 1 ? "" : "s");
  if (mn_status_finished(info->status) && !info->terminated && n < size)
    snprintf(buf + n, size - n, " - terminating");
}
