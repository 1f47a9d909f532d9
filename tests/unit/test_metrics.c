/* metrics/metrics.h: the derived status an ended invocation is counted
 * under (reference §6.4), the exposition's shape (HELP/TYPE once per
 * family, cumulative buckets, escaped label values), the bound on label
 * sets, and counting from many threads at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/routes.h"
#include "metrics/metrics.h"
#include "util/clock.h"

#define S MN_US_PER_S

static struct mn_execution exec_of(enum mn_worker_status ws, enum mn_outcome outcome,
                                   int64_t started, int64_t signalled) {
  struct mn_execution e = {0};
  e.worker_status = ws;
  e.outcome = outcome;
  e.execution_start_time = started;
  e.termination_signal_time = signalled;
  return e;
}

static enum mn_metrics_end end_of_q(struct mn_execution *execs, size_t n, int max_retries,
                                    bool queue_timeout, int64_t now) {
  struct mn_invocation inv = {0};
  inv.creation_time = 100 * S;
  inv.executions = execs;
  inv.n_executions = n;
  return mn_metrics_end_of(&inv, 60, max_retries, queue_timeout, now);
}

static enum mn_metrics_end end_of(struct mn_execution *execs, size_t n, int max_retries,
                                  int64_t now) {
  return end_of_q(execs, n, max_retries, false, now);
}

static void test_end_status(void **state) {
  (void)state;
  struct mn_execution e[3];
  /* 1: any success wins, even after failures */
  e[0] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_FAILED, 101 * S, MN_TIME_NULL);
  e[1] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_SUCCEEDED, 102 * S, MN_TIME_NULL);
  assert_int_equal(end_of(e, 2, 1, 103 * S), MN_END_SUCCEEDED);
  /* 2: aborted after the deadline (signal past creation + timeout) */
  e[0] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_ABORTED, 101 * S, 161 * S + 1);
  assert_int_equal(end_of(e, 1, 0, 170 * S), MN_END_TIMED_OUT);
  /* 3: aborted before it: cancelled; also a signal before the start */
  e[0] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_ABORTED, 101 * S, 120 * S);
  assert_int_equal(end_of(e, 1, 0, 170 * S), MN_END_CANCELLED);
  e[0] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_NONE, MN_TIME_NULL, 120 * S);
  assert_int_equal(end_of(e, 1, 3, 121 * S), MN_END_CANCELLED);
  /* 4: every attempt failed (a crash without outcome counts) */
  e[0] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_FAILED, 101 * S, MN_TIME_NULL);
  e[1] = exec_of(MN_WORKER_TERMINATED, MN_OUTCOME_NONE, 102 * S, MN_TIME_NULL);
  assert_int_equal(end_of(e, 2, 1, 103 * S), MN_END_FAILED);
  /* 5/6: fewer failures than allowed: ended by the clock or a cancel */
  assert_int_equal(end_of(e, 1, 1, 161 * S), MN_END_TIMED_OUT);
  assert_int_equal(end_of(e, 1, 1, 150 * S), MN_END_CANCELLED);
  assert_int_equal(end_of(NULL, 0, 0, 150 * S), MN_END_CANCELLED);
  assert_int_equal(end_of(NULL, 0, 0, 200 * S), MN_END_TIMED_OUT);
  assert_int_equal(end_of_q(NULL, 0, 0, true, 110 * S), MN_END_TIMED_OUT); /* queue timeout */
  assert_string_equal(mn_metrics_end_name(MN_END_TIMED_OUT), "TIMED OUT");
}

