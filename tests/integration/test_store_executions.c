/* Store: executions (docs/compatibility.md §1.7, §2.4 start/update/finish/get, §3.3):
 * the worker protocol's guards and their reasons in the documented order,
 * mismatched invocation/execution pairs, and the scheduler's worker-status
 * transitions and termination signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_testdb.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

static struct mn_store *store;
static char vid[MN_ID_MAX];

static int setup(void **state) {
  if (mn_testdb_open_store(2, &store) < 0)
    return -1;
  struct mn_function_spec fs[2] = {
      {.function_name = "f", .resource_spec = {1, 2, 3}, .execution_spec = {1, 10}},
      {.function_name = "g", .resource_spec = {1, 2, 3}, .execution_spec = {1, 10}}};
  if (mn_testdb_project_version(store, "ex", fs, 2, vid) < 0)
    return -1;
  return 0;
}

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

struct attempt {
  char inv[MN_ID_MAX];
  char exe[MN_ID_MAX];
};

static struct attempt new_attempt(const char *function, int64_t t) {
  struct mn_function_key fk = {"ex", vid, function};
  struct mn_invocation inv = {0};
  struct mn_execution e = {0};
  struct attempt a;
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "the input", t, &inv), 0);
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, t + 1, &e), 0);
  assert_true(mn_id_valid("exe-", e.execution_id));
  assert_int_equal(e.worker_status, MN_WORKER_PENDING);
  assert_true(e.creation_time == t + 1 && e.last_update_time == t + 1);
  assert_true(e.execution_start_time == MN_TIME_NULL);
  snprintf(a.inv, sizeof a.inv, "%s", inv.invocation_id);
  snprintf(a.exe, sizeof a.exe, "%s", e.execution_id);
  mn_invocation_release(&inv);
  mn_execution_release(&e);
  return a;
}

static void test_get(void **state) {
  struct attempt a = new_attempt("f", 100);
  struct mn_function_key fk = {"ex", "latest", "f"};
  struct mn_invocation x = {0};
  assert_int_equal(mn_store_get_execution(store, &fk, a.inv, a.exe, &x), 0);
  assert_int_equal(x.n_executions, 1);
  assert_string_equal(x.executions[0].execution_id, a.exe);
  assert_string_equal(x.input, "the input");
  assert_string_equal(x.invocation_id, a.inv);
  assert_true(x.creation_time == 100);
  assert_true(x.cancellation_request_time == MN_TIME_NULL);
  assert_string_equal(x.function.docker_image, "img");
  assert_int_equal(x.executions[0].worker_status, MN_WORKER_PENDING);
  assert_null(x.executions[0].worker_details);
  assert_int_equal(x.executions[0].outcome, MN_OUTCOME_NONE);
  assert_null(x.executions[0].output);
  mn_invocation_release(&x);
}

static void test_missing_and_mismatched(void **state) {
  struct attempt a = new_attempt("f", 100), b = new_attempt("f", 100), c = new_attempt("g", 1);
  struct {
    struct mn_function_key fk;
    const char *inv, *exe;
    int want;
  } cases[] = {
      {{"nope", "latest", "f"}, a.inv, a.exe, MN_EPROJECT_NOT_FOUND},
      {{"ex", "ver-nope", "f"}, a.inv, a.exe, MN_EVERSION_NOT_FOUND},
      {{"ex", vid, "zz"}, a.inv, a.exe, MN_EFUNCTION_NOT_FOUND},
      {{"ex", vid, "f"}, "inv-nope", a.exe, MN_EINVOCATION_NOT_FOUND},
      {{"ex", vid, "g"}, a.inv, a.exe, MN_EINVOCATION_NOT_FOUND},
      {{"ex", vid, "f"}, a.inv, "exe-nope", MN_EEXECUTION_NOT_FOUND},
      /* the execution of another invocation, of another function */
      {{"ex", vid, "f"}, a.inv, b.exe, MN_EEXECUTION_NOT_FOUND},
      {{"ex", vid, "f"}, a.inv, c.exe, MN_EEXECUTION_NOT_FOUND},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct mn_function_key *fk = &cases[i].fk;
    struct mn_invocation x = {0};
    bool applied = true;
    assert_int_equal(mn_store_get_execution(store, fk, cases[i].inv, cases[i].exe, &x),
                     cases[i].want);
    assert_null(x.invocation_id);
    assert_int_equal(mn_store_start_execution(store, fk, cases[i].inv, cases[i].exe, 5, &x),
                     cases[i].want);
    assert_int_equal(
        mn_store_update_execution(store, fk, cases[i].inv, cases[i].exe, NULL, "o", 5, &x),
        cases[i].want);
    assert_int_equal(mn_store_finish_execution(store, fk, cases[i].inv, cases[i].exe, NULL,
                                               MN_OUTCOME_SUCCEEDED, "o", NULL, 5, &x),
                     cases[i].want);
    assert_int_equal(mn_store_transition_execution(store, fk, cases[i].inv, cases[i].exe,
                                                   MN_WORKER_PENDING, MN_WORKER_PROVISIONING,
                                                   NULL, NULL, 5, &applied),
                     cases[i].want);
    assert_false(applied);
    assert_int_equal(
        mn_store_signal_execution(store, fk, cases[i].inv, cases[i].exe, 5, &applied),
        cases[i].want);
  }
  /* nothing above changed the real pairs */
  struct mn_function_key fk = {"ex", vid, "f"};
  struct mn_invocation x = {0};
  assert_int_equal(mn_store_get_execution(store, &fk, a.inv, a.exe, &x), 0);
  assert_true(x.executions[0].execution_start_time == MN_TIME_NULL);
  assert_int_equal(x.executions[0].worker_status, MN_WORKER_PENDING);
  mn_invocation_release(&x);
}

