/* libmultinode-client against the real API server and a real Postgres:
 * every operation, the typed errors the server's answers turn into, the
 * worker protocol, and waiting on the derived status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "api_fixture.h"
#include "multinode/client.h"

static struct api_fixture fx;
static struct mn_client *c;
static char *ver; /* version of project "cl": functions "fa" and "fb" */

static int setup(void **state) {
  if (api_fixture_start(&fx, "client", NULL) != 0)
    return -1;
  c = mn_client_new(fx.base_url, API_TEST_KEY);
  return c ? 0 : -1;
}

static int teardown(void **state) {
  free(ver);
  mn_client_free(c);
  api_fixture_stop(&fx);
  return 0;
}

static void expect_error(int rc, const struct mn_client_error *err, int status,
                         const char *name) {
  assert_int_equal(rc, MN_CLIENT_E_HTTP);
  assert_int_equal(err->http_status, status);
  assert_string_equal(err->name, name);
}

static void test_health_and_auth(void **state) {
  struct mn_client_error err;
  json_t *out = NULL;
  assert_int_equal(mn_client_health(c, &out, &err), 0);
  assert_string_equal(mn_client_json_str(out, "status"), "healthy");
  json_decref(out);

  struct mn_client *bad = mn_client_new(fx.base_url, "wrong-key");
  expect_error(mn_client_projects_list(bad, &out, &err), &err, 403, "ApiKeyIsInvalid");
  assert_null(out);
  mn_client_free(bad);
  struct mn_client *none = mn_client_new(fx.base_url, NULL);
  assert_int_equal(mn_client_health(none, NULL, &err), 0);
  expect_error(mn_client_projects_list(none, NULL, &err), &err, 403, "NotAuthenticated");
  mn_client_free(none);
}

static void test_projects(void **state) {
  struct mn_client_error err;
  json_t *out = NULL;

  assert_int_equal(mn_client_project_create(c, "cl", &out, &err), 0);
  assert_string_equal(mn_client_json_str(out, "project_name"), "cl");
  assert_true(json_is_null(json_object_get(out, "deletion_request_time")));
  json_decref(out);
  expect_error(mn_client_project_create(c, "cl", NULL, &err), &err, 409, "ProjectAlreadyExists");
  expect_error(mn_client_project_get(c, "nope", NULL, &err), &err, 404, "ProjectDoesNotExist");
  char long_name[80];
  memset(long_name, 'x', 65);
  long_name[65] = '\0';
  expect_error(mn_client_project_create(c, long_name, NULL, &err), &err, 400,
               "ProjectNameIsTooLong");

  assert_int_equal(mn_client_projects_list(c, &out, &err), 0);
  assert_int_equal(json_array_size(json_object_get(out, "projects")), 1);
  json_decref(out);

  /* deletion only marks it */
  assert_int_equal(mn_client_project_create(c, "gone", NULL, &err), 0);
  assert_int_equal(mn_client_project_delete(c, "gone", &out, &err), 0);
  assert_false(json_is_null(json_object_get(out, "deletion_request_time")));
  json_decref(out);
  json_t *def = json_pack("{s:s, s:[]}", "default_docker_image", "img", "functions");
  expect_error(mn_client_version_create_json(c, "gone", def, NULL, &err), &err, 400,
               "ProjectIsBeingDeleted");
  json_decref(def);
}

