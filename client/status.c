/* The readable status of an invocation, derived on the client from its
 * InvocationInfo exactly as the original client does (docs/compatibility.md §6.4). */
#include "client_internal.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    [MN_STATUS_PENDING] = "PENDING",     [MN_STATUS_RUNNING] = "RUNNING",
    [MN_STATUS_CANCELLING] = "CANCELLING", [MN_STATUS_SUCCEEDED] = "SUCCEEDED",
    [MN_STATUS_FAILED] = "FAILED",       [MN_STATUS_CANCELLED] = "CANCELLED",
    [MN_STATUS_TIMED_OUT] = "TIMED OUT",
};

const char *mn_status_str(enum mn_status s) {
  if ((unsigned)s < sizeof names / sizeof names[0])
    return names[s];
  return "UNKNOWN";
}

int mn_status_finished(enum mn_status s) {
  return s == MN_STATUS_SUCCEEDED || s == MN_STATUS_FAILED || s == MN_STATUS_CANCELLED ||
         s == MN_STATUS_TIMED_OUT;
}

/* What §6.4 needs to know about one execution. */
struct exec_facts {
  int successful;
  int aborted;
  int failed;
  int post_timeout; /* meaningful when aborted */
  int running_code; /* RUNNING, started, no outcome */
};

static int is(const char *a, const char *b) {
  return a && strcmp(a, b) == 0;
}

static int has_value(const json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return v && !json_is_null(v);
}

static void classify(const json_t *e, long long deadline, struct exec_facts *f) {
  const char *outcome = mn_client_json_str(e, "outcome");
  const char *worker = mn_client_json_str(e, "worker_status");
  long long signal_time = 0;
  int signalled = mn_client_json_int(e, "termination_signal_time", &signal_time);
  int started = has_value(e, "execution_start_time");
  int terminated_without_outcome = is(worker, "TERMINATED") && !outcome;
  /* signalled before it ever started: the cancellation or timeout won */
  int aborted_without_start = terminated_without_outcome && signalled && !started;

  memset(f, 0, sizeof *f);
  f->successful = is(outcome, "SUCCEEDED");
  f->aborted = is(outcome, "ABORTED") || aborted_without_start;
  f->failed = is(outcome, "FAILED") || (terminated_without_outcome && !aborted_without_start);
  f->post_timeout = signalled && signal_time > deadline;
  f->running_code = is(worker, "RUNNING") && started && !outcome;
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
  long long created, updated, timeout, max_retries, latest_update = 0;
  int any_success = 0, any_abort_late = 0, any_abort = 0, any_running = 0;
  const json_t *latest = NULL;
  size_t i;
  int rc;

  memset(out, 0, sizeof *out);
  if (!json_is_object(inv) || !json_is_object(spec) || !json_is_array(execs) ||
      !server_status)
    return mn_client__fail(err, MN_CLIENT_E_PROTOCOL,
                           "InvocationInfo: execution_spec, executions or "
                           "invocation_status is missing");
  if ((rc = need_int(inv, "creation_time", &created, err)) < 0 ||
      (rc = need_int(inv, "last_update_time", &updated, err)) < 0 ||
      (rc = need_int(spec, "timeout_seconds", &timeout, err)) < 0 ||
      (rc = need_int(spec, "max_retries", &max_retries, err)) < 0)
    return rc;

  /* additive: timeout_seconds counts from a delayed start (start_at) */
  const json_t *start_at = json_object_get(inv, "start_at");
  if (json_is_number(start_at) && (long long)json_number_value(start_at) > created)
    created = (long long)json_number_value(start_at);
  long long deadline = created + timeout;
  int use_us = json_array_size(execs) > 0;
  for (i = 0; i < json_array_size(execs); i++)
    use_us &= json_is_integer(json_object_get(json_array_get(execs, i), "last_update_time_us"));
  for (i = 0; i < json_array_size(execs); i++) {
    const json_t *e = json_array_get(execs, i);
    struct exec_facts f;
    long long t = 0;
    if (!json_is_object(e))
      return mn_client__fail(err, MN_CLIENT_E_PROTOCOL, "InvocationInfo: executions[%zu]", i);
    classify(e, deadline, &f);
    any_success |= f.successful;
    any_abort |= f.aborted;
    any_abort_late |= f.aborted && f.post_timeout;
    any_running |= f.running_code;
    out->num_failed_attempts += f.failed;
    /* the microsecond time when every execution has it (this daemon's),
     * else the original's seconds; on a tie the later attempt wins, as in
     * the Python and JavaScript clients (tests/data/status) */
    if (!(use_us && mn_client_json_int(e, "last_update_time_us", &t)))
      mn_client_json_int(e, "last_update_time", &t);
    if (!latest || t >= latest_update) {
      latest = e;
      latest_update = t;
    }
  }

  out->terminated = is(server_status, "TERMINATED");
  if (latest) {
    out->result = mn_client_json_str(latest, "output");
    out->error = mn_client_json_str(latest, "error_message");
    out->latest_execution_id = mn_client_json_str(latest, "execution_id");
  }

  if (any_success)
    out->status = MN_STATUS_SUCCEEDED; /* 1 */
  else if (any_abort_late)
    out->status = MN_STATUS_TIMED_OUT; /* 2 */
  else if (any_abort)
    out->status = MN_STATUS_CANCELLED; /* 3 */
  else if (out->num_failed_attempts == max_retries + 1)
    out->status = MN_STATUS_FAILED; /* 4: also while still RUNNING */
  else if (out->terminated && is(mn_client_json_str(inv, "termination_reason"), "QUEUE_TIMEOUT"))
    out->status = MN_STATUS_TIMED_OUT; /* 5: not started within queue_timeout_seconds */
  else if (out->terminated && updated > deadline)
    out->status = MN_STATUS_TIMED_OUT; /* 5: timed out while queued */
  else if (out->terminated)
    out->status = MN_STATUS_CANCELLED; /* 6: cancelled while queued, project deleted */
  else if (has_value(inv, "cancellation_request_time"))
    out->status = MN_STATUS_CANCELLING; /* 7 */
  else if (any_running)
    out->status = MN_STATUS_RUNNING; /* 8 */
  else
    out->status = MN_STATUS_PENDING; /* 9 */
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
