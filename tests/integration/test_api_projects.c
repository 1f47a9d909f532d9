/* Projects and versions over HTTP: success paths, every documented error,
 * "latest" resolution and version-definition validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/clock.h"
#include "api_assert.h"
#include "api_fixture.h"
#include "multinode/common/ids.h"

static struct api_fixture fx;

static int setup(void **state) { return api_fixture_start(&fx, "projects", NULL); }
static int teardown(void **state) {
  api_fixture_stop(&fx);
  return 0;
}

static void test_create_get_project(void **state) {
  long long before = mn_us_to_s(mn_now_us());
  json_t *p = api_expect(&fx, "PUT", "/projects/alpha", NULL, 200);
  assert_string_equal(api_str(p, "project_name"), "alpha");
  assert_true(json_is_null(json_object_get(p, "deletion_request_time")));
  long long created = json_integer_value(json_object_get(p, "creation_time"));
  assert_true(created >= before && created <= mn_us_to_s(mn_now_us()));
  json_decref(p);
  p = api_expect(&fx, "GET", "/projects/alpha", NULL, 200);
  assert_string_equal(api_str(p, "project_name"), "alpha");
  assert_int_equal(json_integer_value(json_object_get(p, "creation_time")), created);
  json_decref(p);
  api_expect_detail(&fx, "PUT", "/projects/alpha", NULL, 409,
                    "A project with this name already exists.");
  api_expect_detail(&fx, "GET", "/projects/beta-missing", NULL, 404,
                    "A project with this name does not exist");
}

static void test_project_name_length(void **state) {
  char name[512], path[600];
  memset(name, 'n', 64);
  name[64] = '\0';
  snprintf(path, sizeof path, "/projects/%s", name);
  json_decref(api_expect(&fx, "PUT", path, NULL, 200));
  snprintf(path, sizeof path, "/projects/%sX", name);
  api_expect_detail(&fx, "PUT", path, NULL, 400, "The project name is too long");
  /* counted in characters: 64 two-byte characters are fine, 65 are not */
  size_t o = 0;
  for (int i = 0; i < 64; i++)
    o += (size_t)snprintf(name + o, sizeof name - o, "%%C3%%A9");
  snprintf(path, sizeof path, "/projects/%s", name);
  json_t *p = api_expect(&fx, "PUT", path, NULL, 200);
  assert_int_equal(strlen(api_str(p, "project_name")), 128);
  json_decref(p);
  snprintf(path, sizeof path, "/projects/%s%%C3%%A9", name);
  api_expect_detail(&fx, "PUT", path, NULL, 400, "The project name is too long");
  /* not UTF-8 at all */
  const char *m = api_expect_422(&fx, "PUT", "/projects/bad%FFname", NULL);
  assert_string_equal(m, "path.project_name: string is not valid UTF-8");
}

static void test_list_projects_newest_first(void **state) {
  api_make_project(&fx, "list-b");
  api_make_project(&fx, "list-a");
  api_make_project(&fx, "list-c");
  json_t *l = api_expect(&fx, "GET", "/projects", NULL, 200);
  json_t *items = json_object_get(l, "projects");
  assert_true(json_array_size(items) >= 3);
  /* creation_time_us descending, then name ascending */
  for (size_t i = 1; i < json_array_size(items); i++) {
    json_t *a = json_array_get(items, i - 1), *b = json_array_get(items, i);
    long long ta = json_integer_value(json_object_get(a, "creation_time_us"));
    long long tb = json_integer_value(json_object_get(b, "creation_time_us"));
    assert_true(ta > tb || (ta == tb && strcmp(api_str(a, "project_name"),
                                               api_str(b, "project_name")) < 0));
  }
  assert_string_equal(api_str(json_array_get(items, 0), "project_name"), "list-c");
  assert_string_equal(api_str(json_array_get(items, 1), "project_name"), "list-a");
  assert_string_equal(api_str(json_array_get(items, 2), "project_name"), "list-b");
  json_decref(l);
}

static void test_delete_project(void **state) {
  api_make_project(&fx, "doomed");
  char *v = api_make_version(&fx, "doomed");
  json_t *p = api_expect(&fx, "DELETE", "/projects/doomed", NULL, 200);
  long long t1 = json_integer_value(json_object_get(p, "deletion_request_time_us"));
  assert_true(t1 > 0);
  json_decref(p);
  /* again: no error, the time moves */
  p = api_expect(&fx, "DELETE", "/projects/doomed", NULL, 200);
  assert_true(json_integer_value(json_object_get(p, "deletion_request_time_us")) > t1);
  json_decref(p);
  p = api_expect(&fx, "GET", "/projects/doomed", NULL, 200);
  assert_false(json_is_null(json_object_get(p, "deletion_request_time")));
  json_decref(p);
  api_expect_detail(&fx, "DELETE", "/projects/never-was", NULL, 404,
                    "A project with this name does not exist");
  /* no new version, no new project under the name; invocations still work */
  api_expect_detail(&fx, "POST", "/projects/doomed/versions",
                    "{\"default_docker_image\":\"i\",\"functions\":[]}", 400,
                    "The project is being deleted");
  api_expect_detail(&fx, "PUT", "/projects/doomed", NULL, 409,
                    "A project with this name already exists.");
  free(api_make_invocation(&fx, "doomed", v, "fa", NULL, NULL));
  free(v);
}

