/* The derived invocation status of the client (docs/compatibility.md §6.4): every rule,
 * its order, its boundaries, and where result and error come from. Pure:
 * InvocationInfo documents are built by hand, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "multinode/client.h"

#define NONE (-1)
#define CREATED 1000
#define TIMEOUT 30

/* An InvocationInfo with the fields the derivation reads. */
static json_t *invocation(const char *server_status, long long last_update, int max_retries,
                          long long cancellation_time) {
  json_t *inv = json_pack(
      "{s:s, s:s, s:s, s:s, s:n, s:{s:f, s:f, s:i}, s:{s:i, s:i}, s:s, s:n, s:s, s:o, s:s, s:I, "
      "s:I, s:[]}",
      "project_name", "p", "version_id", "ver-1", "function_name", "f", "invocation_id",
      "inv-1", "parent_invocation", "resource_spec", "virtual_cpus", 1.0, "memory_gbs", 4.0,
      "max_concurrency", 10, "execution_spec", "max_retries", max_retries, "timeout_seconds",
      TIMEOUT, "function_status", "READY", "prepared_function_details", "input", "x",
      "cancellation_request_time",
      cancellation_time == NONE ? json_null() : json_integer(cancellation_time),
      "invocation_status", server_status, "creation_time", (json_int_t)CREATED,
      "last_update_time", (json_int_t)last_update, "executions");
  assert_non_null(inv);
  return inv;
}

static json_t *opt_int(long long v) {
  return v == NONE ? json_null() : json_integer(v);
}

static json_t *opt_str(const char *s) {
  return s ? json_string(s) : json_null();
}

/* Appends an ExecutionSummary to inv. */
static void execution(json_t *inv, const char *id, const char *worker, const char *outcome,
                      long long started, long long signalled, long long last_update,
                      const char *output, const char *error) {
  json_t *e = json_pack("{s:s, s:s, s:n, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:n}",
                        "execution_id", id, "worker_status", worker, "worker_details",
                        "termination_signal_time", opt_int(signalled), "outcome",
                        opt_str(outcome), "output", opt_str(output), "error_message",
                        opt_str(error), "creation_time", (json_int_t)CREATED,
                        "last_update_time", (json_int_t)last_update, "execution_start_time",
                        opt_int(started), "execution_finish_time");
  assert_non_null(e);
  assert_int_equal(json_array_append_new(json_object_get(inv, "executions"), e), 0);
}

static struct mn_status_info derive(json_t *inv) {
  struct mn_status_info info;
  struct mn_client_error err;
  assert_int_equal(mn_status_derive(inv, &info, &err), 0);
  return info;
}

static void expect(json_t *inv, enum mn_status want) {
  struct mn_status_info info = derive(inv);
  assert_string_equal(mn_status_str(info.status), mn_status_str(want));
  json_decref(inv);
}

static void test_status_strings(void **state) {
  assert_string_equal(mn_status_str(MN_STATUS_PENDING), "PENDING");
  assert_string_equal(mn_status_str(MN_STATUS_RUNNING), "RUNNING");
  assert_string_equal(mn_status_str(MN_STATUS_CANCELLING), "CANCELLING");
  assert_string_equal(mn_status_str(MN_STATUS_SUCCEEDED), "SUCCEEDED");
  assert_string_equal(mn_status_str(MN_STATUS_FAILED), "FAILED");
  assert_string_equal(mn_status_str(MN_STATUS_CANCELLED), "CANCELLED");
  assert_string_equal(mn_status_str(MN_STATUS_TIMED_OUT), "TIMED OUT");
  assert_false(mn_status_finished(MN_STATUS_PENDING));
  assert_false(mn_status_finished(MN_STATUS_RUNNING));
  assert_false(mn_status_finished(MN_STATUS_CANCELLING));
  assert_true(mn_status_finished(MN_STATUS_SUCCEEDED));
  assert_true(mn_status_finished(MN_STATUS_FAILED));
  assert_true(mn_status_finished(MN_STATUS_CANCELLED));
  assert_true(mn_status_finished(MN_STATUS_TIMED_OUT));
}

