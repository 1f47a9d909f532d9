/* The scheduler's pure decisions: docs/compatibility.md §7 "Classifier unit tests", plus
 * the changes of docs/architecture.md §5 (FIFO capacity, cascade from ended parents,
 * failed preparation does not hold invocations forever). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scheduler/classify.h"
#include "util/clock.h"

#define S(x) ((int64_t)(x) * MN_US_PER_S)
#define NONE MN_TIME_NULL

static const struct mn_sched_fn std_fn = {.ready = true, .max_retries = 0,
                                          .timeout_seconds = 30, .max_concurrency = 100};
static const struct mn_sched_fn retry_fn = {.ready = true, .max_retries = 5,
                                            .timeout_seconds = 30, .max_concurrency = 100};

static struct mn_sched_inv inv(const char *id, int64_t created) {
  return (struct mn_sched_inv){.invocation_id = id, .creation_time = created,
                               .cancellation_request_time = NONE, .fn = 0, .parent = -1};
}

static enum mn_sched_action classify1(struct mn_sched_inv v, struct mn_sched_fn fn, int in_use,
                                      int64_t now) {
  enum mn_sched_action a;
  mn_sched_classify(&v, 1, NULL, &fn, 1, &in_use, now, &a);
  return a;
}

static void running_or_pending_execution_is_untouched(void **state) {
  (void)state;
  struct mn_sched_exec pending = {MN_WORKER_PENDING, MN_OUTCOME_NONE, NONE, 0, NONE, NONE};
  struct mn_sched_exec running = {MN_WORKER_RUNNING, MN_OUTCOME_NONE, NONE, 0, NONE, NONE};
  struct mn_sched_inv v = inv("inv-a", 0);
  v.execs = &pending, v.n_execs = 1;
  assert_int_equal(classify1(v, std_fn, 1, 0), MN_SCHED_LEAVE);
  v.execs = &running;
  v.cancellation_request_time = 0; /* even when cancelled: wait for the worker */
  assert_int_equal(classify1(v, std_fn, 1, S(100)), MN_SCHED_LEAVE);
}

static void terminal_outcomes_terminate(void **state) {
  (void)state;
  struct mn_sched_exec ok = {MN_WORKER_TERMINATED, MN_OUTCOME_SUCCEEDED, NONE, 0, NONE, NONE};
  struct mn_sched_exec aborted = {MN_WORKER_TERMINATED, MN_OUTCOME_ABORTED, NONE, 0, NONE, NONE};
  struct mn_sched_inv v = inv("inv-a", 0);
  v.execs = &ok, v.n_execs = 1;
  assert_int_equal(classify1(v, retry_fn, 0, 0), MN_SCHED_TERMINATE);
  v.execs = &aborted;
  assert_int_equal(classify1(v, retry_fn, 0, 0), MN_SCHED_TERMINATE);
}

static void cancellation_timeout_retries_and_deletion_terminate(void **state) {
  (void)state;
  struct mn_sched_inv v = inv("inv-a", 0);
  v.cancellation_request_time = 0;
  assert_int_equal(classify1(v, std_fn, 0, 0), MN_SCHED_TERMINATE);

  v = inv("inv-a", 0);
  assert_int_equal(classify1(v, std_fn, 0, S(30)), MN_SCHED_CREATE_EXECUTION);
  assert_int_equal(classify1(v, std_fn, 0, S(31)), MN_SCHED_TERMINATE);

  struct mn_sched_exec failed = {MN_WORKER_TERMINATED, MN_OUTCOME_FAILED, NONE, 0, NONE, NONE};
  v.execs = &failed, v.n_execs = 1;
  assert_int_equal(classify1(v, std_fn, 0, 0), MN_SCHED_TERMINATE); /* 1 >= 0 + 1 */

  v = inv("inv-a", 0);
  v.project_deleting = true;
  assert_int_equal(classify1(v, std_fn, 0, 0), MN_SCHED_TERMINATE);
}