static void test_versions(void **state) {
  static const char *const argv[] = {"python3", "-c", "print(1)", NULL};
  static const char *const env[] = {"A=1", "B=x=y", NULL};
  const struct mn_client_function_spec fns[] = {
      {"fa", NULL, 1.0, 4.0, 10, 0, 30, argv, NULL, env, 0, 0, 0, 0, 0, 0, 0},
      {"fb", "other:img", 0.5, 1.0, 1, 2, 60, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0},
  };
  const struct mn_client_version_definition def = {"img:1", fns, 2};
  struct mn_client_error err;
  json_t *out = NULL;

  assert_int_equal(mn_client_version_create(c, "cl", &def, &out, &err), 0);
  ver = strdup(mn_client_json_str(out, "version_id"));
  assert_int_equal(strncmp(ver, "ver-", 4), 0);
  assert_int_equal(json_array_size(json_object_get(out, "functions")), 2);
  json_decref(out);

  assert_int_equal(mn_client_version_get(c, "cl", NULL, &out, &err), 0); /* latest */
  assert_string_equal(mn_client_json_str(out, "version_id"), ver);
  json_t *f;
  size_t i;
  int seen = 0;
  json_array_foreach(json_object_get(out, "functions"), i, f) {
    const char *name = mn_client_json_str(f, "function_name");
    if (strcmp(name, "fa") == 0) {
      seen++;
      assert_string_equal(mn_client_json_str(f, "docker_image"), "img:1");
      assert_int_equal(json_array_size(json_object_get(f, "command")), 3);
    } else {
      seen++;
      assert_string_equal(mn_client_json_str(f, "docker_image"), "other:img");
    }
  }
  assert_int_equal(seen, 2);
  json_decref(out);

  assert_int_equal(mn_client_version_get(c, "cl", ver, &out, &err), 0);
  json_decref(out);
  assert_int_equal(mn_client_versions_list(c, "cl", &out, &err), 0);
  assert_int_equal(json_array_size(json_object_get(out, "versions")), 1);
  json_decref(out);
  expect_error(mn_client_version_get(c, "cl", "ver-0", NULL, &err), &err, 404,
               "VersionDoesNotExist");

  /* the server's validation comes back as a ValidationError */
  const struct mn_client_function_spec bad[] = {{"fz", NULL, 99.0, 4.0, 10, 0, 30, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0}};
  const struct mn_client_version_definition bad_def = {"img", bad, 1};
  expect_error(mn_client_version_create(c, "cl", &bad_def, NULL, &err), &err, 422,
               "ValidationError");
  assert_non_null(strstr(err.detail, "virtual_cpus"));
}

static void test_invocations(void **state) {
  struct mn_client_function_ref fa = {"cl", ver, "fa"};
  struct mn_client_function_ref latest = {"cl", NULL, "fa"};
  struct mn_client_error err;
  struct mn_status_info st;
  json_t *out = NULL;
  char ids[3][64];

  for (int i = 0; i < 3; i++) {
    assert_int_equal(mn_client_invocation_start(c, &latest, "in\xc3\xa9", NULL, &out, &err), 0);
    snprintf(ids[i], sizeof ids[i], "%s", mn_client_json_str(out, "invocation_id"));
    assert_string_equal(mn_client_json_str(out, "version_id"), ver);
    assert_string_equal(mn_client_json_str(out, "input"), "in\xc3\xa9");
    json_decref(out);
  }
  assert_int_equal(mn_client_invocation_get(c, &fa, ids[0], &out, &err), 0);
  assert_int_equal(mn_status_derive(out, &st, &err), 0);
  assert_int_equal(st.status, MN_STATUS_PENDING);
  json_decref(out);

  /* paging: one at a time, newest first, to the end */
  struct mn_client_list_options opt = {.max_results = 1};
  char *offset = NULL;
  int pages = 0;
  do {
    opt.initial_offset = offset;
    assert_int_equal(mn_client_invocations_list(c, &fa, &opt, &out, &err), 0);
    assert_int_equal(json_array_size(json_object_get(out, "invocations")), 1);
    free(offset);
    const char *next = mn_client_json_str(out, "next_offset");
    offset = next ? strdup(next) : NULL;
    json_decref(out);
    pages++;
  } while (offset && pages < 10);
  assert_int_equal(pages, 3);
  opt = (struct mn_client_list_options){.initial_offset = "bogus"};
  expect_error(mn_client_invocations_list(c, &fa, &opt, NULL, &err), &err, 400,
               "OffsetIsInvalid");
  opt = (struct mn_client_list_options){.parent_function_name = "fa"};
  expect_error(mn_client_invocations_list(c, &fa, &opt, NULL, &err), &err, 400,
               "ParentInvocationIdIsMissing");

  /* a child of ids[0], found by the parent filter */
  struct mn_client_function_ref fb = {"cl", ver, "fb"};
  struct mn_client_parent parent = {"fa", ids[0]};
  assert_int_equal(mn_client_invocation_start(c, &fb, "", &parent, &out, &err), 0);
  assert_string_equal(
      mn_client_json_str(json_object_get(out, "parent_invocation"), "invocation_id"), ids[0]);
  json_decref(out);
  opt = (struct mn_client_list_options){.parent_function_name = "fa",
                                        .parent_invocation_id = ids[0], .status = "RUNNING"};
  assert_int_equal(mn_client_invocations_list(c, &fb, &opt, &out, &err), 0);
  assert_int_equal(json_array_size(json_object_get(out, "invocations")), 1);
  json_decref(out);
  parent.invocation_id = "inv-00000000000000000000000000000000";
  expect_error(mn_client_invocation_start(c, &fb, "", &parent, NULL, &err), &err, 400,
               "ParentInvocationDoesNotExist");

  /* the errors of the levels above */
  struct mn_client_function_ref nofn = {"cl", ver, "nope"};
  expect_error(mn_client_invocation_start(c, &nofn, "", NULL, NULL, &err), &err, 404,
               "FunctionDoesNotExist");
  expect_error(mn_client_invocation_get(c, &fa, "inv-00000000000000000000000000000000", NULL,
                                        &err),
               &err, 404, "InvocationDoesNotExist");

  /* cancel: CANCELLING; once terminated, cancelling again is an error */
  assert_int_equal(mn_client_invocation_cancel(c, &fa, ids[1], &out, &err), 0);
  assert_int_equal(mn_status_derive(out, &st, &err), 0);
  assert_int_equal(st.status, MN_STATUS_CANCELLING);
  json_decref(out);
  assert_int_equal(api_fixture_terminate_invocation(&fx, "cl", ver, "fa", ids[1]), 0);
  expect_error(mn_client_invocation_cancel(c, &fa, ids[1], NULL, &err), &err, 409,
               "InvocationIsAlreadyTerminated");
  assert_int_equal(mn_client_invocation_get(c, &fa, ids[1], &out, &err), 0);
  assert_int_equal(mn_status_derive(out, &st, &err), 0);
  assert_int_equal(st.status, MN_STATUS_CANCELLED);
  json_decref(out);
}

