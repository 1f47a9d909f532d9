/* Encoders of core/api/codec: exact key sets of every shape, null handling,
 * seconds next to microseconds, enum strings, deep copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/codec.h"
#include "util/clock.h"

/* Asserts that the keys of o are exactly the NULL-terminated list, in order. */
static void assert_keys(const json_t *o, const char *const *keys) {
  assert_true(json_is_object(o));
  size_t n = 0;
  for (; keys[n]; n++)
    assert_non_null(json_object_get(o, keys[n]));
  assert_int_equal(json_object_size(o), n);
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    (void)v;
    assert_string_equal(k, keys[i++]);
  }
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void assert_time(const json_t *o, const char *key, int64_t us) {
  char key_us[64];
  snprintf(key_us, sizeof key_us, "%s_us", key);
  json_t *s = json_object_get(o, key), *u = json_object_get(o, key_us);
  assert_non_null(s);
  assert_non_null(u);
  if (us == MN_TIME_NULL) {
    assert_true(json_is_null(s));
    assert_true(json_is_null(u));
    return;
  }
  assert_true(json_is_integer(s));
  assert_true(json_is_integer(u));
  assert_int_equal(json_integer_value(s), mn_us_to_s(us));
  assert_int_equal(json_integer_value(u), us);
}

static void assert_str(const json_t *o, const char *key, const char *want) {
  json_t *v = json_object_get(o, key);
  assert_non_null(v);
  if (!want) {
    assert_true(json_is_null(v));
    return;
  }
  assert_true(json_is_string(v));
  assert_string_equal(json_string_value(v), want);
}

#define T1 INT64_C(1700000000999999) /* .999999 s: floors, never rounds up */
#define T2 INT64_C(1700000001000000)

static void fill_function(struct mn_function *f) {
  f->project_name = strdup("proj");
  f->version_id = strdup("ver-1");
  f->function_name = strdup("fn");
  f->docker_image = strdup("img:1");
  f->resource_spec = (struct mn_resource_spec){.virtual_cpus = 0.25, .memory_gbs = 2, .max_concurrency = 7};
  f->execution_spec = (struct mn_execution_spec){.max_retries = 3, .timeout_seconds = 60};
  f->function_status = MN_FUNCTION_READY;
  f->prepared_function_details = json_pack("{s:s,s:s}", "type", "TEST", "identifier", "x");
}

static void fill_execution(struct mn_execution *e, const char *id, enum mn_outcome outcome) {
  e->execution_id = strdup(id);
  e->worker_status = MN_WORKER_TERMINATED;
  e->worker_details = NULL;
  e->termination_signal_time = MN_TIME_NULL;
  e->outcome = outcome;
  e->output = outcome == MN_OUTCOME_SUCCEEDED ? strdup("out") : NULL;
  e->error_message = outcome == MN_OUTCOME_FAILED ? strdup("boom") : NULL;
  e->creation_time = T1;
  e->last_update_time = T2;
  e->execution_start_time = T1;
  e->execution_finish_time = MN_TIME_NULL;
}

static void fill_invocation(struct mn_invocation *inv, bool parent, size_t n_exec) {
  fill_function(&inv->function);
  inv->invocation_id = strdup("inv-1");
  inv->has_parent = parent;
  if (parent) {
    inv->parent.function_name = strdup("pfn");
    inv->parent.invocation_id = strdup("inv-0");
    inv->parent.cancellation_request_time = T2;
    inv->parent.invocation_status = MN_INVOCATION_TERMINATED;
    inv->parent.creation_time = T1;
    inv->parent.last_update_time = T2;
  }
  inv->input = strdup("in");
  inv->cancellation_request_time = MN_TIME_NULL;
  inv->invocation_status = MN_INVOCATION_RUNNING;
  inv->creation_time = T1;
  inv->last_update_time = T2;
  inv->executions = calloc(n_exec ? n_exec : 1, sizeof *inv->executions);
  inv->n_executions = n_exec;
  for (size_t i = 0; i < n_exec; i++)
    fill_execution(&inv->executions[i], i ? "exe-2" : "exe-1",
                   i ? MN_OUTCOME_FAILED : MN_OUTCOME_NONE);
}

