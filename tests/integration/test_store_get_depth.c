/* GET invocation by key reads the same few rows however long the queue of
 * its function is (issue 12: "GET invocation p50 <= 1.2x its empty-queue
 * value" with 100,000 queued).
 *
 * The invocation read is an invocation of `q` whose parent (joined) is
 * also one of q's, with one attempt, while q's queue grows from 4 to
 * 20,000. The statement runs as the daemon runs it: prepared, with the
 * generic plan Postgres caches after five executions. At each stage EXPLAIN (ANALYZE, BUFFERS) of the
 * very statement counts the rows it examines (rows scanned, and those a
 * filter or join filter dropped) and the buffers it touches:
 *   1. 4 queued, the table never analyzed (a young database);
 *   2. 20,000 queued, the plan of stage 1 still cached (no ANALYZE since:
 *      autovacuum comes later), which a pooled session runs meanwhile;
 *   3. 20,000 queued, after ANALYZE, a fresh generic plan;
 *   4. the same with a custom plan.
 * Every stage examines at most MAX_ROWS_EXAMINED rows (6 here: the version
 * once, the project, the function, the invocation, its parent, its attempt),
 * and the buffers grow by an index level at most. With the parent as a
 * plain LEFT JOIN (before MN_SQL_PARENT_JOIN, store/sql.h) stage 1 read 16
 * rows and stage 2 40,008 rows and 1,006 buffers: the plan of the small
 * table reached the parent by scanning the version's invocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "pg_sql.h"
#include "pg_testdb.h"
#include "store/sql.h"
#include "store/store.h"
#include "multinode/common/ids.h"

/* at most: projects, functions, the invocation, its parent, its attempt,
 * the version (twice: by id or latest) */
#define MAX_ROWS_EXAMINED 8

static struct mn_store *store;
static PGconn *pg;
static char vid[MN_ID_MAX], parent_id[MN_ID_MAX], child_id[MN_ID_MAX];

static int setup(void **state) {
  (void)state;
  if (mn_test_open(2, &store, &pg) < 0)
    return -1;
  struct mn_function_spec fs[1] = {
      {.function_name = "q", .resource_spec = {1, 1, 4}, .execution_spec = {0, 3600}}};
  if (mn_testdb_project_version(store, "gp", fs, 1, vid) < 0)
    return -1;
  struct mn_function_key fk = {"gp", vid, "q"};
  struct mn_invocation parent = {0}, child = {0};
  struct mn_execution e = {0};
  int rc = mn_store_create_invocation(store, &fk, NULL, "p", 1, &parent);
  struct mn_parent_ref ref = {"q", parent.invocation_id};
  if (rc == 0)
    rc = mn_store_create_invocation(store, &fk, &ref, "c", 2, &child);
  if (rc == 0) {
    snprintf(parent_id, sizeof parent_id, "%s", parent.invocation_id);
    snprintf(child_id, sizeof child_id, "%s", child.invocation_id);
    rc = mn_store_create_execution(store, &fk, child_id, 3, &e);
  }
  mn_invocation_release(&parent);
  mn_invocation_release(&child);
  mn_execution_release(&e);
  return rc < 0 ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  mn_test_close(store, pg);
  return 0;
}

/* n more queued invocations of q, as the API's INSERT writes them */
static void enqueue(int n, long long base) {
  mn_test_enqueue(pg, "gp", vid, "q", n, base);
}

/* Rows a plan node and those below it examined: what each scan returned or
 * dropped by its filter, per loop, and what each join filter dropped. */
static long long rows_examined(const json_t *node) {
  long long loops = json_integer_value(json_object_get(node, "Actual Loops"));
  long long n = json_integer_value(json_object_get(node, "Rows Removed by Join Filter"));
  const char *type = json_string_value(json_object_get(node, "Node Type"));
  if (type && strstr(type, "Scan") && !strstr(type, "CTE") && !strstr(type, "Subquery"))
    n += (long long)(json_number_value(json_object_get(node, "Actual Rows")) * (double)loops) +
         json_integer_value(json_object_get(node, "Rows Removed by Filter"));
  size_t i;
  json_t *child;
  json_array_foreach(json_object_get(node, "Plans"), i, child) n += rows_examined(child);
  return n;
}