/* A worker that names itself may repeat its own start (its first answer
 * was lost); any other start is refused, and nothing changes. */
static void test_claim_replay(void **state) {
  struct attempt a = new_attempt("f", 500);
  struct mn_function_key fk = {"ex", "latest", "f"};
  struct mn_invocation x = {0};
  assert_int_equal(mn_store_claim_execution(store, &fk, a.inv, a.exe, NULL, "tok-a", 510, &x), 0);
  assert_true(x.executions[0].execution_start_time == 510);
  mn_invocation_release(&x);
  assert_int_equal(mn_store_claim_execution(store, &fk, a.inv, a.exe, NULL, "tok-a", 520, &x), 0);
  assert_true(x.executions[0].execution_start_time == 510); /* unchanged */
  assert_true(x.executions[0].last_update_time == 510);
  mn_invocation_release(&x);
  assert_int_equal(mn_store_claim_execution(store, &fk, a.inv, a.exe, NULL, "tok-b", 530, NULL),
                   MN_EEXECUTION_STARTED);
  assert_int_equal(mn_store_start_execution(store, &fk, a.inv, a.exe, 530, NULL),
                   MN_EEXECUTION_STARTED);
  /* once finished, even the claimant's replay is refused */
  assert_int_equal(mn_store_finish_execution(store, &fk, a.inv, a.exe, NULL, MN_OUTCOME_SUCCEEDED,
                                             "r", NULL, 540, NULL),
                   0);
  assert_int_equal(mn_store_claim_execution(store, &fk, a.inv, a.exe, NULL, "tok-a", 550, NULL),
                   MN_EEXECUTION_STARTED);
}