/* rule 9: nothing has happened yet, or a worker is being provisioned */
static void test_pending(void **state) {
  expect(invocation("RUNNING", CREATED, 0, NONE), MN_STATUS_PENDING);

  json_t *inv = invocation("RUNNING", CREATED, 0, NONE);
  execution(inv, "exe-1", "PENDING", NULL, NONE, NONE, CREATED, NULL, NULL);
  expect(inv, MN_STATUS_PENDING);

  inv = invocation("RUNNING", CREATED, 0, NONE);
  execution(inv, "exe-1", "PROVISIONING", NULL, NONE, NONE, CREATED, NULL, NULL);
  expect(inv, MN_STATUS_PENDING);

  /* worker RUNNING but the code has not started (cold start) */
  inv = invocation("RUNNING", CREATED, 0, NONE);
  execution(inv, "exe-1", "RUNNING", NULL, NONE, NONE, CREATED, NULL, NULL);
  expect(inv, MN_STATUS_PENDING);
}

/* rule 8: a RUNNING, started execution with no outcome */
static void test_running(void **state) {
  json_t *inv = invocation("RUNNING", CREATED, 0, NONE);
  execution(inv, "exe-1", "RUNNING", NULL, CREATED + 1, NONE, CREATED + 2, "50%", NULL);
  struct mn_status_info info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_RUNNING);
  assert_string_equal(info.result, "50%");
  assert_null(info.error);
  assert_false(info.terminated);
  json_decref(inv);

  /* finished its code, being deprovisioned: not RUNNING any more */
  inv = invocation("RUNNING", CREATED, 2, NONE);
  execution(inv, "exe-1", "RUNNING", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "boom");
  expect(inv, MN_STATUS_PENDING);
}

/* rule 1, and its priority over every other rule */
static void test_succeeded(void **state) {
  json_t *inv = invocation("RUNNING", CREATED, 0, NONE);
  execution(inv, "exe-1", "RUNNING", "SUCCEEDED", CREATED + 1, NONE, CREATED + 2, "42", NULL);
  struct mn_status_info info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_SUCCEEDED);
  assert_string_equal(info.result, "42");
  char buf[128];
  mn_status_readable(&info, buf, sizeof buf);
  assert_string_equal(buf, "SUCCEEDED - terminating");
  json_decref(inv);

  /* over a cancellation request, an abort after the timeout, and failures */
  inv = invocation("TERMINATED", CREATED + 100, 1, CREATED + 5);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "x");
  execution(inv, "exe-2", "TERMINATED", "ABORTED", CREATED + 3, CREATED + TIMEOUT + 5,
            CREATED + 50, NULL, NULL);
  execution(inv, "exe-3", "TERMINATED", "SUCCEEDED", CREATED + 3, NONE, CREATED + 4, "ok",
            NULL);
  info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_SUCCEEDED);
  assert_true(info.terminated);
  assert_int_equal(info.num_failed_attempts, 1);
  mn_status_readable(&info, buf, sizeof buf);
  assert_string_equal(buf, "SUCCEEDED, 1 failed attempt");
  json_decref(inv);
}