static void test_create_version(void **state) {
  api_make_project(&fx, "vers");
  long long before = mn_us_to_s(mn_now_us());
  char *id = api_make_version(&fx, "vers");
  assert_true(mn_id_valid("ver-", id));
  json_t *v = api_expect(&fx, "GET", api_fmt("/projects/vers/versions/%s", id), NULL, 200);
  assert_string_equal(api_str(v, "project_name"), "vers");
  assert_string_equal(api_str(v, "version_id"), id);
  assert_true(json_integer_value(json_object_get(v, "creation_time")) >= before);
  json_t *fns = json_object_get(v, "functions");
  assert_int_equal(json_array_size(fns), 2);
  size_t i;
  json_t *f;
  json_array_foreach(fns, i, f) {
    assert_string_equal(api_str(f, "function_status"), "PENDING");
    assert_true(json_is_null(json_object_get(f, "prepared_function_details")));
    const char *name = api_str(f, "function_name");
    const char *image = api_str(f, "docker_image");
    json_t *rs = json_object_get(f, "resource_spec"), *es = json_object_get(f, "execution_spec");
    if (strcmp(name, "fa") == 0) {
      assert_string_equal(image, "img:1"); /* the default */
      assert_true(json_real_value(json_object_get(rs, "virtual_cpus")) == 0.25);
      assert_int_equal(json_integer_value(json_object_get(rs, "max_concurrency")), 2);
      assert_int_equal(json_integer_value(json_object_get(es, "timeout_seconds")), 30);
    } else {
      assert_string_equal(name, "fb");
      assert_string_equal(image, "other:2"); /* the override */
      assert_int_equal(json_integer_value(json_object_get(es, "max_retries")), 2);
    }
  }
  json_decref(v);
  /* an empty list of functions is accepted */
  v = api_expect(&fx, "POST", "/projects/vers/versions",
                 "{\"default_docker_image\":\"i\",\"functions\":[]}", 200);
  assert_int_equal(json_array_size(json_object_get(v, "functions")), 0);
  json_decref(v);
  free(id);
}

static void test_latest_and_lists(void **state) {
  api_make_project(&fx, "lat");
  api_expect_detail(&fx, "GET", "/projects/lat/versions/latest", NULL, 404,
                    "A version with this ID does not exist for this project");
  char *ids[3];
  for (int i = 0; i < 3; i++)
    ids[i] = api_make_version(&fx, "lat");
  const char *spellings[] = {"latest", "LATEST", "LaTeSt"};
  for (int i = 0; i < 3; i++) {
    json_t *v =
        api_expect(&fx, "GET", api_fmt("/projects/lat/versions/%s", spellings[i]), NULL, 200);
    assert_string_equal(api_str(v, "version_id"), ids[2]);
    json_decref(v);
  }
  json_t *l = api_expect(&fx, "GET", "/projects/lat/versions", NULL, 200);
  assert_string_equal(api_str(l, "project_name"), "lat");
  json_t *vs = json_object_get(l, "versions");
  assert_int_equal(json_array_size(vs), 3);
  for (int i = 0; i < 3; i++)
    assert_string_equal(api_str(json_array_get(vs, (size_t)i), "version_id"), ids[2 - i]);
  json_decref(l);
  api_expect_detail(&fx, "GET", "/projects/lat/versions/ver-0000", NULL, 404,
                    "A version with this ID does not exist for this project");
  api_expect_detail(&fx, "GET", "/projects/nope/versions/latest", NULL, 404,
                    "A project with this name does not exist");
  api_expect_detail(&fx, "GET", "/projects/nope/versions", NULL, 404,
                    "A project with this name does not exist");
  api_expect_detail(&fx, "POST", "/projects/nope/versions",
                    "{\"default_docker_image\":\"i\",\"functions\":[]}", 404,
                    "A project with this name does not exist");
  for (int i = 0; i < 3; i++)
    free(ids[i]);
}

/* A one-function version body with the given resource and execution specs. */
static const char *body_with(const char *resources, const char *execution) {
  return api_fmt("{\"default_docker_image\":\"i\",\"functions\":[{\"function_name\":\"f\","
                 "\"resource_spec\":%s,\"execution_spec\":%s}]}",
                 resources, execution);
}

#define RS_OK "{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":1}"
#define ES_OK "{\"max_retries\":0,\"timeout_seconds\":1}"

static void expect_invalid(const char *body, const char *loc_prefix) {
  const char *m = api_expect_422(&fx, "POST", "/projects/valid/versions", body);
  if (strncmp(m, loc_prefix, strlen(loc_prefix)) != 0)
    fail_msg("422 \"%s\" does not start with \"%s\"", m, loc_prefix);
}

