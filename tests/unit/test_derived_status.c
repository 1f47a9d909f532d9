/* The server's derived status (core/api/derived_status.c over the one
 * implementation, common/derived_status.c), which event streams and
 * ?wait_seconds rely on, against the table the three clients share
 * (tests/data/status/derived_status.json): both its inputs, the store's
 * event snapshot (microseconds) and an invocation as the store reads it,
 * give every case's expected status. The rules one by one, through the C
 * client's input, are tests/unit/test_client_status.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/derived_status.h"
#include "util/clock.h"

static int64_t us(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_integer(v) ? (int64_t)json_integer_value(v) * MN_US_PER_S : MN_TIME_NULL;
}

static json_t *time_or_null(int64_t t) {
  return t == MN_TIME_NULL ? json_null() : json_integer(t);
}

/* The snapshot migration 8's trigger writes, from an InvocationInfo. */
static json_t *snapshot_of(const json_t *info) {
  const json_t *spec = json_object_get(info, "execution_spec");
  json_t *execs = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(info, "executions"), i, e) {
    json_array_append_new(
        execs, json_pack("{s:O,s:O,s:o,s:o,s:o}", "worker_status",
                         json_object_get(e, "worker_status"), "outcome",
                         json_object_get(e, "outcome") ? json_object_get(e, "outcome") : json_null(),
                         "termination_signal_time", time_or_null(us(e, "termination_signal_time")),
                         "execution_start_time", time_or_null(us(e, "execution_start_time")),
                         "last_update_time", time_or_null(us(e, "last_update_time"))));
  }
  const char *reason = json_string_value(json_object_get(info, "termination_reason"));
  return json_pack("{s:o,s:s?,s:O,s:o,s:o,s:o,s:O,s:O,s:o}", "start_at",
                   time_or_null(us(info, "start_at")), "termination_reason", reason,
                   "invocation_status",
                   json_object_get(info, "invocation_status"), "cancellation_request_time",
                   time_or_null(us(info, "cancellation_request_time")), "creation_time",
                   time_or_null(us(info, "creation_time")), "last_update_time",
                   time_or_null(us(info, "last_update_time")), "timeout_seconds",
                   json_object_get(spec, "timeout_seconds"), "max_retries",
                   json_object_get(spec, "max_retries"), "executions", execs);
}

/* The same as the store's model (only what the derivation reads). */
static enum mn_derived derive_model(const json_t *info) {
  const json_t *spec = json_object_get(info, "execution_spec");
  const json_t *execs = json_object_get(info, "executions");
  struct mn_invocation inv = {0};
  struct mn_execution e[16] = {{0}};
  inv.n_executions = json_array_size(execs);
  assert_true(inv.n_executions <= 16);
  inv.executions = e;
  mn_invocation_status_parse(json_string_value(json_object_get(info, "invocation_status")),
                             &inv.invocation_status);
  inv.cancellation_request_time = us(info, "cancellation_request_time");
  inv.creation_time = us(info, "creation_time");
  inv.last_update_time = us(info, "last_update_time");
  inv.start_at = us(info, "start_at");
  inv.termination_reason = (char *)json_string_value(json_object_get(info, "termination_reason"));
  inv.function.execution_spec.timeout_seconds =
      (int)json_integer_value(json_object_get(spec, "timeout_seconds"));
  inv.function.execution_spec.max_retries =
      (int)json_integer_value(json_object_get(spec, "max_retries"));
  for (size_t i = 0; i < inv.n_executions; i++) {
    const json_t *x = json_array_get(execs, i);
    const char *o = json_string_value(json_object_get(x, "outcome"));
    mn_worker_status_parse(json_string_value(json_object_get(x, "worker_status")),
                           &e[i].worker_status);
    e[i].outcome = MN_OUTCOME_NONE;
    if (o)
      mn_outcome_parse(o, &e[i].outcome);
    e[i].termination_signal_time = us(x, "termination_signal_time");
    e[i].execution_start_time = us(x, "execution_start_time");
  }
  return mn_derived_status(&inv);
}

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
  size_t i, finished = 0;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *want = json_string_value(json_object_get(json_object_get(c, "expected"), "status"));
    const json_t *info = json_object_get(c, "invocation");
    json_t *snap = snapshot_of(info);
    assert_non_null(snap);
    const char *from_snapshot = mn_derived_name(mn_derived_status_json(snap));
    const char *from_model = mn_derived_name(derive_model(info));
    if (strcmp(from_snapshot, want) != 0 || strcmp(from_model, want) != 0)
      fail_msg("%s: %s (snapshot), %s (model), want %s", name, from_snapshot, from_model, want);
    enum mn_derived w = mn_derived_status_json(snap);
    finished += mn_derived_finished(w);
    json_decref(snap);
  }
  assert_true(finished > 0 && finished < json_array_size(cases));
  assert_false(mn_derived_finished(MN_DERIVED_CANCELLING));
  assert_true(mn_derived_finished(MN_DERIVED_TIMED_OUT));
  assert_string_equal(mn_derived_name((enum mn_derived)99), "UNKNOWN");
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_shared_table)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