static void no_execution_or_failed_below_limit_creates(void **state) {
  (void)state;
  struct mn_sched_inv v = inv("inv-a", 0);
  assert_int_equal(classify1(v, std_fn, 0, 0), MN_SCHED_CREATE_EXECUTION);
  struct mn_sched_exec failed = {MN_WORKER_TERMINATED, MN_OUTCOME_FAILED, NONE, 0, NONE, NONE};
  struct mn_sched_exec crashed = {MN_WORKER_TERMINATED, MN_OUTCOME_NONE, NONE, 0, NONE, NONE};
  v.execs = &failed, v.n_execs = 1;
  assert_int_equal(classify1(v, retry_fn, 0, 0), MN_SCHED_CREATE_EXECUTION);
  v.execs = &crashed;
  assert_int_equal(classify1(v, retry_fn, 0, 0), MN_SCHED_CREATE_EXECUTION);
}

static void function_being_prepared_holds_but_still_ends(void **state) {
  (void)state;
  struct mn_sched_fn fn = std_fn;
  fn.ready = false;
  struct mn_sched_inv v = inv("inv-a", 0);
  assert_int_equal(classify1(v, fn, 0, 0), MN_SCHED_LEAVE);
  v.cancellation_request_time = 0; /* the original would wait forever here */
  assert_int_equal(classify1(v, fn, 0, 0), MN_SCHED_TERMINATE);
  v = inv("inv-a", 0);
  assert_int_equal(classify1(v, fn, 0, S(31)), MN_SCHED_TERMINATE);
  fn.preparation_failed = true; /* a failed preparation gets a new attempt */
  assert_int_equal(classify1(v, fn, 0, 0), MN_SCHED_CREATE_EXECUTION);
}

static void capacity_saturated_partial_and_one_of_two(void **state) {
  (void)state;
  struct mn_sched_fn fn = std_fn;
  fn.max_concurrency = 2;
  struct mn_sched_inv v = inv("inv-a", 0);
  assert_int_equal(classify1(v, fn, 2, 0), MN_SCHED_QUEUED);
  assert_int_equal(classify1(v, fn, 1, 0), MN_SCHED_CREATE_EXECUTION);

  struct mn_sched_inv two[2] = {inv("inv-b", 5), inv("inv-c", 7)};
  int in_use = 1;
  enum mn_sched_action a[2];
  mn_sched_classify(two, 2, NULL, &fn, 1, &in_use, 0, a);
  assert_int_equal(a[0], MN_SCHED_CREATE_EXECUTION);
  assert_int_equal(a[1], MN_SCHED_QUEUED);
}

static void capacity_goes_in_fifo_order(void **state) {
  (void)state;
  struct mn_sched_fn fn = std_fn;
  fn.max_concurrency = 2;
  /* given newest first: the two oldest must win, ties broken by id */
  struct mn_sched_inv v[4] = {inv("inv-d", 40), inv("inv-c", 30), inv("inv-b", 10),
                              inv("inv-a", 10)};
  int in_use = 0;
  enum mn_sched_action a[4];
  mn_sched_classify(v, 4, NULL, &fn, 1, &in_use, 0, a);
  assert_int_equal(a[0], MN_SCHED_QUEUED);
  assert_int_equal(a[1], MN_SCHED_QUEUED);
  assert_int_equal(a[2], MN_SCHED_CREATE_EXECUTION);
  assert_int_equal(a[3], MN_SCHED_CREATE_EXECUTION);
}