static char *render(void) {
  struct mn_metrics_gauges g = {.pool_size = 8, .pool_in_use = 3};
  struct mn_metrics_queue_row q = {"p\"q", "ver-1", "f\\g", 7, 2};
  g.queues = &q;
  g.n_queues = 1;
  g.queues_ok = true;
  size_t len = 0;
  char *text = mn_metrics_render(&g, &len);
  assert_non_null(text);
  assert_int_equal(strlen(text), len);
  return text;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void test_exposition(void **state) {
  (void)state;
  mn_metrics_reset();
  mn_metrics_invocation_created("shop", "resize");
  mn_metrics_invocation_created("shop", "resize");
  mn_metrics_invocation_ended("shop", "resize", MN_END_SUCCEEDED);
  mn_metrics_invocation_ended("shop", "resize", MN_END_TIMED_OUT);
  mn_metrics_provider_call("local", "launch", 0);
  mn_metrics_provider_call("local", "launch", -2);
  mn_metrics_dispatch_latency(20000);    /* 0.02 s: the 0.05 bucket */
  mn_metrics_dispatch_latency(90000000); /* 90 s: the 300 bucket */
  mn_metrics_http(0, 200, 1500);
  mn_metrics_http(MN_METRICS_ROUTE_METRICS, 403, 10);
  mn_metrics_http(MN_METRICS_ROUTE_NONE, 418, 10);
  char *t = render();
  assert_non_null(strstr(t, "multinode_invocations_created_total{project=\"shop\",function=\"resize\"} 2\n"));
  assert_non_null(strstr(t, "multinode_invocations_ended_total{project=\"shop\",function=\"resize\",status=\"SUCCEEDED\"} 1\n"));
  assert_non_null(strstr(t, "status=\"TIMED OUT\"} 1\n"));
  assert_non_null(strstr(t, "multinode_provider_calls_total{provider=\"local\",operation=\"launch\"} 2\n"));
  assert_non_null(strstr(t, "multinode_provider_errors_total{provider=\"local\",operation=\"launch\",kind=\"capacity\"} 1\n"));
  /* cumulative buckets, an exact sum */
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_bucket{le=\"0.010000\"} 0\n"));
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_bucket{le=\"0.050000\"} 1\n"));
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_bucket{le=\"60.000000\"} 1\n"));
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_bucket{le=\"300.000000\"} 2\n"));
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_sum 90.020000\n"));
  assert_non_null(strstr(t, "multinode_dispatch_latency_seconds_count 2\n"));
  /* routes by template; an unknown status is "other" */
  char want[256];
  snprintf(want, sizeof want, "multinode_http_requests_total{method=\"GET\",route=\"%s\",code=\"200\"} 1\n",
           mn_api_routes[0].pattern);
  assert_non_null(strstr(t, want));
  assert_non_null(strstr(t, "route=\"/metrics\",code=\"403\"} 1\n"));
  assert_non_null(strstr(t, "route=\"other\",code=\"other\"} 1\n"));
  /* label values escaped; gauges as given */
  assert_non_null(strstr(t, "multinode_invocations_queued{project=\"p\\\"q\",version=\"ver-1\",function=\"f\\\\g\"} 7\n"));
  assert_non_null(strstr(t, "multinode_invocations_running{project=\"p\\\"q\",version=\"ver-1\",function=\"f\\\\g\"} 2\n"));
  assert_non_null(strstr(t, "multinode_store_pool_connections{state=\"idle\"} 5\n"));
  /* one HELP and TYPE per family; no event gauge without streams */
  assert_int_equal(count(t, "# TYPE multinode_invocations_ended_total counter\n"), 1);
  assert_int_equal(count(t, "# TYPE multinode_http_request_duration_seconds histogram\n"), 1);
  assert_null(strstr(t, "multinode_event_streams_open"));
  free(t);
  mn_metrics_reset();
}

static void test_bounded_series(void **state) {
  (void)state;
  mn_metrics_reset();
  char name[32];
  for (int i = 0; i < 2 * MN_METRICS_MAX_SERIES; i++) {
    snprintf(name, sizeof name, "fn-%d", i);
    mn_metrics_invocation_created("p", name);
  }
  char *t = render();
  size_t series = count(t, "multinode_invocations_created_total{");
  assert_true(series < MN_METRICS_MAX_SERIES + 1);
  assert_true(series > MN_METRICS_MAX_SERIES / 2);
  /* the rest are counted, under _other */
  char want[128];
  snprintf(want, sizeof want,
           "multinode_invocations_created_total{project=\"_other\",function=\"_other\"} %zu\n",
           (size_t)2 * MN_METRICS_MAX_SERIES - (series - 1));
  assert_non_null(strstr(t, want));
  free(t);
  mn_metrics_reset();
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg) {
  (void)arg;
  for (int i = 0; i < PER_THREAD; i++) {
    mn_metrics_invocation_created("p", i % 2 ? "odd" : "even");
    mn_metrics_http(1, 200, i);
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  mn_metrics_reset();
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  char *t = render();
  char want[128];
  snprintf(want, sizeof want, "function=\"odd\"} %d\n", THREADS * PER_THREAD / 2);
  assert_non_null(strstr(t, want));
  snprintf(want, sizeof want, "function=\"even\"} %d\n", THREADS * PER_THREAD / 2);
  assert_non_null(strstr(t, want));
  snprintf(want, sizeof want, "code=\"200\"} %d\n", THREADS * PER_THREAD);
  assert_non_null(strstr(t, want));
  free(t);
  mn_metrics_reset();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_end_status),
      cmocka_unit_test(test_exposition),
      cmocka_unit_test(test_bounded_series),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