struct cost {
  long long rows, buffers;
};

/* EXPLAIN ANALYZE of prepared statement g on the GET's parameters (and of
 * the version "latest"), the plan printed when print. */
static struct cost explain_get(const char *version, bool print) {
  char q[512];
  snprintf(q, sizeof q,
           "EXPLAIN (ANALYZE, BUFFERS, FORMAT %s) EXECUTE g('gp', %s%s%s, 'q', '%s')",
           print ? "TEXT" : "JSON", version ? "'" : "", version ? version : "NULL",
           version ? "'" : "", child_id);
  PGresult *r = mn_test_sql(pg, q);
  struct cost c = {0};
  if (print) {
    for (int i = 0; i < PQntuples(r); i++)
      print_message("%s\n", PQgetvalue(r, i, 0));
  } else {
    json_t *plan = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    json_t *top = json_object_get(json_array_get(plan, 0), "Plan");
    c.rows = rows_examined(top);
    c.buffers = json_integer_value(json_object_get(top, "Shared Hit Blocks")) +
                json_integer_value(json_object_get(top, "Shared Read Blocks"));
    json_decref(plan);
  }
  PQclear(r);
  return c;
}

static void prepare(const char *mode) {
  mn_test_exec(pg, "DEALLOCATE ALL");
  mn_test_exec(pg, "SET plan_cache_mode = %s", mode);
  char *q = NULL;
  size_t len = strlen(mn_store_invocation_get_sql()) + 64;
  assert_non_null(q = malloc(len));
  snprintf(q, len, "PREPARE g(text, text, text, text) AS %s", mn_store_invocation_get_sql());
  PQclear(mn_test_sql(pg, q));
  free(q);
}

/* The stage's cost, both version forms; the plan printed when it fails. */
static struct cost stage(const char *name) {
  struct cost by_id = explain_get(vid, false), latest = explain_get(NULL, false);
  print_message("%s: %lld / %lld rows examined, %lld / %lld buffers (version by id / latest)\n",
                name, by_id.rows, latest.rows, by_id.buffers, latest.buffers);
  if (by_id.rows > MAX_ROWS_EXAMINED || latest.rows > MAX_ROWS_EXAMINED) {
    explain_get(vid, true);
    explain_get(NULL, true);
  }
  assert_in_range(by_id.rows, 1, MAX_ROWS_EXAMINED);
  assert_in_range(latest.rows, 1, MAX_ROWS_EXAMINED);
  return by_id;
}

/* What the store's GET answers: the child, its parent, its attempt. */
static void expect_answer(void) {
  struct mn_function_key fk = {"gp", vid, "q"};
  struct mn_invocation inv = {0};
  assert_int_equal(mn_store_get_invocation(store, &fk, child_id, &inv), 0);
  assert_string_equal(inv.invocation_id, child_id);
  assert_true(inv.has_parent);
  assert_int_equal(inv.n_executions, 1);
  mn_invocation_release(&inv);
}

static void test_get_reads_the_same_rows_at_any_depth(void **state) {
  (void)state;
  enqueue(4, 0);
  expect_answer();
  prepare("force_generic_plan");
  struct cost young = stage("depth 4, never analyzed");
  enqueue(19996, 4);
  struct cost stale = stage("depth 20000, the plan of depth 4 cached");
  mn_test_exec(pg, "ANALYZE invocations");
  mn_test_exec(pg, "ANALYZE executions");
  prepare("force_generic_plan");
  struct cost fresh = stage("depth 20000, analyzed");
  prepare("force_custom_plan");
  stage("depth 20000, custom plan");
  /* an index one level deeper at most: never pages of the queue */
  assert_true(stale.buffers <= young.buffers + 8);
  assert_true(fresh.buffers <= young.buffers + 8);
  expect_answer();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_reads_the_same_rows_at_any_depth),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
