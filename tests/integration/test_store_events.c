/* Events of the scheduler's batched writes (docs/events.md, "Where events
 * come from"): a statement that changes N attempts writes, for each row in
 * the order the rows were changed, its `execution` event, then its
 * invocation's `invocation` event when the row changed a fact of the
 * derived status. The triggers (migrations 5 and 12) also keep `live` and
 * `attention`; a heartbeat writes nothing. Whatever the triggers become
 * (statement-level ones were tried: docs/events.md), these hold.
 *
 * N = 6 invocations go through the batched creation, RUNNING, a batched
 * start (a raw UPDATE of all six), two single /finish-like outcomes, and
 * the batched end of all six: 4 of them end bare (an `invocation` event
 * each), the 2 with an outcome do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pg_sql.h"
#include "pg_testdb.h"
#include "store/sched_writes.h"
#include "store/store.h"
#include "multinode/common/ids.h"

enum { N = 6 };

static struct mn_store *store;
static PGconn *pg;
static char vid[MN_ID_MAX];
static char inv_ids[N][64];
static char exec_ids[N][64];
static struct mn_sched_key keys[N];

static int setup(void **state) {
  (void)state;
  if (mn_test_open(2, &store, &pg) < 0)
    return -1;
  struct mn_function_spec fs[1] = {
      {.function_name = "f", .resource_spec = {1, 1, 10}, .execution_spec = {2, 3600}}};
  if (mn_testdb_project_version(store, "ev", fs, 1, vid) < 0)
    return -1;
  mn_test_enqueue(pg, "ev", vid, "f", N, 1000000);
  PGresult *r = mn_test_sql(pg, "SELECT invocation_id FROM invocations WHERE project_name = 'ev'"
                                " ORDER BY creation_time");
  if (PQntuples(r) != N) {
    PQclear(r);
    return -1;
  }
  for (int i = 0; i < N; i++) {
    snprintf(inv_ids[i], sizeof inv_ids[i], "%s", PQgetvalue(r, i, 0));
    snprintf(exec_ids[i], sizeof exec_ids[i], "ex-%d", i);
    keys[i] = (struct mn_sched_key){"ev", vid, "f", inv_ids[i], exec_ids[i]};
  }
  PQclear(r);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mn_test_close(store, pg);
  return 0;
}

static int index_of_execution(const char *execution_id) {
  for (int i = 0; i < N; i++)
    if (strcmp(exec_ids[i], execution_id) == 0)
      return i;
  return -1;
}

/* The events after id `after`, in id order, checked against what each row
 * of one statement must write: an `execution` event with worker status
 * `status` for every attempt, exactly once, and right after it, for the
 * attempts with want_invocation[i], its invocation's `invocation` event
 * (whose attempts are read after the whole statement: `started` checks
 * that the attempt's start time is in it). Returns the last id. */
static long long expect_events(long long after, const char *status,
                               const bool want_invocation[N], bool started) {
  char q[512];
  snprintf(q, sizeof q,
           "SELECT id, kind, invocation_id, data->>'execution_id', data->>'execution_status',"
           " data->>'invocation_status', data->'executions'->0->>'execution_start_time'"
           " FROM events WHERE id > %lld ORDER BY id",
           after);
  PGresult *r = mn_test_sql(pg, q);
  int want = 0;
  for (int i = 0; i < N; i++)
    want += want_invocation[i] ? 2 : 1;
  assert_int_equal(PQntuples(r), want);
  bool seen[N] = {false};
  int row = 0;
  while (row < PQntuples(r)) {
    assert_string_equal(PQgetvalue(r, row, 1), "execution");
    int i = index_of_execution(PQgetvalue(r, row, 3));
    assert_true(i >= 0);
    assert_false(seen[i]);
    seen[i] = true;
    assert_string_equal(PQgetvalue(r, row, 2), inv_ids[i]);
    assert_string_equal(PQgetvalue(r, row, 4), status);
    row++;
    if (want_invocation[i]) {
      assert_true(row < PQntuples(r));
      assert_string_equal(PQgetvalue(r, row, 1), "invocation");
      assert_string_equal(PQgetvalue(r, row, 2), inv_ids[i]);
      assert_string_equal(PQgetvalue(r, row, 5), "RUNNING");
      if (started)
        assert_int_equal(atoll(PQgetvalue(r, row, 6)), 5000000 + i);
      row++;
    }
  }
  long long last = PQntuples(r) ? atoll(PQgetvalue(r, PQntuples(r) - 1, 0)) : after;
  PQclear(r);
  return last;
}

static long long last_id(void) {
  return mn_test_scalar(pg, "SELECT coalesce(max(id), 0) FROM events");
}

static void test_batched_writes_write_the_row_triggers_events(void **state) {
  (void)state;
  const char *hashes[N] = {"h0", "h1", "h2", "h3", "h4", "h5"};
  const char *details[N] = {"{}", "{}", "{}", "{}", "{}", "{}"};
  const char *reasons[N] = {"gone", "gone", "gone", "gone", "gone", "gone"};
  const bool none[N] = {false};
  const bool all[N] = {true, true, true, true, true, true};
  bool applied[N];

  long long id = last_id();
  assert_int_equal(mn_store_sched_create_executions(store, keys, hashes, N, 2000000, applied), 0);
  id = expect_events(id, "PROVISIONING", none, false);
  assert_int_equal(mn_test_scalar(pg, "SELECT count(*) FROM invocations"
                                      " WHERE project_name = 'ev' AND live"),
                   N);

  assert_int_equal(mn_store_sched_workers_running(store, keys, details, N, 3000000, applied), 0);
  id = expect_events(id, "RUNNING", none, false);

  /* a heartbeat of every attempt: no event */
  mn_test_exec(pg, "UPDATE executions SET heartbeat_time = 4000000 WHERE project_name = 'ev'");
  assert_int_equal(last_id(), id);

  /* all six start in one statement: each starts running (a fact) */
  mn_test_exec(pg, "UPDATE executions SET execution_start_time ="
                   " 5000000 + substr(execution_id, 4)::int WHERE project_name = 'ev'");
  id = expect_events(id, "RUNNING", all, true);

  /* two outcomes, one statement each (as /finish) */
  for (int i = 0; i < 2; i++) {
    mn_test_exec(pg, "UPDATE executions SET outcome = 'SUCCEEDED', execution_finish_time ="
                     " 6000000 WHERE execution_id = '%s'", exec_ids[i]);
    PGresult *r = mn_test_sql(pg, "SELECT string_agg(kind || ' ' || invocation_id, ',' ORDER BY id)"
                                  " FROM events WHERE id > (SELECT max(id) - 2 FROM events)");
    char want[256];
    snprintf(want, sizeof want, "execution %s,invocation %s", inv_ids[i], inv_ids[i]);
    assert_string_equal(PQgetvalue(r, 0, 0), want);
    PQclear(r);
    assert_int_equal(last_id(), id + 2);
    id = last_id();
  }

  /* the end of all six: the four without an outcome end bare (a fact) */
  assert_int_equal(mn_store_sched_workers_ended(store, keys, reasons, N, 7000000, applied), 0);
  const bool bare[N] = {false, false, true, true, true, true};
  expect_events(id, "TERMINATED", bare, false);
  assert_int_equal(mn_test_scalar(pg, "SELECT count(*) FROM invocations WHERE project_name = 'ev'"
                                      " AND NOT live AND attention <> 0"),
                   N);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batched_writes_write_the_row_triggers_events),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
