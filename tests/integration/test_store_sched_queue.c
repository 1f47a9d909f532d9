/* The scheduler's queue model (store/sched_snapshot.h, migration 5): a
 * pass reads what changed and what it can launch, never a whole queue.
 *
 * A function with max_concurrency 4 gets a queue of 100, then 20,000
 * invocations. At both depths the working set holds exactly the 4 oldest
 * (FIFO heads) and nothing else, and Postgres touches about the same
 * number of buffers to produce it (EXPLAIN ANALYZE BUFFERS of the very
 * statement), and the statement keeps its generic plan instead of being
 * planned anew at every pass: the cost follows what is launched, not what
 * waits. Also:
 * live invocations take capacity (2 live: 2 heads), the trigger keeps
 * `live` and `attention`, a cancelled or due invocation enters the working
 * set, clearing attention spares a newer request, the skip scan lists the
 * functions with a queue, and the cascade reaches descendants at any depth. */
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
#include "store/execution_keys.h"
#include "store/sched_snapshot.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

static struct mn_store *store;
static PGconn *pg;
static char vid[MN_ID_MAX];

static int setup(void **state) {
  (void)state;
  if (mn_test_open(2, &store, &pg) < 0)
    return -1;
  struct mn_function_spec fs[2] = {
      {.function_name = "q", .resource_spec = {1, 1, 4}, .execution_spec = {0, 3600}},
      {.function_name = "other", .resource_spec = {1, 1, 10}, .execution_spec = {0, 60}}};
  if (mn_testdb_project_version(store, "qp", fs, 2, vid) < 0)
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mn_test_close(store, pg);
  return 0;
}

/* Queues n more invocations of q, created at times base+1 .. base+n (in
 * microseconds), as the API's INSERT would write them. */
static void enqueue(int n, long long base) {
  mn_test_enqueue(pg, "qp", vid, "q", n, base);
  mn_test_exec(pg, "ANALYZE invocations");
}

static struct mn_fn_keys hint_q(struct mn_function_key *k) {
  *k = (struct mn_function_key){"qp", vid, "q"};
  return (struct mn_fn_keys){k, 1};
}

/* Shared buffers the working-set statement touches, from EXPLAIN; with
 * print, its plan goes to the test's output. */