static void test_health_and_error(void **state) {
  json_t *h = mn_json_health();
  assert_keys(h, KEYS("status"));
  assert_str(h, "status", "healthy");
  json_decref(h);
  json_t *e = mn_json_error("The project name is too long");
  assert_keys(e, KEYS("detail"));
  assert_str(e, "detail", "The project name is too long");
  json_decref(e);
}

static void test_project_info_and_list(void **state) {
  struct mn_project p[2] = {{strdup("a"), MN_TIME_NULL, T1}, {strdup("b"), T2, T1}};
  json_t *o = mn_json_project_info(&p[0]);
  assert_keys(o, KEYS("project_name", "deletion_request_time", "deletion_request_time_us",
                      "creation_time", "creation_time_us"));
  assert_str(o, "project_name", "a");
  assert_time(o, "deletion_request_time", MN_TIME_NULL);
  assert_time(o, "creation_time", T1);
  assert_int_equal(json_integer_value(json_object_get(o, "creation_time")), 1700000000);
  json_decref(o);

  json_t *l = mn_json_projects_list(p, 2);
  assert_keys(l, KEYS("projects"));
  json_t *arr = json_object_get(l, "projects");
  assert_int_equal(json_array_size(arr), 2);
  assert_str(json_array_get(arr, 1), "project_name", "b");
  assert_time(json_array_get(arr, 1), "deletion_request_time", T2);
  json_decref(l);
  json_t *empty = mn_json_projects_list(NULL, 0);
  assert_int_equal(json_array_size(json_object_get(empty, "projects")), 0);
  json_decref(empty);
  mn_project_release(&p[0]);
  mn_project_release(&p[1]);
}

static void test_function_for_version(void **state) {
  struct mn_function f = {0};
  fill_function(&f);
  json_t *o = mn_json_function_for_version(&f);
  assert_keys(o, KEYS("function_name", "docker_image", "resource_spec", "execution_spec",
                      "function_status", "prepared_function_details", "command", "env",
                      "provider", "preparation_error"));
  json_t *rs = json_object_get(o, "resource_spec"), *es = json_object_get(o, "execution_spec");
  assert_keys(rs, KEYS("virtual_cpus", "memory_gbs", "max_concurrency"));
  assert_true(json_is_real(json_object_get(rs, "virtual_cpus")));
  assert_true(json_is_real(json_object_get(rs, "memory_gbs")));
  assert_true(json_real_value(json_object_get(rs, "virtual_cpus")) == 0.25);
  assert_true(json_real_value(json_object_get(rs, "memory_gbs")) == 2.0);
  assert_int_equal(json_integer_value(json_object_get(rs, "max_concurrency")), 7);
  assert_keys(es, KEYS("max_retries", "timeout_seconds"));
  assert_int_equal(json_integer_value(json_object_get(es, "max_retries")), 3);
  assert_int_equal(json_integer_value(json_object_get(es, "timeout_seconds")), 60);
  assert_str(o, "function_status", "READY");
  json_t *pfd = json_object_get(o, "prepared_function_details");
  assert_true(json_equal(pfd, f.prepared_function_details));
  assert_ptr_not_equal(pfd, f.prepared_function_details); /* a copy */
  assert_true(json_is_null(json_object_get(o, "command")));
  assert_true(json_is_null(json_object_get(o, "env")));
  assert_str(o, "provider", NULL);
  assert_str(o, "preparation_error", NULL);
  json_decref(o);

  f.function_status = MN_FUNCTION_PENDING;
  json_decref(f.prepared_function_details);
  f.prepared_function_details = NULL;
  f.command = json_pack("[ss]", "python", "main.py");
  f.env = json_pack("{s:s}", "A", "1");
  f.provider = strdup("docker");
  f.preparation_error = strdup("image not found");
  o = mn_json_function_for_version(&f);
  assert_str(o, "function_status", "PENDING");
  assert_true(json_is_null(json_object_get(o, "prepared_function_details")));
  assert_true(json_equal(json_object_get(o, "command"), f.command));
  assert_true(json_equal(json_object_get(o, "env"), f.env));
  assert_str(o, "provider", "docker");
  assert_str(o, "preparation_error", "image not found");
  json_decref(o);
  mn_function_release(&f);
}