/* rules 2 and 3: an ABORTED execution, after or before the deadline */
static void test_aborted(void **state) {
  json_t *inv = invocation("RUNNING", CREATED, 0, NONE);
  execution(inv, "exe-1", "RUNNING", "ABORTED", CREATED + 1, CREATED + TIMEOUT + 1,
            CREATED + TIMEOUT + 2, NULL, NULL);
  expect(inv, MN_STATUS_TIMED_OUT);

  /* strictly greater: a signal exactly at the deadline is a cancellation */
  inv = invocation("RUNNING", CREATED, 0, CREATED + TIMEOUT);
  execution(inv, "exe-1", "RUNNING", "ABORTED", CREATED + 1, CREATED + TIMEOUT,
            CREATED + TIMEOUT + 2, NULL, NULL);
  expect(inv, MN_STATUS_CANCELLED);

  /* aborted with no signal time recorded: not post-timeout */
  inv = invocation("RUNNING", CREATED, 0, CREATED + 3);
  execution(inv, "exe-1", "RUNNING", "ABORTED", CREATED + 1, NONE, CREATED + 4, NULL, NULL);
  expect(inv, MN_STATUS_CANCELLED);

  /* rule 2 before rule 3 and before rule 4 */
  inv = invocation("TERMINATED", CREATED + TIMEOUT + 9, 1, NONE);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "x");
  execution(inv, "exe-2", "TERMINATED", "ABORTED", CREATED + 3, CREATED + 5, CREATED + 6, NULL,
            NULL);
  execution(inv, "exe-3", "TERMINATED", "ABORTED", CREATED + 7, CREATED + TIMEOUT + 1,
            CREATED + TIMEOUT + 2, NULL, NULL);
  expect(inv, MN_STATUS_TIMED_OUT);

  /* rule 3 before rule 4: failures used up, but one attempt was aborted */
  inv = invocation("TERMINATED", CREATED + 9, 1, CREATED + 4);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "x");
  execution(inv, "exe-2", "TERMINATED", NULL, CREATED + 3, NONE, CREATED + 4, NULL, NULL);
  execution(inv, "exe-3", "TERMINATED", "ABORTED", CREATED + 5, CREATED + 6, CREATED + 7, NULL,
            NULL);
  expect(inv, MN_STATUS_CANCELLED);
}

/* TERMINATED without outcome, signalled, never started: aborted, not failed */
static void test_aborted_without_start(void **state) {
  json_t *inv = invocation("TERMINATED", CREATED + 5, 0, CREATED + 2);
  execution(inv, "exe-1", "TERMINATED", NULL, NONE, CREATED + 3, CREATED + 4, NULL, NULL);
  struct mn_status_info info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_CANCELLED);
  assert_int_equal(info.num_failed_attempts, 0);
  json_decref(inv);

  /* the same after the deadline: a timeout before the code ran */
  inv = invocation("TERMINATED", CREATED + TIMEOUT + 5, 0, NONE);
  execution(inv, "exe-1", "TERMINATED", NULL, NONE, CREATED + TIMEOUT + 1,
            CREATED + TIMEOUT + 4, NULL, NULL);
  expect(inv, MN_STATUS_TIMED_OUT);

  /* started, then signalled and killed after the grace period: failed */
  inv = invocation("RUNNING", CREATED, 0, CREATED + 2);
  execution(inv, "exe-1", "TERMINATED", NULL, CREATED + 1, CREATED + 3, CREATED + 200, NULL,
            NULL);
  info = derive(inv);
  assert_int_equal(info.num_failed_attempts, 1);
  assert_int_equal(info.status, MN_STATUS_FAILED);
  json_decref(inv);
}

/* rule 4: failures == max_retries + 1, also while the server says RUNNING */
static void test_failed(void **state) {
  json_t *inv = invocation("RUNNING", CREATED, 1, NONE);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "e1");
  /* a hardware failure: TERMINATED, started, no outcome, no signal */
  execution(inv, "exe-2", "TERMINATED", NULL, CREATED + 3, NONE, CREATED + 4, NULL, NULL);
  struct mn_status_info info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_FAILED);
  assert_int_equal(info.num_failed_attempts, 2);
  assert_false(info.terminated);
  char buf[128];
  mn_status_readable(&info, buf, sizeof buf);
  assert_string_equal(buf, "FAILED, 2 failed attempts - terminating");
  json_decref(inv);

  /* a provisioning failure counts too (never started, never signalled) */
  inv = invocation("TERMINATED", CREATED + 2, 0, NONE);
  execution(inv, "exe-1", "TERMINATED", NULL, NONE, NONE, CREATED + 1, NULL,
            "cannot provision container");
  info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_FAILED);
  assert_string_equal(info.error, "cannot provision container");
  json_decref(inv);

  /* rule 4 before rule 5: used-up retries are FAILED even after the deadline */
  inv = invocation("TERMINATED", CREATED + TIMEOUT + 10, 0, NONE);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "e");
  expect(inv, MN_STATUS_FAILED);
}

