/* Store: projects (docs/compatibility.md §1.3, §2.4 create/delete/get/list) and the
 * cascading delete the scheduler uses. Real Postgres via MN_TEST_DSN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pg_testdb.h"
#include "store/store.h"
#include "util/clock.h"

static struct mn_store *store;

static int setup(void **state) { return mn_testdb_open_store(4, &store); }

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

/* Rows of `table` that belong to project `name`, counted with plain SQL. */
static long count_rows(const char *table, const char *name) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE project_name = $1", table);
  PGconn *pg = PQconnectdb(mn_testdb_dsn());
  assert_int_equal(PQstatus(pg), CONNECTION_OK);
  const char *params[] = {name};
  PGresult *r = PQexecParams(pg, sql, 1, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(pg);
  return n;
}

static void test_create_get(void **state) {
  struct mn_project p = {0};
  assert_int_equal(mn_store_create_project(store, "proj-a", 1000001, &p), 0);
  assert_string_equal(p.project_name, "proj-a");
  assert_true(p.deletion_request_time == MN_TIME_NULL);
  assert_true(p.creation_time == 1000001);
  mn_project_release(&p);

  assert_int_equal(mn_store_get_project(store, "proj-a", &p), 0);
  assert_string_equal(p.project_name, "proj-a");
  assert_true(p.creation_time == 1000001);
  assert_true(p.deletion_request_time == MN_TIME_NULL);
  mn_project_release(&p);

  assert_int_equal(mn_store_get_project(store, "proj-missing", &p), MN_EPROJECT_NOT_FOUND);
}

static void test_duplicate(void **state) {
  assert_int_equal(mn_store_create_project(store, "proj-dup", 5, NULL), 0);
  struct mn_project p = {0};
  assert_int_equal(mn_store_create_project(store, "proj-dup", 6, &p), MN_EPROJECT_EXISTS);
  assert_null(p.project_name);
  /* still pending deletion: the name stays taken */
  assert_int_equal(mn_store_request_project_deletion(store, "proj-dup", 7, NULL), 0);
  assert_int_equal(mn_store_create_project(store, "proj-dup", 8, NULL), MN_EPROJECT_EXISTS);
}

static void test_list_order(void **state) {
  /* newest first, then name ascending */
  assert_int_equal(mn_store_create_project(store, "list-b", 2000000100, NULL), 0);
  assert_int_equal(mn_store_create_project(store, "list-a", 2000000100, NULL), 0);
  assert_int_equal(mn_store_create_project(store, "list-c", 2000000200, NULL), 0);
  struct mn_project *items = NULL;
  size_t n = 0;
  assert_int_equal(mn_store_list_projects(store, &items, &n), 0);
  const char *seen[3];
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(items[i].project_name, "list-", 5) == 0 && k < 3)
      seen[k++] = items[i].project_name;
  assert_int_equal(k, 3);
  assert_string_equal(seen[0], "list-c");
  assert_string_equal(seen[1], "list-a");
  assert_string_equal(seen[2], "list-b");
  /* globally ordered too */
  for (size_t i = 1; i < n; i++) {
    assert_true(items[i - 1].creation_time >= items[i].creation_time);
    if (items[i - 1].creation_time == items[i].creation_time)
      assert_true(strcmp(items[i - 1].project_name, items[i].project_name) < 0);
  }
  mn_project_list_free(items, n);
}

static void test_request_deletion(void **state) {
  struct mn_project p = {0};
  assert_int_equal(mn_store_create_project(store, "proj-del", 10, NULL), 0);
  assert_int_equal(mn_store_request_project_deletion(store, "proj-del", 20, &p), 0);
  assert_true(p.deletion_request_time == 20);
  assert_true(p.creation_time == 10);
  mn_project_release(&p);
  /* again: overwrites, no error */
  assert_int_equal(mn_store_request_project_deletion(store, "proj-del", 30, &p), 0);
  assert_true(p.deletion_request_time == 30);
  mn_project_release(&p);
  assert_int_equal(mn_store_get_project(store, "proj-del", &p), 0);
  assert_true(p.deletion_request_time == 30);
  mn_project_release(&p);
  assert_int_equal(mn_store_request_project_deletion(store, "proj-nope", 30, &p),
                   MN_EPROJECT_NOT_FOUND);
}