static void capacity_is_per_function(void **state) {
  (void)state;
  struct mn_sched_fn fns[2] = {std_fn, std_fn};
  fns[0].max_concurrency = fns[1].max_concurrency = 1;
  struct mn_sched_inv v[2] = {inv("inv-a", 0), inv("inv-b", 1)};
  v[1].fn = 1;
  int in_use[2] = {0, 0};
  enum mn_sched_action a[2];
  mn_sched_classify(v, 2, NULL, fns, 2, in_use, 0, a);
  assert_int_equal(a[0], MN_SCHED_CREATE_EXECUTION);
  assert_int_equal(a[1], MN_SCHED_CREATE_EXECUTION);
}

static void propagate(struct mn_sched_inv *v, size_t n, bool *out) {
  mn_sched_propagate_cancellation(v, n, out);
}

static void cancellation_from_parent(void **state) {
  (void)state;
  struct mn_sched_inv v[2] = {inv("inv-p", 0), inv("inv-c", 1)};
  v[0].cancellation_request_time = 0;
  v[1].parent = 0;
  bool c[2];
  propagate(v, 2, c);
  assert_false(c[0]); /* already cancelled: unchanged */
  assert_true(c[1]);
}

static void unrelated_and_uncancelled_parents_do_nothing(void **state) {
  (void)state;
  struct mn_sched_inv v[3] = {inv("inv-a", 0), inv("inv-b", 1), inv("inv-c", 2)};
  v[0].cancellation_request_time = 0; /* a is cancelled, b unrelated */
  v[2].parent = 1;                    /* c's parent b is not cancelled */
  bool c[3];
  propagate(v, 3, c);
  assert_false(c[0]);
  assert_false(c[1]);
  assert_false(c[2]);
}

static void terminated_parent_still_cancels(void **state) {
  (void)state;
  struct mn_sched_inv v = inv("inv-c", 1);
  v.parent_cancelled = true; /* parent cancelled and already TERMINATED */
  bool c;
  propagate(&v, 1, &c);
  assert_true(c);
  v = inv("inv-c", 1);
  v.parent_ended = true; /* parent succeeded/failed/timed out: no orphans */
  propagate(&v, 1, &c);
  assert_true(c);
}

static void grandparent_chain_in_one_pass_any_order(void **state) {
  (void)state;
  /* shuffled: child, grandparent, parent */
  struct mn_sched_inv v[3] = {inv("inv-child", 2), inv("inv-gp", 0), inv("inv-parent", 1)};
  v[0].parent = 2;
  v[2].parent = 1;
  v[1].cancellation_request_time = 0;
  bool c[3];
  propagate(v, 3, c);
  assert_true(c[0]);
  assert_false(c[1]);
  assert_true(c[2]);
}

static void project_deleting(void **state) {
  (void)state;
  struct mn_sched_inv v[2] = {inv("inv-a", 0), inv("inv-b", 0)};
  v[0].project_deleting = v[1].project_deleting = true;
  v[1].cancellation_request_time = 5; /* already cancelled: unchanged */
  bool c[2];
  propagate(v, 2, c);
  assert_true(c[0]);
  assert_false(c[1]);
}

static void termination_signals(void **state) {
  (void)state;
  struct mn_sched_exec e = {MN_WORKER_RUNNING, MN_OUTCOME_NONE, NONE, 0, NONE, NONE};
  assert_false(mn_sched_needs_signal(&e, false, 0, 30, S(10)));  /* standard */
  assert_true(mn_sched_needs_signal(&e, true, 0, 30, S(10)));    /* cancellation */
  assert_false(mn_sched_needs_signal(&e, false, 0, 30, S(30)));
  assert_true(mn_sched_needs_signal(&e, false, 0, 30, S(31)));   /* timed out */
  e.termination_signal_time = S(11);                             /* already sent */
  assert_false(mn_sched_needs_signal(&e, true, 0, 30, S(12)));
  assert_false(mn_sched_needs_signal(&e, false, 0, 30, S(40)));
  struct mn_sched_exec mixed[3] = {{MN_WORKER_RUNNING, MN_OUTCOME_NONE, NONE, 0, NONE, NONE},
                                   {MN_WORKER_PENDING, MN_OUTCOME_NONE, NONE, 0, NONE, NONE},
                                   {MN_WORKER_TERMINATED, MN_OUTCOME_NONE, NONE, 0, NONE, NONE}};
  int signalled = 0;
  for (int i = 0; i < 3; i++)
    signalled += mn_sched_needs_signal(&mixed[i], true, 0, 30, S(1));
  assert_int_equal(signalled, 1); /* only a RUNNING worker can be signalled */
}

