/* Store: versions and functions (docs/compatibility.md §1.4-1.5, §2.3 "latest"):
 * creation in one transaction, read back, list order, existence errors,
 * the project-being-deleted rule, the function-state transitions. */
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

static int setup(void **state) { return mn_testdb_open_store(2, &store); }

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

static struct mn_function_spec spec(const char *name, double cpus, double mem, int conc,
                                    int retries, int timeout) {
  return (struct mn_function_spec){.function_name = (char *)name,
                                   .resource_spec = {cpus, mem, conc},
                                   .execution_spec = {retries, timeout}};
}

static void test_create_and_get(void **state) {
  struct mn_function_spec fs[3] = {spec("zeta", 0.25, 0.5, 1, 0, 1),
                                   spec("alpha", 16, 64, 100, 50, 86400),
                                   spec("Mid", 1.5, 3.75, 7, 3, 90)};
  fs[1].docker_image_override = "custom:1";
  fs[2].command = json_pack("[ss]", "sh", "-c");
  fs[2].env = json_pack("{ss}", "A", "b c");
  fs[2].provider = "docker";
  struct mn_version_definition def = {.default_docker_image = "default:img",
                                      .functions = fs, .n_functions = 3};
  struct mn_version v = {0}, g = {0};
  assert_int_equal(mn_store_create_project(store, "v-proj", 1, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "v-proj", &def, 1234567, &v), 0);
  assert_true(mn_id_valid("ver-", v.version_id));
  assert_string_equal(v.project_name, "v-proj");
  assert_true(v.creation_time == 1234567);
  assert_int_equal(v.n_functions, 3);

  assert_int_equal(mn_store_get_version(store, "v-proj", v.version_id, &g), 0);
  assert_string_equal(g.version_id, v.version_id);
  assert_true(g.creation_time == 1234567);
  assert_int_equal(g.n_functions, 3);
  /* both in name order (byte order), with the same content */
  const char *order[] = {"Mid", "alpha", "zeta"};
  for (size_t i = 0; i < 3; i++) {
    const struct mn_function *a = &v.functions[i], *b = &g.functions[i];
    assert_string_equal(a->function_name, order[i]);
    assert_string_equal(b->function_name, order[i]);
    assert_string_equal(b->project_name, "v-proj");
    assert_string_equal(b->version_id, v.version_id);
    assert_string_equal(a->docker_image, b->docker_image);
    assert_true(a->resource_spec.virtual_cpus == b->resource_spec.virtual_cpus);
    assert_true(a->resource_spec.memory_gbs == b->resource_spec.memory_gbs);
    assert_int_equal(a->resource_spec.max_concurrency, b->resource_spec.max_concurrency);
    assert_int_equal(a->execution_spec.max_retries, b->execution_spec.max_retries);
    assert_int_equal(a->execution_spec.timeout_seconds, b->execution_spec.timeout_seconds);
    assert_int_equal(b->function_status, MN_FUNCTION_PENDING);
    assert_null(b->prepared_function_details);
    assert_null(b->preparation_error);
  }
  assert_string_equal(g.functions[1].docker_image, "custom:1");
  assert_string_equal(g.functions[2].docker_image, "default:img");
  assert_true(g.functions[1].resource_spec.virtual_cpus == 16.0);
  assert_true(g.functions[2].resource_spec.memory_gbs == 0.5);
  assert_true(g.functions[0].resource_spec.memory_gbs == 3.75);
  assert_true(json_equal(g.functions[0].command, fs[2].command));
  assert_true(json_equal(g.functions[0].env, fs[2].env));
  assert_string_equal(g.functions[0].provider, "docker");
  assert_null(g.functions[1].command);
  assert_null(g.functions[1].env);
  assert_null(g.functions[1].provider);
  json_decref(fs[2].command);
  json_decref(fs[2].env);
  mn_version_release(&v);
  mn_version_release(&g);
}