static void test_worker_protocol(void **state) {
  struct mn_client_function_ref fa = {"cl", ver, "fa"};
  struct mn_client_error err;
  struct mn_status_info st;
  json_t *out = NULL;
  char inv[64], exe[64];

  assert_int_equal(mn_client_invocation_start(c, &fa, "job", NULL, &out, &err), 0);
  snprintf(inv, sizeof inv, "%s", mn_client_json_str(out, "invocation_id"));
  json_decref(out);
  assert_int_equal(api_fixture_add_execution(&fx, "cl", ver, "fa", inv, "RUNNING",
                                             "{\"type\":\"TEST\",\"identifier\":\"w1\"}", exe),
                   0);
  struct mn_client_execution_ref ex = {"cl", ver, "fa", inv, exe};

  expect_error(mn_client_execution_update(c, &ex, "early", NULL, &err), &err, 409,
               "ExecutionHasNotStarted");
  assert_int_equal(mn_client_execution_get(c, &ex, &out, &err), 0);
  assert_string_equal(mn_client_json_str(out, "input"), "job");
  json_decref(out);
  assert_int_equal(mn_client_execution_start(c, &ex, &out, &err), 0);
  assert_true(json_is_integer(json_object_get(out, "execution_start_time")));
  json_decref(out);
  expect_error(mn_client_execution_start(c, &ex, NULL, &err), &err, 409,
               "ExecutionHasAlreadyStarted");

  assert_int_equal(mn_client_execution_update(c, &ex, "half", NULL, &err), 0);
  assert_int_equal(mn_client_invocation_get(c, &fa, inv, &out, &err), 0);
  assert_int_equal(mn_status_derive(out, &st, &err), 0);
  assert_int_equal(st.status, MN_STATUS_RUNNING);
  assert_string_equal(st.result, "half");
  json_decref(out);

  assert_int_equal(mn_client_execution_finish(c, &ex, "FAILED", NULL, NULL, NULL, &err),
                   MN_CLIENT_E_INVAL); /* FAILED needs an error message */
  assert_int_equal(mn_client_execution_finish(c, &ex, "SUCCEEDED", "done", NULL, &out, &err), 0);
  assert_string_equal(mn_client_json_str(out, "outcome"), "SUCCEEDED");
  json_decref(out);
  expect_error(mn_client_execution_finish(c, &ex, "SUCCEEDED", NULL, NULL, NULL, &err), &err,
               409, "ExecutionHasAlreadyFinished");
  assert_int_equal(mn_client_invocation_get(c, &fa, inv, &out, &err), 0);
  assert_int_equal(mn_status_derive(out, &st, &err), 0);
  assert_int_equal(st.status, MN_STATUS_SUCCEEDED);
  assert_string_equal(st.result, "done");
  assert_false(st.terminated);
  json_decref(out);

  assert_int_equal(mn_client_execution_logs(c, &ex, 10, NULL, &out, &err), 0);
  assert_true(json_is_array(json_object_get(out, "log_lines")));
  json_decref(out);
  ex.execution_id = "exe-00000000000000000000000000000000";
  expect_error(mn_client_execution_get(c, &ex, NULL, &err), &err, 404, "ExecutionDoesNotExist");
}