static void test_worker_protocol(void **state) {
  struct attempt a = new_attempt("f", 100);
  struct mn_function_key fk = {"ex", "latest", "f"};
  struct mn_invocation x = {0};
  /* not started: update and finish refuse */
  assert_int_equal(mn_store_update_execution(store, &fk, a.inv, a.exe, NULL, "p", 110, &x),
                   MN_EEXECUTION_NOT_STARTED);
  assert_int_equal(mn_store_finish_execution(store, &fk, a.inv, a.exe, NULL, MN_OUTCOME_SUCCEEDED,
                                             "r", NULL, 110, &x),
                   MN_EEXECUTION_NOT_STARTED);
  assert_int_equal(mn_store_start_execution(store, &fk, a.inv, a.exe, 120, &x), 0);
  assert_true(x.executions[0].execution_start_time == 120);
  assert_true(x.executions[0].last_update_time == 120);
  assert_string_equal(x.input, "the input");
  mn_invocation_release(&x);
  assert_int_equal(mn_store_start_execution(store, &fk, a.inv, a.exe, 121, &x),
                   MN_EEXECUTION_STARTED);

  assert_int_equal(mn_store_update_execution(store, &fk, a.inv, a.exe, NULL, "progress 1", 130, &x),
                   0);
  assert_string_equal(x.executions[0].output, "progress 1");
  mn_invocation_release(&x);
  assert_int_equal(mn_store_update_execution(store, &fk, a.inv, a.exe, NULL, "progress 2", 131, NULL),
                   0);
  /* finish with no final output keeps the last progress output */
  assert_int_equal(mn_store_finish_execution(store, &fk, a.inv, a.exe, NULL, MN_OUTCOME_ABORTED,
                                             NULL, NULL, 140, &x),
                   0);
  assert_int_equal(x.executions[0].outcome, MN_OUTCOME_ABORTED);
  assert_string_equal(x.executions[0].output, "progress 2");
  assert_null(x.executions[0].error_message);
  assert_true(x.executions[0].execution_finish_time == 140);
  mn_invocation_release(&x);

  /* finished: start says started (first in order), the others finished */
  assert_int_equal(mn_store_start_execution(store, &fk, a.inv, a.exe, 150, NULL),
                   MN_EEXECUTION_STARTED);
  assert_int_equal(mn_store_update_execution(store, &fk, a.inv, a.exe, NULL, "late", 150, NULL),
                   MN_EEXECUTION_FINISHED);
  assert_int_equal(mn_store_finish_execution(store, &fk, a.inv, a.exe, NULL, MN_OUTCOME_SUCCEEDED,
                                             "x", NULL, 150, NULL),
                   MN_EEXECUTION_FINISHED);
  assert_int_equal(mn_store_get_execution(store, &fk, a.inv, a.exe, &x), 0);
  assert_string_equal(x.executions[0].output, "progress 2");
  assert_int_equal(x.executions[0].outcome, MN_OUTCOME_ABORTED);
  mn_invocation_release(&x);

  /* FAILED with an error message and a final output */
  struct attempt b = new_attempt("f", 200);
  assert_int_equal(mn_store_start_execution(store, &fk, b.inv, b.exe, 210, NULL), 0);
  assert_int_equal(mn_store_finish_execution(store, &fk, b.inv, b.exe, NULL, MN_OUTCOME_FAILED,
                                             "partial", "boom", 220, &x),
                   0);
  assert_int_equal(x.executions[0].outcome, MN_OUTCOME_FAILED);
  assert_string_equal(x.executions[0].output, "partial");
  assert_string_equal(x.executions[0].error_message, "boom");
  mn_invocation_release(&x);
}

static void test_terminated_worker(void **state) {
  struct mn_function_key fk = {"ex", vid, "f"};
  bool applied = false;
  /* terminated before it started: start refuses with TERMINATED */
  struct attempt a = new_attempt("f", 300);
  assert_int_equal(mn_store_transition_execution(store, &fk, a.inv, a.exe, MN_WORKER_PENDING,
                                                 MN_WORKER_TERMINATED, NULL,
                                                 "cannot provision", 301, &applied),
                   0);
  assert_true(applied);
  assert_int_equal(mn_store_start_execution(store, &fk, a.inv, a.exe, 302, NULL),
                   MN_EEXECUTION_TERMINATED);
  assert_int_equal(mn_store_update_execution(store, &fk, a.inv, a.exe, NULL, "x", 302, NULL),
                   MN_EEXECUTION_NOT_STARTED);
  /* started, then its worker died: update / finish say TERMINATED */
  struct attempt b = new_attempt("f", 400);
  assert_int_equal(mn_store_start_execution(store, &fk, b.inv, b.exe, 401, NULL), 0);
  assert_int_equal(mn_store_transition_execution(store, &fk, b.inv, b.exe, MN_WORKER_PENDING,
                                                 MN_WORKER_TERMINATED, NULL, NULL, 402,
                                                 &applied),
                   0);
  assert_true(applied);
  assert_int_equal(mn_store_update_execution(store, &fk, b.inv, b.exe, NULL, "x", 403, NULL),
                   MN_EEXECUTION_TERMINATED);
  assert_int_equal(mn_store_finish_execution(store, &fk, b.inv, b.exe, NULL, MN_OUTCOME_SUCCEEDED,
                                             NULL, NULL, 403, NULL),
                   MN_EEXECUTION_TERMINATED);
  assert_int_equal(mn_store_start_execution(store, &fk, b.inv, b.exe, 403, NULL),
                   MN_EEXECUTION_STARTED);
  struct mn_invocation x = {0};
  assert_int_equal(mn_store_get_execution(store, &fk, a.inv, a.exe, &x), 0);
  assert_string_equal(x.executions[0].error_message, "cannot provision");
  assert_int_equal(x.executions[0].worker_status, MN_WORKER_TERMINATED);
  mn_invocation_release(&x);
}

