/* The worker protocol over HTTP: get/start/update/finish in every order,
 * their preconditions and errors, payload validation, and the logs endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include <cmocka.h>

#include "util/clock.h"
#include "api_assert.h"
#include "api_fixture.h"

static struct api_fixture fx;
static char *ver;

static int setup(void **state) { return api_fixture_start(&fx, "executions", NULL); }
static int teardown(void **state) {
  free(ver);
  api_fixture_stop(&fx);
  return 0;
}

/* One invocation of fb with one execution in the given worker status. */
struct exe {
  char *inv;
  char id[48];
  char path[512]; /* .../executions/{id} */
};

static void make_exe(struct exe *e, const char *worker_status, const char *details) {
  e->inv = api_make_invocation(&fx, "exe", ver, "fb", NULL, NULL);
  assert_int_equal(api_fixture_add_execution(&fx, "exe", ver, "fb", e->inv, worker_status,
                                             details, e->id),
                   0);
  snprintf(e->path, sizeof e->path,
           "/projects/exe/versions/%s/functions/fb/invocations/%s/executions/%s", ver, e->inv,
           e->id);
}

static const char *at(const struct exe *e, const char *suffix) {
  return api_fmt("%s%s", e->path, suffix);
}

#define NOT_STARTED "This execution has not yet started"
#define STARTED "This execution has already started"
#define FINISHED "This execution has already finished"
#define TERMINATED "This execution has already terminated"

static void test_setup_project(void **state) {
  api_make_project(&fx, "exe");
  ver = api_make_version(&fx, "exe");
}

static void test_get_execution(void **state) {
  struct exe e;
  make_exe(&e, "RUNNING", "{\"type\":\"TEST\",\"identifier\":\"w-1\",\"logs_identifier\":\"l\"}");
  json_t *x = api_expect(&fx, "GET", e.path, NULL, 200);
  assert_string_equal(api_str(x, "execution_id"), e.id);
  assert_string_equal(api_str(x, "invocation_id"), e.inv);
  assert_string_equal(api_str(x, "input"), "in");
  assert_string_equal(api_str(x, "worker_status"), "RUNNING");
  assert_string_equal(api_str(json_object_get(x, "worker_details"), "identifier"), "w-1");
  assert_true(json_is_null(json_object_get(x, "outcome")));
  assert_true(json_is_null(json_object_get(x, "execution_start_time")));
  assert_true(json_integer_value(json_object_get(x, "invocation_creation_time")) > 0);
  json_decref(x);
  /* the invocation lists it */
  x = api_expect(&fx, "GET",
                 api_fmt("/projects/exe/versions/latest/functions/fb/invocations/%s", e.inv), NULL,
                 200);
  json_t *list = json_object_get(x, "executions");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(api_str(json_array_get(list, 0), "execution_id"), e.id);
  json_decref(x);
  api_expect_detail(&fx, "GET",
                    api_fmt("/projects/exe/versions/%s/functions/fb/invocations/%s/"
                            "executions/exe-none",
                            ver, e.inv),
                    NULL, 404, "An execution with this ID does not exist for this invocation");
  api_expect_detail(&fx, "GET",
                    api_fmt("/projects/exe/versions/%s/functions/fb/invocations/inv-x/"
                            "executions/%s",
                            ver, e.id),
                    NULL, 404, "An invocation with this ID does not exist for this function");
  api_expect_detail(&fx, "PUT",
                    api_fmt("/projects/exe/versions/%s/functions/nofn/invocations/%s/"
                            "executions/%s/start",
                            ver, e.inv, e.id),
                    NULL, 404, "A function with this name does not exist for this project version");
  api_expect_detail(&fx, "PUT",
                    api_fmt("/projects/gone/versions/%s/functions/fb/invocations/%s/"
                            "executions/%s/finish",
                            ver, e.inv, e.id),
                    "{\"outcome\":\"SUCCEEDED\"}", 404, "A project with this name does not exist");
  free(e.inv);
}