static void test_version_validation(void **state) {
  api_make_project(&fx, "valid");
  const char *rs = "body.functions.0.resource_spec.";
  const char *es = "body.functions.0.execution_spec.";
  char loc[128];
  /* the bounds are inclusive where the original's are */
  json_decref(api_expect(&fx, "POST", "/projects/valid/versions",
                         body_with("{\"virtual_cpus\":16,\"memory_gbs\":64,\"max_concurrency\":100}",
                                   "{\"max_retries\":50,\"timeout_seconds\":86400}"),
                         200));
  struct {
    const char *resources, *execution, *field;
  } cases[] = {
      {"{\"virtual_cpus\":0,\"memory_gbs\":1,\"max_concurrency\":1}", ES_OK, "virtual_cpus"},
      {"{\"virtual_cpus\":16.5,\"memory_gbs\":1,\"max_concurrency\":1}", ES_OK, "virtual_cpus"},
      {"{\"virtual_cpus\":\"a\",\"memory_gbs\":1,\"max_concurrency\":1}", ES_OK, "virtual_cpus"},
      {"{\"virtual_cpus\":1,\"memory_gbs\":64.1,\"max_concurrency\":1}", ES_OK, "memory_gbs"},
      {"{\"virtual_cpus\":1,\"memory_gbs\":-1,\"max_concurrency\":1}", ES_OK, "memory_gbs"},
      {"{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":0}", ES_OK, "max_concurrency"},
      {"{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":101}", ES_OK, "max_concurrency"},
      {"{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":1.5}", ES_OK, "max_concurrency"},
      {"{\"virtual_cpus\":1,\"memory_gbs\":1}", ES_OK, "max_concurrency"},
      {RS_OK, "{\"max_retries\":-1,\"timeout_seconds\":1}", "max_retries"},
      {RS_OK, "{\"max_retries\":51,\"timeout_seconds\":1}", "max_retries"},
      {RS_OK, "{\"max_retries\":0,\"timeout_seconds\":0}", "timeout_seconds"},
      {RS_OK, "{\"max_retries\":0,\"timeout_seconds\":86401}", "timeout_seconds"},
      {RS_OK, "{\"max_retries\":0,\"timeout_seconds\":\"1\"}", "timeout_seconds"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(loc, sizeof loc, "%s%s: ", strstr(cases[i].field, "_seconds") ||
                                                strstr(cases[i].field, "retries")
                                            ? es
                                            : rs,
             cases[i].field);
    expect_invalid(body_with(cases[i].resources, cases[i].execution), loc);
  }
  expect_invalid("{\"functions\":[]}", "body.default_docker_image: field required");
  expect_invalid("{\"default_docker_image\":5,\"functions\":[]}", "body.default_docker_image: ");
  expect_invalid("{\"default_docker_image\":\"i\",\"functions\":{}}", "body.functions: ");
  expect_invalid("{\"default_docker_image\":\"i\",\"functions\":[5]}", "body.functions.0: ");
  /* duplicate function names */
  expect_invalid(api_fmt("{\"default_docker_image\":\"i\",\"functions\":["
                         "{\"function_name\":\"f\",\"resource_spec\":%s,\"execution_spec\":%s},"
                         "{\"function_name\":\"g\",\"resource_spec\":%s,\"execution_spec\":%s},"
                         "{\"function_name\":\"f\",\"resource_spec\":%s,\"execution_spec\":%s}]}",
                         RS_OK, ES_OK, RS_OK, ES_OK, RS_OK, ES_OK),
                 "body.functions.2.function_name: function_name values must be distinct");
  /* lengths: function_name and images are refused from 1024 characters */
  char *long_name = malloc(1100);
  memset(long_name, 'f', 1024);
  long_name[1024] = '\0';
  expect_invalid(api_fmt("{\"default_docker_image\":\"i\",\"functions\":[{\"function_name\":\"%s\","
                         "\"resource_spec\":%s,\"execution_spec\":%s}]}",
                         long_name, RS_OK, ES_OK),
                 "body.functions.0.function_name: ");
  expect_invalid(api_fmt("{\"default_docker_image\":\"%s\",\"functions\":[]}", long_name),
                 "body.default_docker_image: ");
  long_name[1023] = '\0';
  json_decref(api_expect(&fx, "POST", "/projects/valid/versions",
                         api_fmt("{\"default_docker_image\":\"%s\",\"functions\":[]}", long_name),
                         200));
  free(long_name);
  expect_invalid("null", "body: ");
  expect_invalid("[]", "body: value is not a valid dict");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_get_project),
      cmocka_unit_test(test_project_name_length),
      cmocka_unit_test(test_list_projects_newest_first),
      cmocka_unit_test(test_delete_project),
      cmocka_unit_test(test_create_version),
      cmocka_unit_test(test_latest_and_lists),
      cmocka_unit_test(test_version_validation),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