static void test_worker_transitions(void **state) {
  struct mn_function_key fk = {"ex", vid, "g"};
  struct attempt a = new_attempt("g", 500);
  bool applied = false;
  json_t *details = json_pack("{ss ss}", "type", "LOCAL", "identifier", "pid-1");
  /* out of order: RUNNING from PENDING is refused without error */
  assert_int_equal(mn_store_transition_execution(store, &fk, a.inv, a.exe,
                                                 MN_WORKER_PROVISIONING, MN_WORKER_RUNNING,
                                                 details, NULL, 501, &applied),
                   0);
  assert_false(applied);
  assert_int_equal(mn_store_transition_execution(store, &fk, a.inv, a.exe, MN_WORKER_PENDING,
                                                 MN_WORKER_PROVISIONING, NULL, NULL, 502,
                                                 &applied),
                   0);
  assert_true(applied);
  /* a replayed step does not apply twice */
  assert_int_equal(mn_store_transition_execution(store, &fk, a.inv, a.exe, MN_WORKER_PENDING,
                                                 MN_WORKER_PROVISIONING, NULL, NULL, 503,
                                                 &applied),
                   0);
  assert_false(applied);
  assert_int_equal(mn_store_transition_execution(store, &fk, a.inv, a.exe,
                                                 MN_WORKER_PROVISIONING, MN_WORKER_RUNNING,
                                                 details, NULL, 504, &applied),
                   0);
  assert_true(applied);
  struct mn_invocation x = {0};
  assert_int_equal(mn_store_get_execution(store, &fk, a.inv, a.exe, &x), 0);
  assert_int_equal(x.executions[0].worker_status, MN_WORKER_RUNNING);
  assert_true(json_equal(x.executions[0].worker_details, details));
  assert_true(x.executions[0].last_update_time == 504);
  mn_invocation_release(&x);

  /* the termination signal is recorded once */
  assert_int_equal(mn_store_signal_execution(store, &fk, a.inv, a.exe, 505, &applied), 0);
  assert_true(applied);
  assert_int_equal(mn_store_signal_execution(store, &fk, a.inv, a.exe, 506, &applied), 0);
  assert_false(applied);
  assert_int_equal(mn_store_transition_execution(store, &fk, a.inv, a.exe, MN_WORKER_RUNNING,
                                                 MN_WORKER_TERMINATED, NULL, NULL, 507,
                                                 &applied),
                   0);
  assert_true(applied);
  assert_int_equal(mn_store_get_execution(store, &fk, a.inv, a.exe, &x), 0);
  assert_int_equal(x.executions[0].worker_status, MN_WORKER_TERMINATED);
  assert_true(x.executions[0].termination_signal_time == 505);
  assert_true(json_equal(x.executions[0].worker_details, details)); /* kept */
  mn_invocation_release(&x);
  json_decref(details);

  /* terminated executions take no signal */
  struct attempt b = new_attempt("g", 600);
  assert_int_equal(mn_store_transition_execution(store, &fk, b.inv, b.exe, MN_WORKER_PENDING,
                                                 MN_WORKER_TERMINATED, NULL, NULL, 601,
                                                 &applied),
                   0);
  assert_int_equal(mn_store_signal_execution(store, &fk, b.inv, b.exe, 602, &applied), 0);
  assert_false(applied);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get),
      cmocka_unit_test(test_missing_and_mismatched),
      cmocka_unit_test(test_worker_protocol),
      cmocka_unit_test(test_claim_replay),
      cmocka_unit_test(test_terminated_worker),
      cmocka_unit_test(test_worker_transitions),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