static void test_empty_version(void **state) {
  struct mn_version_definition def = {.default_docker_image = "img"};
  struct mn_version v = {0}, g = {0};
  assert_int_equal(mn_store_create_project(store, "v-empty", 1, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "v-empty", &def, 5, &v), 0);
  assert_int_equal(v.n_functions, 0);
  assert_int_equal(mn_store_get_version(store, "v-empty", "LATEST", &g), 0);
  assert_string_equal(g.version_id, v.version_id);
  assert_int_equal(g.n_functions, 0);
  mn_version_release(&v);
  mn_version_release(&g);
}

static void test_latest_and_list(void **state) {
  struct mn_function_spec fs[1] = {spec("f", 1, 1, 1, 0, 10)};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 1};
  struct mn_version v1 = {0}, v2 = {0}, v3 = {0}, g = {0};
  assert_int_equal(mn_store_create_project(store, "v-latest", 1, NULL), 0);
  assert_int_equal(mn_store_get_version(store, "v-latest", "latest", &g),
                   MN_EVERSION_NOT_FOUND);
  /* v1 and v3 within the same microsecond: the id breaks the tie */
  assert_int_equal(mn_store_create_version(store, "v-latest", &def, 100, &v1), 0);
  assert_int_equal(mn_store_create_version(store, "v-latest", &def, 50, &v2), 0);
  assert_int_equal(mn_store_create_version(store, "v-latest", &def, 100, &v3), 0);
  const char *first = strcmp(v1.version_id, v3.version_id) < 0 ? v1.version_id : v3.version_id;
  const char *second = first == v1.version_id ? v3.version_id : v1.version_id;

  const char *refs[] = {"latest", "Latest", "LATEST"};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(mn_store_get_version(store, "v-latest", refs[i], &g), 0);
    assert_string_equal(g.version_id, first);
    mn_version_release(&g);
  }
  assert_int_equal(mn_store_get_version(store, "v-latest", v2.version_id, &g), 0);
  assert_true(g.creation_time == 50);
  mn_version_release(&g);

  struct mn_version_brief *items = NULL;
  size_t n = 0;
  assert_int_equal(mn_store_list_versions(store, "v-latest", &items, &n), 0);
  assert_int_equal(n, 3);
  assert_string_equal(items[0].version_id, first);
  assert_string_equal(items[1].version_id, second);
  assert_string_equal(items[2].version_id, v2.version_id);
  assert_true(items[2].creation_time == 50);
  mn_version_brief_list_free(items, n);

  assert_int_equal(mn_store_create_project(store, "v-none", 1, NULL), 0);
  assert_int_equal(mn_store_list_versions(store, "v-none", &items, &n), 0);
  assert_int_equal(n, 0);
  mn_version_brief_list_free(items, n);
  mn_version_release(&v1);
  mn_version_release(&v2);
  mn_version_release(&v3);
}

static void test_missing(void **state) {
  struct mn_version_definition def = {.default_docker_image = "img"};
  struct mn_version v = {0};
  struct mn_version_brief *items = NULL;
  size_t n = 0;
  assert_int_equal(mn_store_create_version(store, "nope", &def, 1, &v), MN_EPROJECT_NOT_FOUND);
  assert_int_equal(mn_store_get_version(store, "nope", "latest", &v), MN_EPROJECT_NOT_FOUND);
  assert_int_equal(mn_store_get_version(store, "nope", "ver-x", &v), MN_EPROJECT_NOT_FOUND);
  assert_int_equal(mn_store_list_versions(store, "nope", &items, &n), MN_EPROJECT_NOT_FOUND);
  assert_int_equal(mn_store_create_project(store, "v-miss", 1, NULL), 0);
  assert_int_equal(mn_store_get_version(store, "v-miss", "ver-0123", &v),
                   MN_EVERSION_NOT_FOUND);
  assert_null(v.version_id);
}

