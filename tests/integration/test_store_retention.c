/* Store: retention pruning of terminated invocations. Leaves go first, a
 * parent only once its children are gone, running ones never. */
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
#include "multinode/common/ids.h"

static struct mn_store *store;

static int setup(void **state) { return mn_testdb_open_store(2, &store); }

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

static long count(const char *table) {
  char sql[96];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  PGconn *pg = PQconnectdb(mn_testdb_dsn());
  PGresult *r = PQexec(pg, sql);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(pg);
  return n;
}

static void invoke(const struct mn_function_key *fk, const char *parent_fn,
                   const char *parent_id, int64_t t, char out[MN_ID_MAX]) {
  struct mn_parent_ref pref = {parent_fn, parent_id};
  struct mn_invocation inv = {0};
  assert_int_equal(mn_store_create_invocation(store, fk, parent_id ? &pref : NULL, "", t, &inv),
                   0);
  snprintf(out, MN_ID_MAX, "%s", inv.invocation_id);
  mn_invocation_release(&inv);
}

static void test_prune(void **state) {
  struct mn_function_spec fs[2] = {
      {.function_name = "f1", .resource_spec = {1, 1, 1}, .execution_spec = {0, 10}},
      {.function_name = "f2", .resource_spec = {1, 1, 1}, .execution_spec = {0, 10}}};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 2};
  struct mn_version v = {0};
  assert_int_equal(mn_store_create_project(store, "ret", 1, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "ret", &def, 1, &v), 0);
  struct mn_function_key f1 = {"ret", v.version_id, "f1"}, f2 = {"ret", v.version_id, "f2"};
  char parent[MN_ID_MAX], child[MN_ID_MAX], lone[MN_ID_MAX], running[MN_ID_MAX],
      p2[MN_ID_MAX], c2[MN_ID_MAX], recent[MN_ID_MAX];
  invoke(&f1, NULL, NULL, 10, parent);
  invoke(&f2, "f1", parent, 11, child);
  invoke(&f1, NULL, NULL, 12, lone);
  invoke(&f1, NULL, NULL, 13, running);       /* old but RUNNING */
  invoke(&f1, NULL, NULL, 14, p2);            /* terminated parent ... */
  invoke(&f2, "f1", p2, 15, c2);              /* ... of a running child */
  invoke(&f1, NULL, NULL, 16, recent);        /* terminated after the cutoff */
  assert_int_equal(mn_store_create_execution(store, &f1, lone, 20, NULL), 0);
  const char *old[] = {parent, lone, p2};
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(mn_store_terminate_invocation(store, &f1, old[i], 100, NULL), 0);
  assert_int_equal(mn_store_terminate_invocation(store, &f2, child, 100, NULL), 0);
  assert_int_equal(mn_store_terminate_invocation(store, &f1, recent, 500, NULL), 0);

  int n = -1;
  assert_int_equal(mn_store_prune_invocations(store, 100, 50, &n), 0);
  assert_int_equal(n, 0); /* strictly older than the cutoff */
  /* first pass: the leaves (child, lone); batches are respected */
  assert_int_equal(mn_store_prune_invocations(store, 200, 1, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(mn_store_prune_invocations(store, 200, 50, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(mn_store_get_invocation(store, &f2, child, NULL), MN_EINVOCATION_NOT_FOUND);
  assert_int_equal(mn_store_get_invocation(store, &f1, lone, NULL), MN_EINVOCATION_NOT_FOUND);
  assert_int_equal(count("executions"), 0); /* lone's execution went with it */
  assert_int_equal(mn_store_get_invocation(store, &f1, parent, NULL), 0);
  /* second pass: the parent, now childless */
  assert_int_equal(mn_store_prune_invocations(store, 200, 50, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(mn_store_get_invocation(store, &f1, parent, NULL), MN_EINVOCATION_NOT_FOUND);
  /* nothing else goes: running, the parent of a running child, the recent */
  for (int pass = 0; pass < 2; pass++) {
    assert_int_equal(mn_store_prune_invocations(store, 200, 50, &n), 0);
    assert_int_equal(n, 0);
  }
  assert_int_equal(mn_store_get_invocation(store, &f1, running, NULL), 0);
  assert_int_equal(mn_store_get_invocation(store, &f1, p2, NULL), 0);
  assert_int_equal(mn_store_get_invocation(store, &f2, c2, NULL), 0);
  assert_int_equal(mn_store_get_invocation(store, &f1, recent, NULL), 0);
  assert_int_equal(count("invocations"), 4);
  assert_int_equal(mn_store_prune_invocations(store, 200, 0, &n), MN_EINVAL);
  mn_version_release(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prune),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