static void test_version_info_and_list(void **state) {
  struct mn_version v = {strdup("proj"), strdup("ver-1"), T1, calloc(2, sizeof(struct mn_function)),
                         2};
  fill_function(&v.functions[0]);
  fill_function(&v.functions[1]);
  json_t *o = mn_json_version_info(&v);
  assert_keys(o, KEYS("project_name", "version_id", "creation_time", "creation_time_us",
                      "functions"));
  assert_time(o, "creation_time", T1);
  assert_int_equal(json_array_size(json_object_get(o, "functions")), 2);
  assert_str(json_array_get(json_object_get(o, "functions"), 0), "function_name", "fn");
  json_decref(o);
  mn_version_release(&v);

  struct mn_version_brief b[2] = {{"ver-2", T2}, {"ver-1", T1}};
  json_t *l = mn_json_versions_list("proj", b, 2);
  assert_keys(l, KEYS("project_name", "versions"));
  json_t *arr = json_object_get(l, "versions");
  assert_int_equal(json_array_size(arr), 2);
  assert_keys(json_array_get(arr, 0), KEYS("version_id", "creation_time", "creation_time_us"));
  assert_str(json_array_get(arr, 0), "version_id", "ver-2");
  assert_time(json_array_get(arr, 1), "creation_time", T1);
  json_decref(l);
}

#define SUMMARY_KEYS                                                                       \
  "execution_id", "worker_status", "worker_details", "termination_signal_time",           \
      "termination_signal_time_us", "outcome", "output", "error_message", "creation_time", \
      "creation_time_us", "last_update_time", "last_update_time_us", "execution_start_time", \
      "execution_start_time_us", "execution_finish_time", "execution_finish_time_us"