static void test_protocol_in_order(void **state) {
  struct exe e;
  make_exe(&e, "RUNNING", NULL);
  /* nothing before start */
  api_expect_detail(&fx, "PUT", at(&e, "/update"), "{\"latest_output\":\"p\"}", 409,
                    NOT_STARTED);
  api_expect_detail(&fx, "PUT", at(&e, "/finish"), "{\"outcome\":\"SUCCEEDED\"}", 409,
                    NOT_STARTED);
  long long before = mn_us_to_s(mn_now_us());
  json_t *x = api_expect(&fx, "PUT", at(&e, "/start"), NULL, 200);
  assert_true(json_integer_value(json_object_get(x, "execution_start_time")) >= before);
  json_decref(x);
  api_expect_detail(&fx, "PUT", at(&e, "/start"), NULL, 409, STARTED);
  x = api_expect(&fx, "PUT", at(&e, "/update"), "{\"latest_output\":\"25%\"}", 200);
  assert_string_equal(api_str(x, "output"), "25%");
  json_decref(x);
  x = api_expect(&fx, "PUT", at(&e, "/update"), "{\"latest_output\":\"50%\"}", 200);
  assert_string_equal(api_str(x, "output"), "50%");
  json_decref(x);
  /* a final result without output keeps the progress output */
  x = api_expect(&fx, "PUT", at(&e, "/finish"), "{\"outcome\":\"SUCCEEDED\",\"final_output\":null}",
                 200);
  assert_string_equal(api_str(x, "outcome"), "SUCCEEDED");
  assert_string_equal(api_str(x, "output"), "50%");
  assert_true(json_is_null(json_object_get(x, "error_message")));
  assert_false(json_is_null(json_object_get(x, "execution_finish_time")));
  json_decref(x);
  api_expect_detail(&fx, "PUT", at(&e, "/update"), "{\"latest_output\":\"late\"}", 409,
                    FINISHED);
  api_expect_detail(&fx, "PUT", at(&e, "/finish"), "{\"outcome\":\"FAILED\",\"error_message\":\"e\"}",
                    409, FINISHED);
  api_expect_detail(&fx, "PUT", at(&e, "/start"), NULL, 409, STARTED);
  free(e.inv);

  make_exe(&e, "RUNNING", NULL);
  json_decref(api_expect(&fx, "PUT", at(&e, "/start"), NULL, 200));
  x = api_expect(&fx, "PUT", at(&e, "/finish"),
                 "{\"outcome\":\"FAILED\",\"final_output\":\"partial\",\"error_message\":\"boom\"}",
                 200);
  assert_string_equal(api_str(x, "outcome"), "FAILED");
  assert_string_equal(api_str(x, "output"), "partial");
  assert_string_equal(api_str(x, "error_message"), "boom");
  json_decref(x);
  free(e.inv);
}

static void test_terminated_executions(void **state) {
  struct exe e;
  /* terminated before it started */
  make_exe(&e, "RUNNING", NULL);
  assert_int_equal(api_fixture_terminate_execution(&fx, "exe", ver, "fb", e.inv, e.id), 0);
  api_expect_detail(&fx, "PUT", at(&e, "/start"), NULL, 409, TERMINATED);
  api_expect_detail(&fx, "PUT", at(&e, "/update"), "{\"latest_output\":\"p\"}", 409,
                    NOT_STARTED);
  free(e.inv);
  /* terminated while running */
  make_exe(&e, "RUNNING", NULL);
  json_decref(api_expect(&fx, "PUT", at(&e, "/start"), NULL, 200));
  assert_int_equal(api_fixture_terminate_execution(&fx, "exe", ver, "fb", e.inv, e.id), 0);
  api_expect_detail(&fx, "PUT", at(&e, "/update"), "{\"latest_output\":\"p\"}", 409,
                    TERMINATED);
  api_expect_detail(&fx, "PUT", at(&e, "/finish"), "{\"outcome\":\"ABORTED\"}", 409, TERMINATED);
  api_expect_detail(&fx, "PUT", at(&e, "/start"), NULL, 409, STARTED);
  free(e.inv);
  /* a worker may start before the RUNNING write lands: PENDING is fine */
  make_exe(&e, "PENDING", NULL);
  json_decref(api_expect(&fx, "PUT", at(&e, "/start"), NULL, 200));
  free(e.inv);
}