static void test_being_deleted(void **state) {
  struct mn_version_definition def = {.default_docker_image = "img"};
  struct mn_version_brief *items = NULL;
  size_t n = 0;
  assert_int_equal(mn_store_create_project(store, "v-del", 1, NULL), 0);
  assert_int_equal(mn_store_request_project_deletion(store, "v-del", 2, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "v-del", &def, 3, NULL),
                   MN_EPROJECT_BEING_DELETED);
  assert_int_equal(mn_store_list_versions(store, "v-del", &items, &n), 0);
  assert_int_equal(n, 0);
  free(items);
}

/* A definition that fails in the middle (the second function clashes with
 * the first) leaves nothing behind: no version, no functions. */
static void test_atomic(void **state) {
  struct mn_function_spec fs[3] = {spec("a", 1, 1, 1, 0, 10), spec("b", 1, 1, 1, 0, 10),
                                   spec("a", 1, 1, 1, 0, 10)};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 3};
  struct mn_version v = {0};
  struct mn_version_brief *items = NULL;
  size_t n = 0;
  assert_int_equal(mn_store_create_project(store, "v-atomic", 1, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "v-atomic", &def, 2, &v),
                   MN_EFUNCTION_EXISTS);
  assert_null(v.version_id);
  assert_int_equal(mn_store_list_versions(store, "v-atomic", &items, &n), 0);
  assert_int_equal(n, 0);
  free(items);
  assert_int_equal(mn_store_get_version(store, "v-atomic", "latest", &v),
                   MN_EVERSION_NOT_FOUND);
  /* a good definition still works afterwards */
  def.n_functions = 2;
  assert_int_equal(mn_store_create_version(store, "v-atomic", &def, 3, &v), 0);
  mn_version_release(&v);
}

static void test_function_states(void **state) {
  struct mn_function_spec fs[1] = {spec("prep", 1, 1, 1, 0, 10)};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 1};
  struct mn_version v = {0};
  bool applied = false;
  assert_int_equal(mn_store_create_project(store, "v-prep", 1, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "v-prep", &def, 2, &v), 0);
  char vid[MN_ID_MAX];
  snprintf(vid, sizeof vid, "%s", v.version_id);
  struct mn_function_key fk = {"v-prep", vid, "prep"};
  struct mn_function_key missing = {"v-prep", vid, "other"};
  assert_int_equal(mn_store_set_function_preparation_error(store, &fk, "bad image"), 0);
  assert_int_equal(mn_store_set_function_preparation_error(store, &missing, "x"),
                   MN_EFUNCTION_NOT_FOUND);
  mn_version_release(&v);
  assert_int_equal(mn_store_get_version(store, "v-prep", "latest", &v), 0);
  assert_string_equal(v.functions[0].preparation_error, "bad image");
  assert_int_equal(v.functions[0].function_status, MN_FUNCTION_PENDING);
  mn_version_release(&v);

  json_t *details = json_pack("{ss ss}", "type", "TEST", "identifier", "td-1");
  assert_int_equal(mn_store_set_function_ready(store, &fk, details, &applied), 0);
  assert_true(applied);
  assert_int_equal(mn_store_set_function_ready(store, &fk, details, &applied), 0);
  assert_false(applied);
  assert_int_equal(mn_store_get_version(store, "v-prep", "latest", &v), 0);
  assert_int_equal(v.functions[0].function_status, MN_FUNCTION_READY);
  assert_true(json_equal(v.functions[0].prepared_function_details, details));
  assert_null(v.functions[0].preparation_error);
  json_decref(details);
  mn_version_release(&v);
  assert_int_equal(mn_store_set_function_ready(store, &missing, NULL, &applied),
                   MN_EFUNCTION_NOT_FOUND);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_and_get), cmocka_unit_test(test_empty_version),
      cmocka_unit_test(test_latest_and_list), cmocka_unit_test(test_missing),
      cmocka_unit_test(test_being_deleted),  cmocka_unit_test(test_atomic),
      cmocka_unit_test(test_function_states),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