static void timeout_is_strict_in_whole_seconds(void **state) {
  (void)state;
  /* created at 0.9 s with a 30 s timeout: not timed out at 30.95 s, whose
   * whole seconds (30) are not > 0 + 30; timed out at 31.0 s. */
  int64_t created = 900000;
  assert_false(mn_sched_timed_out(created, 30, S(30) + 950000));
  assert_true(mn_sched_timed_out(created, 30, S(31)));
  assert_int_equal(mn_sched_deadline(created, 30), S(31));
}

static void project_deletion(void **state) {
  (void)state;
  assert_false(mn_sched_project_deletable(NONE, 0));
  assert_false(mn_sched_project_deletable(S(1), 1));
  assert_true(mn_sched_project_deletable(S(1), 0));
}

/* Task semantics (docs/architecture.md §5 "Task semantics"). */
static void retry_wait_is_equal_jitter_within_the_cap(void **state) {
  (void)state;
  struct mn_sched_fn fn = retry_fn;
  assert_int_equal(mn_sched_retry_wait(&fn, 1, 0.5), 0); /* no delay: the original */
  fn.retry_delay_seconds = 2, fn.retry_backoff_factor = 3, fn.retry_max_delay_seconds = 10;
  int64_t caps[] = {S(2), S(6), S(10), S(10)}; /* 2, 6, min(18, 10), min(54, 10) */
  for (int n = 1; n <= 4; n++) {
    assert_int_equal(mn_sched_retry_wait(&fn, n, 0), caps[n - 1] / 2);
    assert_true(mn_sched_retry_wait(&fn, n, 0.999999) <= caps[n - 1]);
    assert_true(mn_sched_retry_wait(&fn, n, 0.999999) > caps[n - 1] - 100);
    assert_int_equal(mn_sched_retry_wait(&fn, n, 0.5), caps[n - 1] * 3 / 4);
  }
  fn.retry_backoff_factor = 100; /* factor^49 overflows to inf: capped, not garbage */
  assert_int_equal(mn_sched_retry_wait(&fn, 50, 1.5), S(10));
}

static void a_failed_attempt_waits_its_backoff_once(void **state) {
  (void)state;
  struct mn_sched_fn fn = retry_fn;
  fn.retry_delay_seconds = 1, fn.retry_backoff_factor = 2, fn.retry_max_delay_seconds = 300;
  struct mn_sched_exec failed = {MN_WORKER_TERMINATED, MN_OUTCOME_FAILED, NONE, S(5), S(4),
                                 NONE};
  struct mn_sched_inv v = inv("inv-a", 0);
  v.execs = &failed, v.n_execs = 1, v.jitter = 0;
  enum mn_sched_action a;
  int64_t until;
  int in_use = 0;
  mn_sched_classify_ex(&v, 1, NULL, &fn, 1, &in_use, S(5), &a, &until);
  assert_int_equal(a, MN_SCHED_WAIT);
  assert_int_equal(until, S(5) + S(1) / 2); /* from the end of the attempt */
  v.waiting = true, v.eligible_at = until;  /* as the pass writes it */
  mn_sched_classify_ex(&v, 1, NULL, &fn, 1, &in_use, until - 1, &a, &until);
  assert_int_equal(a, MN_SCHED_LEAVE);
  mn_sched_classify_ex(&v, 1, NULL, &fn, 1, &in_use, v.eligible_at, &a, &until);
  assert_int_equal(a, MN_SCHED_CREATE_EXECUTION);
  assert_int_equal(mn_sched_next_wake(&v, &fn, S(5)), v.eligible_at);
}