static void test_payloads_validated(void **state) {
  struct exe e;
  make_exe(&e, "RUNNING", NULL);
  json_decref(api_expect(&fx, "PUT", at(&e, "/start"), NULL, 200));
  struct {
    const char *suffix, *body, *prefix;
  } cases[] = {
      {"/finish", "{\"outcome\":\"FAILED\"}", "body.error_message: "},
      {"/finish", "{\"outcome\":\"FAILED\",\"error_message\":null}", "body.error_message: "},
      {"/finish", "{\"outcome\":\"SUCCEEDED\",\"error_message\":\"no\"}", "body.error_message: "},
      {"/finish", "{\"outcome\":\"ABORTED\",\"error_message\":\"no\"}", "body.error_message: "},
      {"/finish", "{\"outcome\":\"DONE\"}", "body.outcome: "},
      {"/finish", "{\"outcome\":1}", "body.outcome: "},
      {"/finish", "{}", "body.outcome: field required"},
      {"/finish", "{\"outcome\":\"SUCCEEDED\",\"final_output\":3}", "body.final_output: "},
      {"/finish", "", "body: field required"},
      {"/update", "{}", "body.latest_output: field required"},
      {"/update", "{\"latest_output\":null}", "body.latest_output: "},
      {"/update", "{\"latest_output\":[]}", "body.latest_output: "},
      {"/update", "{\"latest_output\":", "body.17: "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *m = api_expect_422(&fx, "PUT", at(&e, cases[i].suffix), cases[i].body);
    if (strncmp(m, cases[i].prefix, strlen(cases[i].prefix)) != 0)
      fail_msg("%s %s: \"%s\" does not start with \"%s\"", cases[i].suffix, cases[i].body, m,
               cases[i].prefix);
  }
  /* outputs are refused from 250000 characters on; error messages from 16384 */
  size_t n = 250000;
  char *big = malloc(n + 64);
  int head = snprintf(big, 64, "{\"latest_output\":\"");
  memset(big + head, 'o', n);
  strcpy(big + head + n, "\"}");
  assert_non_null(strstr(api_expect_422(&fx, "PUT", at(&e, "/update"), big),
                         "body.latest_output: "));
  strcpy(big + head + n - 1, "\"}");
  json_decref(api_expect(&fx, "PUT", at(&e, "/update"), big, 200));
  head = snprintf(big, 64, "{\"outcome\":\"FAILED\",\"error_message\":\"");
  memset(big + head, 'e', 16384);
  strcpy(big + head + 16384, "\"}");
  assert_non_null(strstr(api_expect_422(&fx, "PUT", at(&e, "/finish"), big),
                         "body.error_message: "));
  free(big);
  /* still unfinished after all the refusals */
  json_decref(api_expect(&fx, "PUT", at(&e, "/finish"), "{\"outcome\":\"ABORTED\"}", 200));
  free(e.inv);
}

static void test_logs_without_worker(void **state) {
  struct exe e;
  make_exe(&e, "PENDING", NULL);
  json_t *l = api_expect(&fx, "GET", at(&e, "/logs"), NULL, 200);
  assert_int_equal(json_array_size(json_object_get(l, "log_lines")), 0);
  assert_true(json_is_null(json_object_get(l, "next_offset")));
  assert_string_equal(api_str(l, "execution_id"), e.id);
  assert_string_equal(api_str(l, "invocation_id"), e.inv);
  assert_string_equal(api_str(l, "version_id"), ver);
  json_decref(l);
  assert_string_equal(api_expect_422(&fx, "GET", at(&e, "/logs?max_lines=0"), NULL),
                      "query.max_lines: ensure this value is greater than or equal to 1");
  assert_string_equal(api_expect_422(&fx, "GET", at(&e, "/logs?max_lines=x"), NULL),
                      "query.max_lines: value is not a valid integer");
  api_expect_detail(&fx, "GET",
                    api_fmt("/projects/exe/versions/%s/functions/fb/invocations/%s/executions/"
                            "exe-none/logs",
                            ver, e.inv),
                    NULL, 404, "An execution with this ID does not exist for this invocation");
  free(e.inv);
}

struct logs_seen {
  int calls;
  int max_lines;
  char offset[64];
  char execution_id[64];
};

static int logs_fn(void *ctx, const struct mn_invocation *inv, const char *initial_offset,
                   int max_lines, json_t **lines_out, char **next_offset_out,
                   struct mn_error *err) {
  struct logs_seen *seen = ctx;
  seen->calls++;
  seen->max_lines = max_lines;
  snprintf(seen->offset, sizeof seen->offset, "%s", initial_offset ? initial_offset : "(null)");
  snprintf(seen->execution_id, sizeof seen->execution_id, "%s", inv->executions[0].execution_id);
  if (initial_offset && strcmp(initial_offset, "fail") == 0)
    return mn_fail(err, MN_EUNAVAILABLE, "provider unreachable");
  *lines_out = json_pack("[s,s]", "line one", "line two");
  *next_offset_out = strdup("tok-2");
  return 0;
}

static void test_logs_from_the_provider(void **state) {
  struct logs_seen seen = {0};
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 2, .logs = logs_fn, .logs_ctx = &seen};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);

  struct exe e;
  make_exe(&e, "RUNNING", "{\"type\":\"TEST\",\"identifier\":\"w\",\"logs_identifier\":\"l\"}");
  json_t *l = api_expect(&second, "GET", at(&e, "/logs"), NULL, 200);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.max_lines, 250);
  assert_string_equal(seen.offset, "(null)");
  assert_string_equal(seen.execution_id, e.id);
  assert_string_equal(json_string_value(json_array_get(json_object_get(l, "log_lines"), 1)),
                      "line two");
  assert_string_equal(api_str(l, "next_offset"), "tok-2");
  json_decref(l);
  json_decref(api_expect(&second, "GET", at(&e, "/logs?max_lines=1000&initial_offset=tok-2"),
                         NULL, 200));
  assert_int_equal(seen.max_lines, 250);
  assert_string_equal(seen.offset, "tok-2");
  json_decref(api_expect(&second, "GET", at(&e, "/logs?max_lines=7"), NULL, 200));
  assert_int_equal(seen.max_lines, 7);
  api_expect_detail(&second, "GET", at(&e, "/logs?initial_offset=fail"), NULL, 503,
                    "provider unreachable");
  /* no worker yet: the provider is not asked */
  struct exe pending;
  make_exe(&pending, "PENDING", NULL);
  int calls = seen.calls;
  json_decref(api_expect(&second, "GET", at(&pending, "/logs"), NULL, 200));
  assert_int_equal(seen.calls, calls);
  free(pending.inv);
  free(e.inv);
  api_fixture_stop_second(&second);
}