/* a failure with retries left is PENDING: waiting for the next attempt */
static void test_failed_with_retries_left(void **state) {
  json_t *inv = invocation("RUNNING", CREATED, 2, NONE);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "e1");
  struct mn_status_info info = derive(inv);
  assert_int_equal(info.status, MN_STATUS_PENDING);
  assert_int_equal(info.num_failed_attempts, 1);
  char buf[128];
  mn_status_readable(&info, buf, sizeof buf);
  assert_string_equal(buf, "PENDING, 1 failed attempt");
  json_decref(inv);

  /* the retry is running */
  inv = invocation("RUNNING", CREATED, 2, NONE);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 2, NULL, "e1");
  execution(inv, "exe-2", "RUNNING", NULL, CREATED + 4, NONE, CREATED + 4, NULL, NULL);
  expect(inv, MN_STATUS_RUNNING);
}

/* rules 5 and 6: TERMINATED with no aborted or successful execution */
static void test_terminated_while_queued(void **state) {
  expect(invocation("TERMINATED", CREATED + TIMEOUT + 1, 0, NONE), MN_STATUS_TIMED_OUT);
  /* strictly greater */
  expect(invocation("TERMINATED", CREATED + TIMEOUT, 0, NONE), MN_STATUS_CANCELLED);
  /* cancelled while queued, or its project deleted */
  expect(invocation("TERMINATED", CREATED + 3, 0, CREATED + 2), MN_STATUS_CANCELLED);
  expect(invocation("TERMINATED", CREATED + 3, 0, NONE), MN_STATUS_CANCELLED);
  /* rule 5 before rule 6 even with a cancellation request */
  expect(invocation("TERMINATED", CREATED + TIMEOUT + 1, 0, CREATED + 1), MN_STATUS_TIMED_OUT);
}

/* rule 7: a cancellation request, not yet acted on */
static void test_cancelling(void **state) {
  expect(invocation("RUNNING", CREATED + 2, 0, CREATED + 2), MN_STATUS_CANCELLING);

  /* rule 7 before rule 8 */
  json_t *inv = invocation("RUNNING", CREATED + 2, 0, CREATED + 2);
  execution(inv, "exe-1", "RUNNING", NULL, CREATED + 1, NONE, CREATED + 1, NULL, NULL);
  expect(inv, MN_STATUS_CANCELLING);
}

/* result and error come from the execution updated last, not the last one */
static void test_result_from_latest_update(void **state) {
  json_t *inv = invocation("RUNNING", CREATED, 3, NONE);
  execution(inv, "exe-1", "TERMINATED", "FAILED", CREATED + 1, NONE, CREATED + 9, "partial",
            "late failure");
  execution(inv, "exe-2", "RUNNING", NULL, CREATED + 2, NONE, CREATED + 5, "progress", NULL);
  struct mn_status_info info = derive(inv);
  assert_string_equal(info.result, "partial");
  assert_string_equal(info.error, "late failure");
  assert_string_equal(info.latest_execution_id, "exe-1");
  json_decref(inv);

  /* equal times: the later attempt wins (as in the Python and JavaScript
   * clients; the shared table below has the microsecond case) */
  inv = invocation("RUNNING", CREATED, 3, NONE);
  execution(inv, "exe-1", "RUNNING", NULL, CREATED + 1, NONE, CREATED + 5, "first", NULL);
  execution(inv, "exe-2", "RUNNING", NULL, CREATED + 1, NONE, CREATED + 5, "second", NULL);
  info = derive(inv);
  assert_string_equal(info.result, "second");
  json_decref(inv);

  /* no executions: no result, no error */
  inv = invocation("RUNNING", CREATED, 0, NONE);
  info = derive(inv);
  assert_null(info.result);
  assert_null(info.error);
  assert_null(info.latest_execution_id);
  json_decref(inv);
}

/* The table the three clients share (tests/data/status/derived_status.json):
 * every case's status, terminated, failed attempts, error, and result (the
 * raw output, which must decode to the expected JSON value). */