/* A project with a version, two functions, a parent and a child invocation
 * and an execution. */
static void populate(const char *name, char inv_out[64]) {
  struct mn_function_spec fs[2] = {
      {.function_name = "f1", .resource_spec = {1, 2, 3}, .execution_spec = {0, 60}},
      {.function_name = "f2", .resource_spec = {1, 2, 3}, .execution_spec = {0, 60}}};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 2};
  struct mn_version v = {0};
  struct mn_invocation parent = {0}, child = {0};
  assert_int_equal(mn_store_create_project(store, name, 1, NULL), 0);
  assert_int_equal(mn_store_create_version(store, name, &def, 2, &v), 0);
  struct mn_function_key k1 = {name, v.version_id, "f1"}, k2 = {name, v.version_id, "f2"};
  assert_int_equal(mn_store_create_invocation(store, &k1, NULL, "in", 3, &parent), 0);
  struct mn_parent_ref pref = {"f1", parent.invocation_id};
  assert_int_equal(mn_store_create_invocation(store, &k2, &pref, "in2", 4, &child), 0);
  assert_int_equal(mn_store_create_execution(store, &k1, parent.invocation_id, 5, NULL), 0);
  assert_int_equal(mn_store_create_execution(store, &k2, child.invocation_id, 5, NULL), 0);
  snprintf(inv_out, 64, "%s", parent.invocation_id);
  mn_invocation_release(&parent);
  mn_invocation_release(&child);
  mn_version_release(&v);
}

static void test_delete_cascades(void **state) {
  static const char *const tables[] = {"project_versions", "functions", "invocations",
                                       "executions"};
  char inv_a[64], inv_b[64];
  populate("casc-a", inv_a);
  populate("casc-b", inv_b);
  for (size_t i = 0; i < 4; i++)
    assert_true(count_rows(tables[i], "casc-a") > 0);

  assert_int_equal(mn_store_delete_project(store, "casc-a"), 0);
  assert_int_equal(mn_store_get_project(store, "casc-a", NULL), MN_EPROJECT_NOT_FOUND);
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(count_rows(tables[i], "casc-a"), 0);

  /* the other project is untouched */
  assert_int_equal(count_rows("project_versions", "casc-b"), 1);
  assert_int_equal(count_rows("functions", "casc-b"), 2);
  assert_int_equal(count_rows("invocations", "casc-b"), 2);
  assert_int_equal(count_rows("executions", "casc-b"), 2);
  struct mn_function_key kb = {"casc-b", "latest", "f1"};
  struct mn_invocation inv = {0};
  assert_int_equal(mn_store_get_invocation(store, &kb, inv_b, &inv), 0);
  assert_int_equal(inv.n_executions, 1);
  mn_invocation_release(&inv);
}

static void test_delete_missing(void **state) {
  assert_int_equal(mn_store_delete_project(store, "never-was"), MN_EPROJECT_NOT_FOUND);
  assert_int_equal(mn_store_create_project(store, "twice", 1, NULL), 0);
  assert_int_equal(mn_store_delete_project(store, "twice"), 0);
  assert_int_equal(mn_store_delete_project(store, "twice"), MN_EPROJECT_NOT_FOUND);
  /* the name is free again */
  assert_int_equal(mn_store_create_project(store, "twice", 2, NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_get),       cmocka_unit_test(test_duplicate),
      cmocka_unit_test(test_list_order),       cmocka_unit_test(test_request_deletion),
      cmocka_unit_test(test_delete_cascades),  cmocka_unit_test(test_delete_missing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