static void priority_first_then_fifo(void **state) {
  (void)state;
  struct mn_sched_inv v[4] = {inv("inv-a", S(1)), inv("inv-b", S(2)), inv("inv-c", S(3)),
                              inv("inv-d", S(4))};
  v[0].priority = -1, v[2].priority = 5, v[3].priority = 5;
  struct mn_sched_fn fn = std_fn;
  fn.max_concurrency = 2;
  enum mn_sched_action a[4];
  int in_use = 0;
  mn_sched_classify_ex(v, 4, NULL, &fn, 1, &in_use, S(5), a, NULL);
  assert_int_equal(a[2], MN_SCHED_CREATE_EXECUTION); /* 5, older */
  assert_int_equal(a[3], MN_SCHED_CREATE_EXECUTION); /* 5 */
  assert_int_equal(a[1], MN_SCHED_QUEUED);           /* 0 */
  assert_int_equal(a[0], MN_SCHED_QUEUED);           /* -1 although the oldest */
}

static void a_full_key_blocks_only_itself(void **state) {
  (void)state;
  struct mn_sched_exec running = {MN_WORKER_RUNNING, MN_OUTCOME_NONE, NONE, 0, S(1), NONE};
  struct mn_sched_inv v[4] = {inv("inv-a1", S(1)), inv("inv-a2", S(2)), inv("inv-a3", S(3)),
                              inv("inv-b1", S(4))};
  const char *keys[] = {"A", "A", "A", "B"};
  for (int i = 0; i < 4; i++)
    v[i].concurrency_key = keys[i];
  v[0].execs = &running, v[0].n_execs = 1;
  struct mn_sched_fn fn = std_fn;
  fn.max_concurrency = 3, fn.max_concurrency_per_key = 1;
  enum mn_sched_action a[4];
  int in_use = 1;
  mn_sched_classify_ex(v, 4, NULL, &fn, 1, &in_use, S(5), a, NULL);
  assert_int_equal(a[0], MN_SCHED_LEAVE);
  assert_int_equal(a[1], MN_SCHED_BLOCKED);
  assert_int_equal(a[2], MN_SCHED_BLOCKED);
  assert_int_equal(a[3], MN_SCHED_CREATE_EXECUTION); /* B is not behind the A's */
  fn.max_concurrency = 1; /* the function is full: queued, not blocked */
  mn_sched_classify_ex(v, 4, NULL, &fn, 1, &in_use, S(5), a, NULL);
  assert_int_equal(a[1], MN_SCHED_QUEUED);
  assert_int_equal(a[3], MN_SCHED_QUEUED);
}

static void queue_timeout_and_start_at(void **state) {
  (void)state;
  struct mn_sched_fn fn = std_fn;
  fn.queue_timeout_seconds = 10;
  struct mn_sched_inv v = inv("inv-a", S(100));
  assert_int_equal(classify1(v, fn, 0, S(109)), MN_SCHED_CREATE_EXECUTION);
  assert_int_equal(classify1(v, fn, 100, S(109)), MN_SCHED_QUEUED);
  assert_int_equal(classify1(v, fn, 100, S(110)), MN_SCHED_QUEUE_TIMEOUT);
  assert_int_equal(mn_sched_next_wake(&v, &fn, S(100)), S(110));
  /* delayed: both timeouts count from start_at */
  v.start_at = S(200), v.waiting = true, v.eligible_at = S(200);
  assert_int_equal(classify1(v, fn, 0, S(150)), MN_SCHED_LEAVE);
  assert_int_equal(mn_sched_next_wake(&v, &fn, S(150)), S(200));
  assert_int_equal(classify1(v, fn, 100, S(209)), MN_SCHED_QUEUED);
  assert_int_equal(classify1(v, fn, 100, S(210)), MN_SCHED_QUEUE_TIMEOUT);
  assert_int_equal(classify1(v, fn, 0, S(231)), MN_SCHED_TERMINATE); /* timeout 30 */
  assert_int_equal(mn_sched_base_time(S(100), NONE), S(100));
  /* an attempt started: no queue timeout any more */
  struct mn_sched_exec failed = {MN_WORKER_TERMINATED, MN_OUTCOME_FAILED, NONE, S(101), S(100),
                                 NONE};
  struct mn_sched_inv r = inv("inv-b", S(100));
  r.execs = &failed, r.n_execs = 1;
  struct mn_sched_fn rf = fn;
  rf.max_retries = 1;
  assert_int_equal(classify1(r, rf, 100, S(120)), MN_SCHED_QUEUED);
  assert_int_equal(mn_sched_next_wake(&r, &rf, S(120)), S(131));
}