static void test_shared_table(void **state) {
  (void)state;
  char path[1024];
  const char *dir = getenv("MN_TEST_DATA");
  assert_non_null(dir);
  snprintf(path, sizeof path, "%s/status/derived_status.json", dir);
  json_error_t jerr;
  json_t *doc = json_load_file(path, 0, &jerr);
  if (!doc)
    fail_msg("%s: %s", path, jerr.text);
  json_t *cases = json_object_get(doc, "cases");
  assert_true(json_array_size(cases) >= 30);
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const json_t *want = json_object_get(c, "expected");
    struct mn_status_info info;
    struct mn_client_error err;
    if (mn_status_derive(json_object_get(c, "invocation"), &info, &err) != 0)
      fail_msg("%s: %s", name, err.detail);
    if (strcmp(mn_status_str(info.status), json_string_value(json_object_get(want, "status"))))
      fail_msg("%s: status %s, want %s", name, mn_status_str(info.status),
               json_string_value(json_object_get(want, "status")));
    if (info.terminated != json_is_true(json_object_get(want, "terminated")))
      fail_msg("%s: terminated %d", name, info.terminated);
    if (info.num_failed_attempts != json_integer_value(json_object_get(want, "num_failed_attempts")))
      fail_msg("%s: %d failed attempts", name, info.num_failed_attempts);
    const json_t *we = json_object_get(want, "error");
    if (json_is_null(we) ? info.error != NULL
                         : (!info.error || strcmp(info.error, json_string_value(we)) != 0))
      fail_msg("%s: error \"%s\"", name, info.error ? info.error : "(none)");
    const json_t *wr = json_object_get(want, "result");
    json_t *got = info.result ? json_loads(info.result, JSON_DECODE_ANY, NULL) : NULL;
    if (info.result && !got) /* not JSON: the clients give the raw string */
      got = json_string(info.result);
    if (!(json_is_null(wr) ? (!got || json_is_null(got)) : (got && json_equal(got, wr))))
      fail_msg("%s: result %s", name, info.result ? info.result : "(none)");
    json_decref(got);
  }
  json_decref(doc);
}

static void test_malformed(void **state) {
  struct mn_status_info info;
  struct mn_client_error err;
  json_t *inv = invocation("RUNNING", CREATED, 0, NONE);

  json_object_del(inv, "execution_spec");
  assert_int_equal(mn_status_derive(inv, &info, &err), MN_CLIENT_E_PROTOCOL);
  assert_int_equal(err.code, MN_CLIENT_E_PROTOCOL);
  json_decref(inv);

  inv = invocation("RUNNING", CREATED, 0, NONE);
  json_object_set_new(inv, "executions", json_string("nope"));
  assert_int_equal(mn_status_derive(inv, &info, NULL), MN_CLIENT_E_PROTOCOL);
  json_decref(inv);

  inv = invocation("RUNNING", CREATED, 0, NONE);
  json_object_del(inv, "creation_time");
  assert_int_equal(mn_status_derive(inv, &info, &err), MN_CLIENT_E_PROTOCOL);
  assert_non_null(strstr(err.detail, "creation_time"));
  json_decref(inv);

  inv = invocation("RUNNING", CREATED, 0, NONE);
  json_array_append_new(json_object_get(inv, "executions"), json_integer(3));
  assert_int_equal(mn_status_derive(inv, &info, &err), MN_CLIENT_E_PROTOCOL);
  json_decref(inv);

  assert_int_equal(mn_status_derive(NULL, &info, &err), MN_CLIENT_E_PROTOCOL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_strings),
      cmocka_unit_test(test_pending),
      cmocka_unit_test(test_running),
      cmocka_unit_test(test_succeeded),
      cmocka_unit_test(test_aborted),
      cmocka_unit_test(test_aborted_without_start),
      cmocka_unit_test(test_failed),
      cmocka_unit_test(test_failed_with_retries_left),
      cmocka_unit_test(test_terminated_while_queued),
      cmocka_unit_test(test_cancelling),
      cmocka_unit_test(test_result_from_latest_update),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_shared_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