static void test_execution_summary(void **state) {
  static const struct {
    enum mn_worker_status ws;
    const char *ws_str;
    enum mn_outcome outcome;
    const char *outcome_str;
  } cases[] = {
      {MN_WORKER_PENDING, "PENDING", MN_OUTCOME_NONE, NULL},
      {MN_WORKER_PROVISIONING, "PROVISIONING", MN_OUTCOME_NONE, NULL},
      {MN_WORKER_RUNNING, "RUNNING", MN_OUTCOME_SUCCEEDED, "SUCCEEDED"},
      {MN_WORKER_TERMINATED, "TERMINATED", MN_OUTCOME_FAILED, "FAILED"},
      {MN_WORKER_TERMINATED, "TERMINATED", MN_OUTCOME_ABORTED, "ABORTED"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct mn_execution e = {0};
    fill_execution(&e, "exe-9", cases[i].outcome);
    e.worker_status = cases[i].ws;
    if (i == 2) {
      e.worker_details = json_pack("{s:s,s:s,s:s}", "type", "TEST", "identifier", "t",
                                   "logs_identifier", "l");
      e.termination_signal_time = T2;
      e.execution_finish_time = T2;
    }
    json_t *o = mn_json_execution_summary(&e);
    assert_keys(o, KEYS(SUMMARY_KEYS));
    assert_str(o, "execution_id", "exe-9");
    assert_str(o, "worker_status", cases[i].ws_str);
    assert_str(o, "outcome", cases[i].outcome_str);
    assert_str(o, "output", e.output);
    assert_str(o, "error_message", e.error_message);
    assert_time(o, "termination_signal_time", e.termination_signal_time);
    assert_time(o, "creation_time", T1);
    assert_time(o, "last_update_time", T2);
    assert_time(o, "execution_start_time", T1);
    assert_time(o, "execution_finish_time", e.execution_finish_time);
    if (e.worker_details)
      assert_true(json_equal(json_object_get(o, "worker_details"), e.worker_details));
    else
      assert_true(json_is_null(json_object_get(o, "worker_details")));
    json_decref(o);
    mn_execution_release(&e);
  }
}

static const char *const invocation_keys[] = {
    "project_name", "version_id", "function_name", "invocation_id", "parent_invocation",
    "resource_spec", "execution_spec", "function_status", "prepared_function_details", "input",
    "cancellation_request_time", "cancellation_request_time_us", "invocation_status",
    "creation_time", "creation_time_us", "last_update_time", "last_update_time_us",
    "executions", NULL};

static void test_invocation_info(void **state) {
  struct mn_invocation inv = {0};
  fill_invocation(&inv, true, 2);
  json_t *o = mn_json_invocation_info(&inv);
  assert_keys(o, invocation_keys);
  assert_str(o, "project_name", "proj");
  assert_str(o, "version_id", "ver-1");
  assert_str(o, "function_name", "fn");
  assert_str(o, "invocation_id", "inv-1");
  assert_str(o, "input", "in");
  assert_str(o, "invocation_status", "RUNNING");
  assert_str(o, "function_status", "READY");
  assert_time(o, "cancellation_request_time", MN_TIME_NULL);
  assert_time(o, "creation_time", T1);
  json_t *p = json_object_get(o, "parent_invocation");
  assert_keys(p, KEYS("function_name", "invocation_id", "cancellation_request_time",
                      "cancellation_request_time_us", "invocation_status", "creation_time",
                      "creation_time_us", "last_update_time", "last_update_time_us"));
  assert_str(p, "function_name", "pfn");
  assert_str(p, "invocation_id", "inv-0");
  assert_str(p, "invocation_status", "TERMINATED");
  assert_time(p, "cancellation_request_time", T2);
  json_t *ex = json_object_get(o, "executions");
  assert_int_equal(json_array_size(ex), 2);
  assert_str(json_array_get(ex, 0), "execution_id", "exe-1");
  assert_str(json_array_get(ex, 1), "execution_id", "exe-2");
  assert_str(json_array_get(ex, 1), "outcome", "FAILED");
  assert_keys(json_array_get(ex, 0), KEYS(SUMMARY_KEYS));
  json_decref(o);
  mn_invocation_release(&inv);

  fill_invocation(&inv, false, 0);
  o = mn_json_invocation_info(&inv);
  assert_keys(o, invocation_keys);
  assert_true(json_is_null(json_object_get(o, "parent_invocation")));
  assert_int_equal(json_array_size(json_object_get(o, "executions")), 0);
  json_decref(o);
  mn_invocation_release(&inv);
}

static void test_invocations_list(void **state) {
  struct mn_invocation_brief items[2] = {
      {"inv-2", "pfn", "inv-0", T2, MN_INVOCATION_TERMINATED, T1, T2},
      {"inv-1", NULL, NULL, MN_TIME_NULL, MN_INVOCATION_RUNNING, T1, T1},
  };
  struct mn_invocation_page page = {items, 2, "1700000000,inv-0"};
  json_t *o = mn_json_invocations_list("proj", "ver-1", "fn", &page);
  assert_keys(o, KEYS("project_name", "version_id", "function_name", "invocations",
                      "next_offset"));
  assert_str(o, "next_offset", "1700000000,inv-0");
  json_t *arr = json_object_get(o, "invocations");
  assert_int_equal(json_array_size(arr), 2);
  json_t *a = json_array_get(arr, 0), *b = json_array_get(arr, 1);
  assert_keys(a, KEYS("invocation_id", "parent_invocation", "cancellation_request_time",
                      "cancellation_request_time_us", "invocation_status", "creation_time",
                      "creation_time_us", "last_update_time", "last_update_time_us"));
  assert_keys(json_object_get(a, "parent_invocation"), KEYS("function_name", "invocation_id"));
  assert_str(json_object_get(a, "parent_invocation"), "function_name", "pfn");
  assert_str(json_object_get(a, "parent_invocation"), "invocation_id", "inv-0");
  assert_str(a, "invocation_status", "TERMINATED");
  assert_time(a, "cancellation_request_time", T2);
  assert_true(json_is_null(json_object_get(b, "parent_invocation")));
  assert_str(b, "invocation_status", "RUNNING");
  assert_time(b, "cancellation_request_time", MN_TIME_NULL);
  json_decref(o);

  struct mn_invocation_page last = {NULL, 0, NULL};
  o = mn_json_invocations_list("proj", "ver-1", "fn", &last);
  assert_true(json_is_null(json_object_get(o, "next_offset")));
  assert_int_equal(json_array_size(json_object_get(o, "invocations")), 0);
  json_decref(o);
}

static void test_execution_info(void **state) {
  struct mn_invocation inv = {0};
  fill_invocation(&inv, true, 1);
  inv.cancellation_request_time = T2;
  json_t *o = mn_json_execution_info(&inv);
  assert_keys(o, KEYS("project_name", "version_id", "function_name", "invocation_id",
                      "execution_id", "input", "cancellation_request_time",
                      "cancellation_request_time_us", "resource_spec", "execution_spec",
                      "function_status", "prepared_function_details", "worker_status",
                      "worker_details", "termination_signal_time", "termination_signal_time_us",
                      "outcome", "output", "error_message", "creation_time", "creation_time_us",
                      "last_update_time", "last_update_time_us", "execution_start_time",
                      "execution_start_time_us", "execution_finish_time",
                      "execution_finish_time_us", "invocation_creation_time",
                      "invocation_creation_time_us"));
  assert_str(o, "execution_id", "exe-1");
  assert_str(o, "input", "in");
  assert_time(o, "cancellation_request_time", T2);
  assert_time(o, "invocation_creation_time", T1);
  assert_str(o, "worker_status", "TERMINATED");
  assert_str(o, "outcome", NULL);
  json_decref(o);

  inv.n_executions = 0; /* not an ExecutionInfo: refused */
  assert_null(mn_json_execution_info(&inv));
  inv.n_executions = 1;
  mn_invocation_release(&inv);
}

static void test_execution_logs(void **state) {
  struct mn_invocation inv = {0};
  fill_invocation(&inv, false, 1);
  json_t *lines = json_pack("[ss]", "line 1", "line 2");
  json_t *o = mn_json_execution_logs(&inv, lines, "tok-2");
  assert_keys(o, KEYS("project_name", "version_id", "function_name", "invocation_id",
                      "execution_id", "log_lines", "next_offset"));
  assert_str(o, "execution_id", "exe-1");
  assert_true(json_equal(json_object_get(o, "log_lines"), lines));
  assert_str(o, "next_offset", "tok-2");
  json_decref(o);
  assert_int_equal(lines->refcount, 1); /* borrowed, not stolen */
  json_decref(lines);

  o = mn_json_execution_logs(&inv, NULL, NULL);
  assert_int_equal(json_array_size(json_object_get(o, "log_lines")), 0);
  assert_true(json_is_null(json_object_get(o, "next_offset")));
  json_decref(o);
  mn_invocation_release(&inv);
}

/* A provider's error text with invalid UTF-8 still encodes, with U+FFFD. */
static void test_invalid_utf8_is_replaced(void **state) {
  struct mn_execution e = {0};
  fill_execution(&e, "exe-1", MN_OUTCOME_NONE);
  e.error_message = strdup("bad \xff byte \xe2\x82 end \xed\xa0\x80 \xc3\xa9");
  json_t *o = mn_json_execution_summary(&e);
  assert_non_null(o);
  assert_str(o, "error_message",
             "bad \xEF\xBF\xBD byte \xEF\xBF\xBD\xEF\xBF\xBD end "
             "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xc3\xa9");
  json_decref(o);
  mn_execution_release(&e);
}

/* Times before the epoch and at whole seconds floor correctly. */
static void test_time_rounding(void **state) {
  static const struct {
    int64_t us, s;
  } cases[] = {{0, 0}, {999999, 0}, {1000000, 1}, {-1, -1}, {-1000000, -1}, {-1000001, -2}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct mn_project p = {"p", MN_TIME_NULL, cases[i].us};
    json_t *o = mn_json_project_info(&p);
    assert_int_equal(json_integer_value(json_object_get(o, "creation_time")), cases[i].s);
    assert_int_equal(json_integer_value(json_object_get(o, "creation_time_us")), cases[i].us);
    json_decref(o);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_health_and_error),
      cmocka_unit_test(test_project_info_and_list),
      cmocka_unit_test(test_function_for_version),
      cmocka_unit_test(test_version_info_and_list),
      cmocka_unit_test(test_execution_summary),
      cmocka_unit_test(test_invocation_info),
      cmocka_unit_test(test_invocations_list),
      cmocka_unit_test(test_execution_info),
      cmocka_unit_test(test_execution_logs),
      cmocka_unit_test(test_invalid_utf8_is_replaced),
      cmocka_unit_test(test_time_rounding),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