static long long working_set_buffers_of(const char *fn, bool print) {
  char q[16384];
  snprintf(q, sizeof q, "EXPLAIN (ANALYZE, BUFFERS, FORMAT %s) %s", print ? "TEXT" : "JSON",
           mn_store_sched_working_set_sql());
  char hint_p[64], hint_v[128];
  snprintf(hint_p, sizeof hint_p, "{qp}");
  snprintf(hint_v, sizeof hint_v, "{%s}", vid);
  char hint_f[64];
  snprintf(hint_f, sizeof hint_f, "{%s}", fn);
  const char *params[] = {hint_p, hint_v, hint_f, "1"};
  PGresult *r = PQexecParams(pg, q, 4, NULL, params, NULL, NULL, 0);
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  if (print) {
    for (int i = 0; i < PQntuples(r); i++)
      print_message("%s\n", PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
  }
  json_t *plan = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  PQclear(r);
  json_t *top = json_object_get(json_array_get(plan, 0), "Plan");
  long long hit = json_integer_value(json_object_get(top, "Shared Hit Blocks"));
  long long read = json_integer_value(json_object_get(top, "Shared Read Blocks"));
  json_decref(plan);
  return hit + read;
}

static long long working_set_buffers(bool print) { return working_set_buffers_of("q", print); }

/* Custom plans among 10 executions of the working-set statement, prepared
 * as the daemon prepares it (plan_cache_mode auto, JIT off as in
 * core/store/db.c's sessions), with the scheduler's parameters. The plan
 * cache makes 5 custom plans, then keeps the generic one unless it looks
 * dearer than they did: more than 5 means a fresh plan at every pass (at
 * 100,000 queued, 1.5-2.6 ms of planning each; bench/README.md). */
static long long working_set_custom_plans(void) {
  char q[16384];
  mn_test_exec(pg, "SET jit = off");
  mn_test_exec(pg, "DEALLOCATE ALL");
  snprintf(q, sizeof q, "PREPARE ws_probe (text[], text[], text[], bigint) AS %s",
           mn_store_sched_working_set_sql());
  mn_test_exec(pg, "%s", q);
  for (int i = 0; i < 10; i++)
    mn_test_exec(pg, "EXECUTE ws_probe ('{qp}', '{%s}', '{q}', %lld)", vid, 1000LL + i);
  long long custom =
      mn_test_scalar(pg, "SELECT custom_plans FROM pg_prepared_statements WHERE name = 'ws_probe'");
  mn_test_exec(pg, "DEALLOCATE ws_probe");
  mn_test_exec(pg, "RESET jit");
  return custom;
}

static void expect_heads(int n_heads, const char *first_head) {
  struct mn_function_key k;
  struct mn_fn_keys hints = hint_q(&k);
  struct mn_sched_snapshot snap;
  assert_int_equal(mn_store_sched_snapshot(store, &hints, 1, &snap), 0);
  int queued = 0;
  for (size_t i = 0; i < snap.n_invs; i++)
    queued += !snap.invs[i].live;
  assert_int_equal(queued, n_heads);
  if (first_head) {
    /* FIFO: the oldest queued invocations, in creation order */
    int64_t oldest = INT64_MAX;
    const char *id = NULL;
    for (size_t i = 0; i < snap.n_invs; i++)
      if (!snap.invs[i].live && snap.invs[i].inv.creation_time < oldest) {
        oldest = snap.invs[i].inv.creation_time;
        id = snap.invs[i].inv.invocation_id;
      }
    assert_string_equal(id, first_head);
  }
  assert_int_equal(snap.n_functions, 1);
  mn_sched_snapshot_release(&snap);
}

static void test_cost_follows_launches_not_depth(void **state) {
  (void)state;
  enqueue(100, 0);
  struct mn_function_key k;
  struct mn_fn_keys hints = hint_q(&k);
  struct mn_sched_snapshot snap;
  assert_int_equal(mn_store_sched_snapshot(store, &hints, 1, &snap), 0);
  assert_int_equal(snap.n_invs, 4); /* max_concurrency 4: the 4 heads */
  size_t rows_100 = snap.rows_read;
  mn_sched_snapshot_release(&snap);
  long long buffers_100 = working_set_buffers(false);
  long long custom_100 = working_set_custom_plans();

  enqueue(19900, 100);
  assert_int_equal(mn_test_scalar(pg, "SELECT count(*) FROM invocations WHERE NOT live"), 20000);
  assert_int_equal(mn_store_sched_snapshot(store, &hints, 1, &snap), 0);
  assert_int_equal(snap.n_invs, 4);
  size_t rows_20000 = snap.rows_read;
  mn_sched_snapshot_release(&snap);
  long long buffers_20000 = working_set_buffers(false);
  long long custom_20000 = working_set_custom_plans();
  print_message("working set at depth 100: %zu rows, %lld buffers, %lld custom plans of 10; "
                "at depth 20000: %zu rows, %lld buffers, %lld custom plans of 10\n",
                rows_100, buffers_100, custom_100, rows_20000, buffers_20000, custom_20000);
  assert_int_equal(rows_20000, rows_100);
  /* the plan is made once, whatever the depth */
  assert_true(custom_100 <= 5);
  assert_true(custom_20000 <= 5);
  /* an index descent is one level deeper at most: never 200 times the pages */
  if (buffers_20000 > 2 * buffers_100 + 8)
    working_set_buffers(true);
  assert_true(buffers_20000 <= 2 * buffers_100 + 8);
  expect_heads(4, "inv-00000000000000000000000000000001");
}

static void test_live_invocations_take_capacity(void **state) {
  (void)state;
  struct mn_function_key fk = {"qp", vid, "q"};
  struct mn_execution e = {0};
  /* two attempts: the trigger marks both invocations live */
  assert_int_equal(mn_store_create_execution(store, &fk, "inv-00000000000000000000000000000001",
                                             2, &e),
                   0);
  mn_execution_release(&e);
  assert_int_equal(mn_store_create_execution(store, &fk, "inv-00000000000000000000000000000002",
                                             2, &e),
                   0);
  char ended[MN_ID_MAX];
  enum mn_worker_status from = e.worker_status;
  snprintf(ended, sizeof ended, "%s", e.execution_id);
  mn_execution_release(&e);
  assert_int_equal(mn_test_scalar(pg, "SELECT count(*) FROM invocations WHERE live"), 2);
  expect_heads(2, "inv-00000000000000000000000000000003");
  /* an invocation with attention (its attempt just ended: the pass will end
   * or retry it) is in the working set anyway and takes no head's place:
   * the two free slots still bring two fresh heads (a quota-1 function
   * otherwise waited for the next wake-up to launch the next invocation) */
  mn_test_exec(pg, "UPDATE invocations SET attention = 7 WHERE invocation_id ="
       " 'inv-00000000000000000000000000000003'");
  {
    struct mn_function_key k;
    struct mn_fn_keys hints = hint_q(&k);
    struct mn_sched_snapshot snap;
    assert_int_equal(mn_store_sched_snapshot(store, &hints, 1, &snap), 0);
    int fresh = 0, with_attention = 0;
    for (size_t i = 0; i < snap.n_invs; i++) {
      fresh += !snap.invs[i].live && snap.invs[i].attention == 0;
      with_attention += snap.invs[i].attention != 0;
    }
    assert_int_equal(fresh, 2);
    assert_int_equal(with_attention, 1);
    mn_sched_snapshot_release(&snap);
  }
  mn_test_exec(pg, "UPDATE invocations SET attention = 0 WHERE invocation_id ="
       " 'inv-00000000000000000000000000000003'");
  /* an attempt ends: not live any more, and attention for the scheduler */
  bool applied = false;
  assert_int_equal(mn_store_sched_end_unlaunched(store, &fk,
                                                 "inv-00000000000000000000000000000002", ended,
                                                 from, false, "gone", 3,
                                                 &applied),
                   0);
  assert_true(applied);
  assert_int_equal(mn_test_scalar(pg, "SELECT count(*) FROM invocations WHERE live"), 1);
  long long att = mn_test_scalar(pg, "SELECT attention FROM invocations WHERE invocation_id ="
                         " 'inv-00000000000000000000000000000002'");
  assert_true(att > 0);
  /* clearing a stale value spares the newer request; the right one clears */
  const struct mn_function_key *fks[] = {&fk};
  const char *ids[] = {"inv-00000000000000000000000000000002"};
  int64_t stale = att - 1;
  struct mn_sched_settle in = {.clear_fks = fks, .clear_ids = ids, .attention = &stale,
                               .n_clear = 1, .now = 3};
  struct mn_sched_settled done;
  assert_int_equal(mn_store_sched_settle(store, &in, &done), 0);
  assert_int_equal(done.cleared, 0);
  assert_int_equal(mn_test_scalar(pg, "SELECT attention FROM invocations WHERE invocation_id ="
                          " 'inv-00000000000000000000000000000002'"),
                   att);
  int64_t current = att;
  in.attention = &current;
  assert_int_equal(mn_store_sched_settle(store, &in, &done), 0);
  assert_int_equal(done.cleared, 1);
  assert_int_equal(mn_test_scalar(pg, "SELECT attention FROM invocations WHERE invocation_id ="
                          " 'inv-00000000000000000000000000000002'"),
                   0);
}

static void test_changed_invocations_enter_the_working_set(void **state) {
  (void)state;
  struct mn_function_key fk = {"qp", vid, "q"};
  const char *deep = "inv-00000000000000000000000000004e20"; /* the 20000th */
  /* a cancellation deep in the queue raises attention */
  assert_int_equal(mn_store_cancel_invocation(store, &fk, deep, 5, NULL), 0);
  /* a due deadline deep in the queue */
  mn_test_exec(pg, "UPDATE invocations SET deadline = 10 WHERE invocation_id ="
       " 'inv-00000000000000000000000000004e1f'");
  struct mn_fn_keys none = {NULL, 0};
  struct mn_sched_snapshot snap;
  assert_int_equal(mn_store_sched_snapshot(store, &none, 20, &snap), 0);
  bool cancelled = false, due = false;
  for (size_t i = 0; i < snap.n_invs; i++) {
    cancelled |= strcmp(snap.invs[i].inv.invocation_id, deep) == 0 &&
                 snap.invs[i].attention != 0;
    due |= strcmp(snap.invs[i].inv.invocation_id, "inv-00000000000000000000000000004e1f") == 0;
  }
  assert_true(cancelled);
  assert_true(due);
  assert_true(snap.n_invs <= 3); /* the live one, the cancelled one, the due one */
  mn_sched_snapshot_release(&snap);
  struct mn_sched_settle in = {.now = 20};
  struct mn_sched_settled done;
  assert_int_equal(mn_store_sched_settle(store, &in, &done), 0);
  assert_int_equal(done.next_deadline, 9000000000000000LL);
}

static int collect(void *ctx, const struct mn_function_key *k) {
  int *n = ctx;
  assert_string_equal(k->function_name, "q");
  (*n)++;
  return 0;
}

static void test_skip_scan_lists_queued_functions(void **state) {
  (void)state;
  int n = 0;
  assert_int_equal(mn_store_sched_queued_functions(store, collect, &n), 0);
  assert_int_equal(n, 1); /* one function with 20,000 queued: one key */
}

static void test_cascade_reaches_every_depth(void **state) {
  (void)state;
  struct mn_function_key ok = {"qp", vid, "other"};
  struct mn_invocation a = {0}, b = {0}, c = {0};
  assert_int_equal(mn_store_create_invocation(store, &ok, NULL, "", 30, &a), 0);
  struct mn_parent_ref pa = {"other", a.invocation_id};
  assert_int_equal(mn_store_create_invocation(store, &ok, &pa, "", 31, &b), 0);
  struct mn_parent_ref pb = {"other", b.invocation_id};
  assert_int_equal(mn_store_create_invocation(store, &ok, &pb, "", 32, &c), 0);
  const struct mn_function_key *fks[] = {&ok};
  const char *ids[] = {a.invocation_id}, *bid[] = {b.invocation_id};
  /* b's attention, read by the same pass, is not cleared: the cascade
   * raises it again in the same statement */
  mn_test_exec(pg, "UPDATE invocations SET attention = 7 WHERE function_name = 'other'"
       " AND parent_invocation_id IS NOT NULL AND attention = 0 AND creation_time = 31");
  int64_t seven = 7;
  struct mn_sched_settle in = {fks, ids, 1, fks, bid, &seven, 1, 40};
  struct mn_sched_settled done;
  assert_int_equal(mn_store_sched_settle(store, &in, &done), 0);
  assert_int_equal(done.cancelled, 2);
  assert_int_equal(done.cleared, 0);
  assert_int_equal(mn_test_scalar(pg, "SELECT count(*) FROM invocations WHERE function_name = 'other'"
                          " AND cancellation_request_time = 40 AND attention <> 0"
                          " AND attention <> 7"),
                   2);
  /* the ancestry an execution's key is checked against (store/execution_keys.h) */
  bool yes = false;
  assert_int_equal(mn_store_is_descendant(store, "qp", vid, "other", c.invocation_id, "other",
                                          a.invocation_id, &yes), 0);
  assert_true(yes);
  assert_int_equal(mn_store_is_descendant(store, "qp", vid, "other", b.invocation_id, "other",
                                          a.invocation_id, &yes), 0);
  assert_true(yes);
  assert_int_equal(mn_store_is_descendant(store, "qp", vid, "other", a.invocation_id, "other",
                                          c.invocation_id, &yes), 0);
  assert_false(yes);
  assert_int_equal(mn_store_is_descendant(store, "qp", vid, "other", a.invocation_id, "other",
                                          a.invocation_id, &yes), 0);
  assert_false(yes); /* itself is not a descendant */
  /* again: nothing more to cancel */
  in.n_clear = 0;
  in.now = 41;
  assert_int_equal(mn_store_sched_settle(store, &in, &done), 0);
  assert_int_equal(done.cancelled, 0);
  mn_invocation_release(&a);
  mn_invocation_release(&b);
  mn_invocation_release(&c);
}

/* Migration 7: the same cost with 3 priorities, 1,000 concurrency keys, a
 * tenth of the queue waiting (a delayed start or a backoff) and a tenth
 * blocked (its key full), both at the highest priority: the heads are the 4
 * oldest of the highest priority that may start, read through the index. */
static void enqueue_mixed(int n, long long base) {
  mn_test_exec(pg, "INSERT INTO invocations (project_name, version_id, function_name, invocation_id,"
       " input, invocation_status, creation_time, last_update_time, deadline, priority,"
       " concurrency_key, waiting, eligible_at, blocked)"
       " SELECT 'qp', '%s', 'pk', 'inv-7' || lpad(to_hex(%lld + g), 31, '0'), '', 'RUNNING',"
       " %lld + g, %lld + g, 9000000000000000,"
       " CASE WHEN (%lld + g) %% 5 = 0 THEN 1 ELSE ((%lld + g) %% 3) - 1 END,"
       " 'key-' || ((%lld + g) %% 1000), (%lld + g) %% 10 = 0,"
       " CASE WHEN (%lld + g) %% 10 = 0 THEN 8000000000000000 ELSE 0 END,"
       " (%lld + g) %% 10 = 5 FROM generate_series(1, %d) g",
       vid, base, base, base, base, base, base, base, base, base, n);
  mn_test_exec(pg, "ANALYZE invocations");
}

static void test_priorities_keys_and_waits_keep_the_cost(void **state) {
  (void)state;
  mn_test_exec(pg, "INSERT INTO functions (project_name, version_id, function_name, docker_image,"
       " virtual_cpus, memory_gbs, max_concurrency, max_retries, timeout_seconds,"
       " max_concurrency_per_key) VALUES ('qp', '%s', 'pk', 'img', 1, 1, 4, 0, 3600, 1)",
       vid);
  struct mn_function_key k = {"qp", vid, "pk"};
  struct mn_fn_keys hints = {&k, 1};
  /* priority 1: g % 3 == 2 or g % 5 == 0; of those, g % 10 == 0 waits and
   * g % 10 == 5 is blocked: the first that may start are 2, 8, 11, 14 */
  const char *heads[] = {"inv-70000000000000000000000000000002",
                         "inv-70000000000000000000000000000008",
                         "inv-7000000000000000000000000000000b",
                         "inv-7000000000000000000000000000000e"};
  size_t rows[2];
  long long buffers[2];
  for (int phase = 0; phase < 2; phase++) {
    if (phase == 0)
      enqueue_mixed(100, 0);
    else
      enqueue_mixed(19900, 100);
    struct mn_sched_snapshot snap;
    assert_int_equal(mn_store_sched_snapshot(store, &hints, 1, &snap), 0);
    size_t n = 0; /* earlier tests may leave invocations of q with attention */
    for (size_t i = 0; i < snap.n_invs; i++) {
      const struct mn_snap_invocation *si = &snap.invs[i];
      if (strcmp(si->inv.function.function_name, "pk") != 0)
        continue;
      assert_true(n < 4);
      assert_string_equal(si->inv.invocation_id, heads[n++]);
      assert_int_equal(si->inv.priority, 1);
      assert_false(si->waiting || si->blocked);
    }
    assert_int_equal(n, 4);
    rows[phase] = snap.rows_read;
    mn_sched_snapshot_release(&snap);
    buffers[phase] = working_set_buffers_of("pk", false);
  }
  print_message("3 priorities, 1000 keys, waiting and blocked: depth 100: %zu rows, %lld buffers;"
                " depth 20000: %zu rows, %lld buffers\n",
                rows[0], buffers[0], rows[1], buffers[1]);
  assert_int_equal(rows[1], rows[0]);
  if (buffers[1] > 2 * buffers[0] + 8)
    working_set_buffers_of("pk", true);
  assert_true(buffers[1] <= 2 * buffers[0] + 8);
  mn_test_exec(pg, "DELETE FROM invocations WHERE function_name = 'pk'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cost_follows_launches_not_depth),
      cmocka_unit_test(test_live_invocations_take_capacity),
      cmocka_unit_test(test_changed_invocations_enter_the_working_set),
      cmocka_unit_test(test_skip_scan_lists_queued_functions),
      cmocka_unit_test(test_cascade_reaches_every_depth),
      cmocka_unit_test(test_priorities_keys_and_waits_keep_the_cost),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
