/* Store: the schema. Migrations are applied once under the advisory lock
 * even when several daemons open a fresh database at the same moment;
 * reopening is a no-op; bad connection strings fail cleanly. */
#include <pthread.h>
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
#include "store/migrations.h"
#include "store/store.h"

enum { N_THREADS = 4 };

struct opener {
  const char *dsn;
  pthread_barrier_t *barrier;
  struct mn_store *store;
  int rc;
  struct mn_error err;
};

static void *open_store(void *p) {
  struct opener *o = p;
  struct mn_store_options opt = {.dsn = o->dsn, .pool_size = 1};
  pthread_barrier_wait(o->barrier);
  o->rc = mn_store_open(&opt, &o->store, &o->err);
  return NULL;
}

static PGresult *query(const char *dsn, const char *sql) {
  PGconn *pg = PQconnectdb(dsn);
  assert_int_equal(PQstatus(pg), CONNECTION_OK);
  PGresult *r = PQexec(pg, sql);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  PQfinish(pg);
  return r;
}

static void test_concurrent_open(void **state) {
  int n_migrations;
  const struct mn_migration *m = mn_migrations(&n_migrations);
  assert_true(n_migrations >= 1);
  for (int round = 0; round < 3; round++) {
    char dsn[2048];
    assert_int_equal(mn_testdb_create(dsn, sizeof dsn), 0);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N_THREADS);
    struct opener o[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
      o[i] = (struct opener){.dsn = dsn, .barrier = &barrier};
      assert_int_equal(pthread_create(&th[i], NULL, open_store, &o[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
      pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < N_THREADS; i++) {
      if (o[i].rc != 0)
        fprintf(stderr, "open %d: %s\n", i, o[i].err.msg);
      assert_int_equal(o[i].rc, 0);
      int version = 0;
      assert_int_equal(mn_store_schema_version(o[i].store, &version), 0);
      assert_int_equal(version, m[n_migrations - 1].number);
    }
    /* every migration recorded exactly once, in order */
    PGresult *r = query(dsn, "SELECT number, name FROM schema_migrations ORDER BY number");
    assert_int_equal(PQntuples(r), n_migrations);
    for (int i = 0; i < n_migrations; i++) {
      assert_int_equal(atoi(PQgetvalue(r, i, 0)), m[i].number);
      assert_string_equal(PQgetvalue(r, i, 1), m[i].name);
    }
    PQclear(r);
    /* all stores work on the one schema */
    for (int i = 0; i < N_THREADS; i++) {
      char name[32];
      snprintf(name, sizeof name, "p%d", i);
      assert_int_equal(mn_store_create_project(o[i].store, name, i, NULL), 0);
      mn_store_free(o[i].store);
    }
  }
}

static void test_reopen(void **state) {
  char dsn[2048];
  assert_int_equal(mn_testdb_create(dsn, sizeof dsn), 0);
  struct mn_store_options opt = {.dsn = dsn};
  for (int i = 0; i < 3; i++) {
    struct mn_store *s = NULL;
    assert_int_equal(mn_store_open(&opt, &s, NULL), 0);
    if (i == 0)
      assert_int_equal(mn_store_create_project(s, "kept", 1, NULL), 0);
    assert_int_equal(mn_store_get_project(s, "kept", NULL), 0);
    mn_store_free(s);
  }
  PGresult *r = query(dsn, "SELECT count(*) FROM schema_migrations");
  int n_migrations;
  mn_migrations(&n_migrations);
  assert_int_equal(atoi(PQgetvalue(r, 0, 0)), n_migrations);
  PQclear(r);
}

/* The indexes the hot queries and the scheduler rely on are there. */
static void test_indexes(void **state) {
  static const char *const wanted[] = {
      "project_versions_by_creation", "invocations_by_function", "invocations_by_parent",
      "invocations_running",          "executions_active",       "functions_pending",
      "invocations_terminated",       "executions_by_id"};
  struct mn_store *s = NULL;
  assert_int_equal(mn_testdb_open_store(0, &s), 0); /* 0: the default pool */
  PGresult *r = query(mn_testdb_dsn(), "SELECT indexname, indexdef FROM pg_indexes"
                                       " WHERE schemaname = 'public'");
  for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
    bool found = false;
    for (int k = 0; k < PQntuples(r); k++)
      if (strcmp(PQgetvalue(r, k, 0), wanted[i]) == 0)
        found = true;
    if (!found)
      fprintf(stderr, "missing index %s\n", wanted[i]);
    assert_true(found);
  }
  for (int k = 0; k < PQntuples(r); k++) {
    if (strcmp(PQgetvalue(r, k, 0), "invocations_running") == 0)
      assert_non_null(strstr(PQgetvalue(r, k, 1), "WHERE (invocation_status = 'RUNNING'"));
    if (strcmp(PQgetvalue(r, k, 0), "executions_active") == 0)
      assert_non_null(strstr(PQgetvalue(r, k, 1), "WHERE (worker_status <> 'TERMINATED'"));
  }
  PQclear(r);
  mn_store_free(s);
}

static void test_bad_dsn(void **state) {
  struct mn_store *s = NULL;
  struct mn_error err = {0};
  struct mn_store_options empty = {.dsn = ""};
  assert_int_equal(mn_store_open(&empty, &s, &err), MN_EINVAL);
  struct mn_store_options nowhere = {
      .dsn = "host=/nonexistent/socket/dir port=5499 dbname=x user=postgres",
      .connect_timeout_s = 2};
  assert_int_equal(mn_store_open(&nowhere, &s, &err), MN_EUNAVAILABLE);
  assert_non_null(strstr(err.msg, "cannot connect to postgres"));
  assert_null(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_open),
      cmocka_unit_test(test_reopen),
      cmocka_unit_test(test_indexes),
      cmocka_unit_test(test_bad_dsn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