/* A logs callback that blocks until the test lets it go. */
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool entered, released;
};

static int blocking_logs_fn(void *ctx, const struct mn_invocation *inv,
                            const char *initial_offset, int max_lines, json_t **lines_out,
                            char **next_offset_out, struct mn_error *err) {
  struct gate *g = ctx;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 20;
  pthread_mutex_lock(&g->mu);
  g->entered = true;
  pthread_cond_broadcast(&g->cv);
  while (!g->released && pthread_cond_timedwait(&g->cv, &g->mu, &deadline) == 0)
    ;
  pthread_mutex_unlock(&g->mu);
  *lines_out = json_pack("[s]", "done");
  return 0;
}

struct slow_call {
  const char *base_url;
  const char *path;
  long status;
};

static void *call_in_background(void *arg) {
  struct slow_call *c = arg;
  struct http_client *h = http_client_new(c->base_url, API_TEST_KEY);
  json_t *json = NULL;
  if (http_request(h, "GET", c->path, NULL, &c->status, &json) != 0)
    c->status = -1;
  json_decref(json);
  http_client_free(h);
  return NULL;
}

static void test_slow_handler_does_not_hold_up_others(void **state) {
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
  /* one I/O thread: a handler running on it would stall every connection */
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 1, .workers = 2, .logs = blocking_logs_fn,
                               .logs_ctx = &g};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  struct exe e;
  make_exe(&e, "RUNNING", "{\"type\":\"TEST\",\"identifier\":\"w\",\"logs_identifier\":\"l\"}");
  struct slow_call slow = {second.base_url, at(&e, "/logs"), 0};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, call_in_background, &slow), 0);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  pthread_mutex_lock(&g.mu);
  while (!g.entered && pthread_cond_timedwait(&g.cv, &g.mu, &deadline) == 0)
    ;
  bool entered = g.entered;
  pthread_mutex_unlock(&g.mu);
  assert_true(entered);
  /* while that request is stuck in its handler, others are served, at once */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 5; i++)
    json_decref(api_expect(&second, "GET", "/projects", NULL, 200));
  json_decref(api_expect(&second, "GET", "/", NULL, 200));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  assert_true(t1.tv_sec - t0.tv_sec < 5);
  pthread_mutex_lock(&g.mu);
  assert_false(g.released);
  g.released = true;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  pthread_join(t, NULL);
  assert_int_equal(slow.status, 200);
  free(e.inv);
  api_fixture_stop_second(&second);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_setup_project),
      cmocka_unit_test(test_get_execution),
      cmocka_unit_test(test_protocol_in_order),
      cmocka_unit_test(test_terminated_executions),
      cmocka_unit_test(test_payloads_validated),
      cmocka_unit_test(test_logs_without_worker),
      cmocka_unit_test(test_logs_from_the_provider),
      cmocka_unit_test(test_slow_handler_does_not_hold_up_others),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