static void attempt_and_heartbeat_timeouts(void **state) {
  (void)state;
  struct mn_sched_fn fn = std_fn;
  fn.attempt_timeout_seconds = 10, fn.heartbeat_timeout_seconds = 3;
  struct mn_sched_exec e = {MN_WORKER_RUNNING, MN_OUTCOME_NONE, NONE, 0, S(100), NONE};
  int64_t wake;
  assert_int_equal(mn_sched_attempt_expired(&e, &fn, S(102), &wake), 0);
  assert_int_equal(wake, S(103));
  assert_int_equal(mn_sched_attempt_expired(&e, &fn, S(103), &wake), 2); /* silent */
  e.heartbeat_time = S(102);
  assert_int_equal(mn_sched_attempt_expired(&e, &fn, S(104), &wake), 0);
  assert_int_equal(wake, S(105));
  e.heartbeat_time = S(109);
  assert_int_equal(mn_sched_attempt_expired(&e, &fn, S(110), &wake), 1); /* ran 10 s */
  e.termination_signal_time = S(110); /* already ended: never twice */
  assert_int_equal(mn_sched_attempt_expired(&e, &fn, S(200), &wake), 0);
  assert_int_equal(wake, NONE);
  struct mn_sched_exec not_started = {MN_WORKER_RUNNING, MN_OUTCOME_NONE, NONE, 0, NONE, NONE};
  assert_int_equal(mn_sched_attempt_expired(&not_started, &fn, S(200), NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(running_or_pending_execution_is_untouched),
      cmocka_unit_test(terminal_outcomes_terminate),
      cmocka_unit_test(cancellation_timeout_retries_and_deletion_terminate),
      cmocka_unit_test(no_execution_or_failed_below_limit_creates),
      cmocka_unit_test(function_being_prepared_holds_but_still_ends),
      cmocka_unit_test(capacity_saturated_partial_and_one_of_two),
      cmocka_unit_test(capacity_goes_in_fifo_order),
      cmocka_unit_test(capacity_is_per_function),
      cmocka_unit_test(cancellation_from_parent),
      cmocka_unit_test(unrelated_and_uncancelled_parents_do_nothing),
      cmocka_unit_test(terminated_parent_still_cancels),
      cmocka_unit_test(grandparent_chain_in_one_pass_any_order),
      cmocka_unit_test(project_deleting),
      cmocka_unit_test(termination_signals),
      cmocka_unit_test(timeout_is_strict_in_whole_seconds),
      cmocka_unit_test(project_deletion),
      cmocka_unit_test(retry_wait_is_equal_jitter_within_the_cap),
      cmocka_unit_test(a_failed_attempt_waits_its_backoff_once),
      cmocka_unit_test(priority_first_then_fifo),
      cmocka_unit_test(a_full_key_blocks_only_itself),
      cmocka_unit_test(queue_timeout_and_start_at),
      cmocka_unit_test(attempt_and_heartbeat_timeouts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