/* A worker in another thread runs the invocation once the waiting side has
 * seen it unfinished. */
struct worker_args {
  char inv[64];
  int rc;
};

static atomic_int changes;

static void *worker(void *arg) {
  struct worker_args *w = arg;
  struct mn_client *own = mn_client_new(fx.base_url, API_TEST_KEY); /* one per thread */
  struct mn_client_error err;
  struct timespec tick = {0, 10 * 1000000L};
  char exe[64];
  for (int i = 0; i < 1000 && atomic_load(&changes) == 0; i++) /* up to 10 s */
    nanosleep(&tick, NULL);
  w->rc = api_fixture_add_execution(&fx, "cl", ver, "fb", w->inv, "RUNNING", NULL, exe);
  struct mn_client_execution_ref ex = {"cl", ver, "fb", w->inv, exe};
  if (w->rc == 0)
    w->rc = mn_client_execution_start(own, &ex, NULL, &err);
  if (w->rc == 0)
    w->rc = mn_client_execution_finish(own, &ex, "SUCCEEDED", "[1, 2]", NULL, NULL, &err);
  mn_client_free(own);
  return NULL;
}

static void on_change(void *ctx, const json_t *info, const struct mn_status_info *st) {
  atomic_fetch_add(&changes, 1);
}

static void test_wait(void **state) {
  struct mn_client_function_ref fb = {"cl", ver, "fb"};
  struct mn_client_error err;
  struct mn_status_info st;
  struct worker_args w = {{0}, -1};
  pthread_t t;
  json_t *out = NULL;

  assert_int_equal(mn_client_invocation_start(c, &fb, "[1]", NULL, &out, &err), 0);
  snprintf(w.inv, sizeof w.inv, "%s", mn_client_json_str(out, "invocation_id"));
  json_decref(out);
  assert_int_equal(pthread_create(&t, NULL, worker, &w), 0);
  int rc = mn_client_invocation_wait(c, &fb, w.inv, 20000, on_change, NULL, &out, &st, &err);
  pthread_join(t, NULL);
  assert_int_equal(w.rc, 0);
  assert_int_equal(rc, 0);
  assert_int_equal(st.status, MN_STATUS_SUCCEEDED);
  assert_string_equal(st.result, "[1, 2]");
  assert_true(atomic_load(&changes) >= 2); /* PENDING first, SUCCEEDED last */
  json_decref(out);

  /* nothing runs it: the deadline passes */
  assert_int_equal(mn_client_invocation_start(c, &fb, "", NULL, &out, &err), 0);
  char id[64];
  snprintf(id, sizeof id, "%s", mn_client_json_str(out, "invocation_id"));
  json_decref(out);
  assert_int_equal(mn_client_invocation_wait(c, &fb, id, 300, NULL, NULL, &out, &st, &err),
                   MN_CLIENT_E_TIMEOUT);
  assert_int_equal(st.status, MN_STATUS_PENDING);
  json_decref(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_health_and_auth), cmocka_unit_test(test_projects),
      cmocka_unit_test(test_versions),        cmocka_unit_test(test_invocations),
      cmocka_unit_test(test_worker_protocol), cmocka_unit_test(test_wait),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
