#include "store/sched_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/pg_array.h"
#include "store/sql.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

/* The working set of a pass (queues in docs/architecture.md): every
 * RUNNING invocation that holds a worker (live), that something happened
 * to (attention), whose deadline has come, of a project being deleted (a
 * batch), and the heads of the queues of the hinted functions ($1-$3), as
 * many as each has free capacity. Never the rest of a queue: every branch
 * is an index range. $4: now.
 * One row per (invocation, execution), in key then creation order.
 * Columns: project, version, function, INVOCATION(13) with NULL input,
 * idempotency key and termination reason, PARENT(4), EXECUTION(12) with
 * NULL output, deletion_request_time, live, attention, eligible_at, waiting,
 * blocked, deadline. */
static const struct mn_db_stmt stmt_invocations = {
    "mn_sched_working_set",
    "WITH hint AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS h(p, v, f)),"
    " heads AS (SELECT q.project_name, q.version_id, q.function_name, q.invocation_id"
    "  FROM hint JOIN functions fn ON fn.project_name = hint.p AND fn.version_id = hint.v"
    "   AND fn.function_name = hint.f"
    "  CROSS JOIN LATERAL (SELECT i.project_name, i.version_id, i.function_name,"
    "   i.invocation_id FROM invocations i WHERE i.project_name = hint.p"
    "   AND i.version_id = hint.v AND i.function_name = hint.f"
    "   AND i.invocation_status = 'RUNNING' AND NOT i.live AND NOT i.waiting"
    "   AND NOT i.blocked"
    /* those with attention are in the working set anyway (an attempt that
     * just ended sits at the head until the pass ends it) */
    "   AND i.attention = 0"
    "   ORDER BY i.priority DESC, i.creation_time, i.invocation_id"
    "   LIMIT greatest(0, fn.max_concurrency - (SELECT count(*) FROM invocations l"
    "    WHERE l.project_name = hint.p AND l.version_id = hint.v"
    "    AND l.function_name = hint.f AND l.invocation_status = 'RUNNING' AND l.live))) q),"
    " w AS (SELECT project_name, version_id, function_name, invocation_id FROM invocations"
    "   WHERE invocation_status = 'RUNNING' AND live"
    "  UNION SELECT project_name, version_id, function_name, invocation_id FROM invocations"
    "   WHERE invocation_status = 'RUNNING' AND attention <> 0"
    "  UNION SELECT project_name, version_id, function_name, invocation_id FROM invocations"
    /* now as a subquery's value, not a parameter: it was the only estimate
     * that depended on a parameter, so now the generic plan costs what the
     * custom ones do and the plan cache can keep it. With `<= $4`, 100,000
     * queued made the generic plan's estimate a third of them against a
     * handful for each custom plan, and every pass planned anew (1.5-2.6 ms):
     * bench/README.md, "What the milliseconds at depth are". */
    "   WHERE invocation_status = 'RUNNING' AND deadline <= (SELECT $4::bigint)"
    "  UNION (SELECT d.project_name, d.version_id, d.function_name, d.invocation_id"
    "   FROM projects dp CROSS JOIN LATERAL (SELECT x.project_name, x.version_id,"
    "    x.function_name, x.invocation_id FROM invocations x"
    "    WHERE x.project_name = dp.project_name AND x.invocation_status = 'RUNNING'"
    "    LIMIT 1000) d"
    "   WHERE dp.deletion_request_time IS NOT NULL LIMIT 1000)"
    "  UNION SELECT * FROM heads)"
    " SELECT i.project_name, i.version_id, i.function_name,"
    " i.invocation_id, i.parent_function_name, i.parent_invocation_id, NULL::text,"
    " i.cancellation_request_time, i.invocation_status, i.creation_time, i.last_update_time,"
    " i.priority, i.start_at, i.concurrency_key, NULL::text, NULL::text,"
    " " MN_SQL_PARENT_COLS("par") ","
    " e.execution_id, e.worker_status, e.worker_details, e.termination_signal_time,"
    " e.outcome, NULL::text, e.error_message, e.creation_time, e.last_update_time,"
    " e.execution_start_time, e.execution_finish_time, e.heartbeat_time,"
    " pr.deletion_request_time, i.live, i.attention, i.eligible_at, i.waiting, i.blocked,"
    " i.deadline"
    /* one primary-key lookup per member (LATERAL: never a join that scans) */
    " FROM w CROSS JOIN LATERAL (SELECT * FROM invocations x"
    "  WHERE x.project_name = w.project_name AND x.version_id = w.version_id"
    "  AND x.function_name = w.function_name AND x.invocation_id = w.invocation_id"
    "  LIMIT 1) i" /* LIMIT keeps the planner from flattening it into a hash join */
    " JOIN projects pr ON pr.project_name = i.project_name"
    MN_SQL_PARENT_OF("i")
    " LEFT JOIN executions e ON e.project_name = i.project_name"
    "  AND e.version_id = i.version_id AND e.function_name = i.function_name"
    "  AND e.invocation_id = i.invocation_id"
    " WHERE i.invocation_status = 'RUNNING'"
    /* byte order (C collation), which the binary searches assume whatever
     * the database's collation */
    " ORDER BY i.project_name COLLATE \"C\", i.version_id COLLATE \"C\","
    "  i.function_name COLLATE \"C\", i.invocation_id COLLATE \"C\","
    "  e.creation_time, e.execution_id",
    /* always the generic plan: the plan cache's own choice between it and
     * a custom plan (1.2-1.8 ms to make) follows the statistics as the
     * queue fills and drains, and at 100,000 queued it planned anew at most
     * passes (bench/README.md, "The pass's read at depth, with its plan
     * fixed") */
    4, true, MN_DB_GENERIC_PLAN};

enum { C_KEY = 0, C_INV = 3, C_PAR = C_INV + MN_SQL_INVOCATION_NCOLS,
       C_EXE = C_PAR + MN_SQL_PARENT_NCOLS, C_DEL = C_EXE + MN_SQL_EXECUTION_NCOLS,
       C_LIVE, C_ATTENTION, C_ELIGIBLE, C_WAITING, C_BLOCKED, C_DEADLINE };

/* The functions named by $1-$3 (the working set's and the hinted ones). */
static const struct mn_db_stmt stmt_functions = {
    "mn_sched_functions",
    "SELECT " MN_SQL_FUNCTION_COLS("f") " FROM functions f"
    " JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[])"
    "  AS k(p, v, fn)) k ON f.project_name = k.p AND f.version_id = k.v"
    "  AND f.function_name = k.fn"
    " ORDER BY f.project_name COLLATE \"C\", f.version_id COLLATE \"C\","
    "  f.function_name COLLATE \"C\"",
    3, true, 0};

/* Every function with a non-empty queue: a skip scan over invocations_queue
 * (one index descent per function, not one row per queued invocation). */
static const struct mn_db_stmt stmt_queued_functions = {
    "mn_sched_queued_functions",
    "WITH RECURSIVE q AS ("
    " (SELECT project_name, version_id, function_name FROM invocations"
    "  WHERE invocation_status = 'RUNNING' AND NOT live AND NOT waiting AND NOT blocked"
    "  ORDER BY project_name, version_id, function_name LIMIT 1)"
    " UNION ALL"
    " SELECT n.project_name, n.version_id, n.function_name FROM q CROSS JOIN LATERAL"
    "  (SELECT i.project_name, i.version_id, i.function_name FROM invocations i"
    "   WHERE i.invocation_status = 'RUNNING' AND NOT i.live AND NOT i.waiting"
    "   AND NOT i.blocked AND (i.project_name, i.version_id, i.function_name)"
    "    > (q.project_name, q.version_id, q.function_name)"
    "   ORDER BY i.project_name, i.version_id, i.function_name LIMIT 1) n)"
    " SELECT project_name, version_id, function_name FROM q",
    0, true, 0};

/* The end of a pass, in one statement (one round trip, one commit):
 * - the cancellation cascade past the working set: every RUNNING
 *   descendant, at any depth, of the invocations $1-$4 (cancelled or
 *   ended) that has no cancellation request yet gets one, and attention so
 *   that the next pass decides on it;
 * - the attention of the invocations $5-$8 that the pass decided on is
 *   cleared, unless it was raised again since the pass read it ($9, the
 *   values read) or the cascade reaches it (one row is never updated twice
 *   in a statement; the next pass clears it);
 * - the next deadline after $10 (now) of a RUNNING invocation (one index
 *   entry).
 * Returns one row: the number cancelled, the number cleared, the deadline. */
static const struct mn_db_stmt stmt_settle = {
    "mn_sched_settle",
    "WITH RECURSIVE d AS ("
    " SELECT c.project_name, c.version_id, c.function_name, c.invocation_id"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(p, v, f, id)"
    " JOIN invocations c ON c.project_name = k.p AND c.version_id = k.v"
    "  AND c.parent_function_name = k.f AND c.parent_invocation_id = k.id"
    " WHERE c.parent_invocation_id IS NOT NULL AND c.invocation_status = 'RUNNING'"
    " UNION"
    " SELECT c.project_name, c.version_id, c.function_name, c.invocation_id"
    " FROM d JOIN invocations c ON c.project_name = d.project_name"
    "  AND c.version_id = d.version_id AND c.parent_function_name = d.function_name"
    "  AND c.parent_invocation_id = d.invocation_id"
    " WHERE c.parent_invocation_id IS NOT NULL AND c.invocation_status = 'RUNNING'),"
    " cancelled AS (UPDATE invocations i SET cancellation_request_time = $10::bigint,"
    "  last_update_time = $10::bigint, attention = nextval('invocations_attention_seq')"
    "  FROM d WHERE i.project_name = d.project_name AND i.version_id = d.version_id"
    "  AND i.function_name = d.function_name AND i.invocation_id = d.invocation_id"
    "  AND i.cancellation_request_time IS NULL"
    "  RETURNING i.invocation_id),"
    " cleared AS (UPDATE invocations i SET attention = 0"
    "  FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])"
    "  AS k(p, v, f, id, a)"
    "  WHERE i.project_name = k.p AND i.version_id = k.v AND i.function_name = k.f"
    "  AND i.invocation_id = k.id AND i.attention = k.a"
    "  AND NOT EXISTS (SELECT 1 FROM d WHERE d.project_name = k.p AND d.version_id = k.v"
    "   AND d.function_name = k.f AND d.invocation_id = k.id)"
    "  RETURNING i.invocation_id)"
    " SELECT (SELECT count(*) FROM cancelled), (SELECT count(*) FROM cleared),"
    "  (SELECT min(deadline) FROM invocations WHERE invocation_status = 'RUNNING'"
    "   AND deadline > $10::bigint)",
    10, false, 0};

static const struct mn_db_stmt stmt_delete_projects = {
    "mn_sched_delete_projects",
    "DELETE FROM projects p WHERE p.deletion_request_time IS NOT NULL AND NOT EXISTS ("
    " SELECT 1 FROM invocations i WHERE i.project_name = p.project_name"
    "  AND i.invocation_status = 'RUNNING') RETURNING p.project_name",
    0, false, 0};

static const struct mn_db_stmt stmt_cancel = {
    "mn_sched_cancel",
    "UPDATE invocations SET cancellation_request_time = $5::bigint,"
    " last_update_time = $5::bigint"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND invocation_status = 'RUNNING'"
    "  AND cancellation_request_time IS NULL RETURNING invocation_id",
    5, false, 0};

static const struct mn_db_stmt stmt_worker_ended = {
    "mn_sched_worker_ended",
    "UPDATE executions SET worker_status = 'TERMINATED', last_update_time = $7::bigint,"
    " error_message = CASE WHEN outcome IS NULL THEN coalesce(error_message, $6)"
    "  ELSE error_message END"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND execution_id = $5 AND worker_status = 'RUNNING'"
    " RETURNING execution_id",
    7, false, 0};

static const struct mn_db_stmt stmt_end_unlaunched = {
    "mn_sched_end_unlaunched",
    "UPDATE executions SET worker_status = 'TERMINATED', last_update_time = $8::bigint,"
    " termination_signal_time = CASE WHEN $7::boolean"
    "  THEN coalesce(termination_signal_time, $8::bigint) ELSE termination_signal_time END,"
    " error_message = coalesce(error_message, $9)"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND execution_id = $5 AND worker_status = $6"
    " RETURNING execution_id",
    9, false, 0};

static const struct mn_db_stmt stmt_cluster_id = {
    "mn_sched_cluster_id",
    "WITH ins AS (INSERT INTO settings (key, value) VALUES ('cluster_id', $1)"
    " ON CONFLICT (key) DO NOTHING RETURNING value)"
    " SELECT value FROM ins UNION ALL"
    " SELECT value FROM settings WHERE key = 'cluster_id' LIMIT 1",
    1, false, 0};

static const struct mn_db_stmt stmt_execution_status = {
    "mn_sched_execution_status",
    "SELECT worker_status FROM executions WHERE execution_id = $1", 1, true, 0};

/* Compares the key (p, v, f, id) of an element with the one looked for;
 * id is NULL for functions. */
static int key_cmp(const struct mn_function *fn, const char *inv_id, const char *p,
                   const char *v, const char *f, const char *id) {
  int c = strcmp(fn->project_name, p);
  if (!c)
    c = strcmp(fn->version_id, v);
  if (!c)
    c = strcmp(fn->function_name, f);
  if (!c && id)
    c = strcmp(inv_id, id);
  return c;
}

/* Binary search over the snapshot's functions (id NULL) or invocations,
 * both ordered by key. */
static int find(const struct mn_sched_snapshot *snap, const char *p, const char *v,
                const char *f, const char *id) {
  size_t lo = 0, hi = id ? snap->n_invs : snap->n_functions;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = id ? key_cmp(&snap->invs[mid].inv.function, snap->invs[mid].inv.invocation_id, p,
                         v, f, id)
               : key_cmp(&snap->functions[mid], NULL, p, v, f, NULL);
    if (c == 0)
      return (int)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

int mn_sched_snapshot_find_invocation(const struct mn_sched_snapshot *snap,
                                      const char *project, const char *version,
                                      const char *function, const char *invocation_id) {
  return find(snap, project, version, function, invocation_id);
}

/* Appends the function keys of HINTS to three arrays (project, version,
 * function). */
static void add_keys(struct mn_pg_array arr[3], const struct mn_fn_keys *hints) {
  for (size_t i = 0; hints && i < hints->n; i++) {
    mn_pg_array_add(&arr[0], hints->keys[i].project_name);
    mn_pg_array_add(&arr[1], hints->keys[i].version_ref);
    mn_pg_array_add(&arr[2], hints->keys[i].function_name);
  }
}

/* Loads the functions of the working set's invocations and of the hints. */
static int load_functions(struct mn_store *s, const struct mn_fn_keys *hints,
                          struct mn_sched_snapshot *snap) {
  struct mn_pg_array arr[3];
  const char *params[3];
  PGresult *r = NULL;
  int rc = 0;
  for (int a = 0; a < 3; a++)
    mn_pg_array_init(&arr[a]);
  for (size_t i = 0; i < snap->n_invs; i++) {
    const struct mn_function *k = &snap->invs[i].inv.function;
    if (i > 0 && strcmp(k->function_name, snap->invs[i - 1].inv.function.function_name) == 0 &&
        strcmp(k->version_id, snap->invs[i - 1].inv.function.version_id) == 0 &&
        strcmp(k->project_name, snap->invs[i - 1].inv.function.project_name) == 0)
      continue; /* ordered by key: one entry per function */
    mn_pg_array_add(&arr[0], k->project_name);
    mn_pg_array_add(&arr[1], k->version_id);
    mn_pg_array_add(&arr[2], k->function_name);
  }
  add_keys(arr, hints);
  for (int a = 0; a < 3; a++)
    if (!(params[a] = mn_pg_array_text(&arr[a])))
      rc = MN_ENOMEM;
  if (rc == 0)
    rc = mn_db_exec(s, &stmt_functions, params, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("working set functions", r);
  if (rc)
    goto out;
  int rows = PQntuples(r);
  snap->rows_read += (size_t)rows;
  snap->functions = calloc(rows ? (size_t)rows : 1, sizeof *snap->functions);
  if (!snap->functions) {
    rc = MN_ENOMEM;
    goto out;
  }
  for (int i = 0; i < rows; i++) {
    snap->n_functions++;
    if ((rc = mn_sql_function(r, i, 0, &snap->functions[i])) != 0)
      goto out;
  }
out:
  PQclear(r);
  for (int a = 0; a < 3; a++)
    mn_pg_array_release(&arr[a]);
  return rc;
}

static bool same_invocation(const PGresult *r, int a, int b) {
  for (int c = 0; c < 3; c++)
    if (strcmp(PQgetvalue(r, a, c), PQgetvalue(r, b, c)) != 0)
      return false;
  return strcmp(PQgetvalue(r, a, C_INV), PQgetvalue(r, b, C_INV)) == 0;
}

static int load_invocations(struct mn_store *s, const struct mn_fn_keys *hints, int64_t now,
                            struct mn_sched_snapshot *snap) {
  struct mn_pg_array arr[3];
  const char *params[4];
  char t[24];
  PGresult *r = NULL;
  int rc = 0;
  for (int a = 0; a < 3; a++)
    mn_pg_array_init(&arr[a]);
  add_keys(arr, hints);
  for (int a = 0; a < 3; a++)
    if (!(params[a] = mn_pg_array_text(&arr[a])))
      rc = MN_ENOMEM;
  params[3] = mn_sql_time(t, now);
  if (rc == 0)
    rc = mn_db_exec(s, &stmt_invocations, params, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("working set", r);
  if (rc)
    goto out;
  int rows = PQntuples(r);
  snap->rows_read += (size_t)rows;
  snap->invs = calloc(rows ? (size_t)rows : 1, sizeof *snap->invs);
  if (!snap->invs) {
    rc = MN_ENOMEM;
    goto out;
  }
  for (int row = 0; row < rows;) {
    int end = row + 1;
    while (end < rows && same_invocation(r, row, end))
      end++;
    struct mn_snap_invocation *si = &snap->invs[snap->n_invs++];
    struct mn_invocation *inv = &si->inv;
    bool oom = false;
    inv->function.project_name = mn_sql_text(r, row, 0, &oom);
    inv->function.version_id = mn_sql_text(r, row, 1, &oom);
    inv->function.function_name = mn_sql_text(r, row, 2, &oom);
    if (oom) {
      rc = MN_ENOMEM;
      goto out;
    }
    if ((rc = mn_sql_invocation(r, row, C_INV, C_PAR, inv)) != 0)
      goto out;
    si->project_deleting = !mn_sql_is_null(r, row, C_DEL);
    si->live = PQgetvalue(r, row, C_LIVE)[0] == 't';
    si->attention = strtoll(PQgetvalue(r, row, C_ATTENTION), NULL, 10);
    si->eligible_at = strtoll(PQgetvalue(r, row, C_ELIGIBLE), NULL, 10);
    si->waiting = PQgetvalue(r, row, C_WAITING)[0] == 't';
    si->blocked = PQgetvalue(r, row, C_BLOCKED)[0] == 't';
    si->deadline = mn_sql_int64(r, row, C_DEADLINE);
    si->fn = -1; /* set once the functions are loaded */
    if (!mn_sql_is_null(r, row, C_EXE)) {
      inv->executions = calloc((size_t)(end - row), sizeof *inv->executions);
      if (!inv->executions) {
        rc = MN_ENOMEM;
        goto out;
      }
      for (int k = row; k < end; k++) {
        inv->n_executions++;
        if ((rc = mn_sql_execution(r, k, C_EXE, &inv->executions[k - row])) != 0)
          goto out;
      }
    }
    row = end;
  }
out:
  PQclear(r);
  for (int a = 0; a < 3; a++)
    mn_pg_array_release(&arr[a]);
  return rc;
}

int mn_store_sched_snapshot(struct mn_store *s, const struct mn_fn_keys *hints, int64_t now,
                            struct mn_sched_snapshot *out) {
  memset(out, 0, sizeof *out);
  /* the invocations first, then their functions: a function is never
   * deleted under them except by a project deletion, which only the
   * scheduler does */
  int rc = load_invocations(s, hints, now, out);
  if (rc == 0)
    rc = load_functions(s, hints, out);
  for (size_t i = 0; rc == 0 && i < out->n_invs; i++) {
    const struct mn_function *k = &out->invs[i].inv.function;
    out->invs[i].fn = find(out, k->project_name, k->version_id, k->function_name, NULL);
  }
  if (rc)
    mn_sched_snapshot_release(out);
  return rc;
}

const char *mn_store_sched_working_set_sql(void) { return stmt_invocations.sql; }

int mn_store_sched_queued_functions(struct mn_store *s, mn_fn_key_fn *cb, void *ctx) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_queued_functions, NULL, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("queued functions", r);
  for (int row = 0; rc == 0 && row < PQntuples(r); row++) {
    struct mn_function_key k = {PQgetvalue(r, row, 0), PQgetvalue(r, row, 1),
                                PQgetvalue(r, row, 2)};
    if (cb(ctx, &k) != 0)
      rc = MN_ENOMEM;
  }
  PQclear(r);
  return rc;
}

/* Appends the keys (fks[i], ids[i]) to four arrays. */
static void add_inv_keys(struct mn_pg_array *arr, const struct mn_function_key *const *fks,
                         const char *const *ids, size_t n) {
  for (size_t i = 0; i < n; i++) {
    mn_pg_array_add(&arr[0], fks[i]->project_name);
    mn_pg_array_add(&arr[1], fks[i]->version_ref);
    mn_pg_array_add(&arr[2], fks[i]->function_name);
    mn_pg_array_add(&arr[3], ids[i]);
  }
}

int mn_store_sched_settle(struct mn_store *s, const struct mn_sched_settle *in,
                          struct mn_sched_settled *out) {
  struct mn_pg_array arr[9];
  const char *params[10];
  char t[24], num[24];
  PGresult *r = NULL;
  int rc = 0;
  *out = (struct mn_sched_settled){0, 0, MN_TIME_NULL};
  for (int a = 0; a < 9; a++)
    mn_pg_array_init(&arr[a]);
  add_inv_keys(&arr[0], in->cascade_fks, in->cascade_ids, in->n_cascade);
  add_inv_keys(&arr[4], in->clear_fks, in->clear_ids, in->n_clear);
  for (size_t i = 0; i < in->n_clear; i++) {
    snprintf(num, sizeof num, "%lld", (long long)in->attention[i]);
    mn_pg_array_add(&arr[8], num);
  }
  for (int a = 0; a < 9; a++)
    if (!(params[a] = mn_pg_array_text(&arr[a])))
      rc = MN_ENOMEM;
  params[9] = mn_sql_time(t, in->now);
  if (rc == 0)
    rc = mn_db_exec(s, &stmt_settle, params, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("settle a pass", r);
  if (rc == 0 && PQntuples(r) == 1) {
    out->cancelled = atoi(PQgetvalue(r, 0, 0));
    out->cleared = atoi(PQgetvalue(r, 0, 1));
    if (!PQgetisnull(r, 0, 2))
      out->next_deadline = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
  }
  PQclear(r);
  for (int a = 0; a < 9; a++)
    mn_pg_array_release(&arr[a]);
  return rc;
}

void mn_sched_snapshot_release(struct mn_sched_snapshot *snap) {
  if (!snap)
    return;
  for (size_t i = 0; i < snap->n_invs; i++)
    mn_invocation_release(&snap->invs[i].inv);
  free(snap->invs);
  for (size_t i = 0; i < snap->n_functions; i++)
    mn_function_release(&snap->functions[i]);
  free(snap->functions);
  memset(snap, 0, sizeof *snap);
}

/* Runs a guarded write; *applied = whether it returned a row. */
static int guarded(struct mn_store *s, const struct mn_db_stmt *st, const char *const *params,
                   const char *what, bool *applied) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, st, params, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected(what, r);
  if (applied)
    *applied = rc == 0 && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

int mn_store_sched_delete_projects(struct mn_store *s, int *n_deleted) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_delete_projects, NULL, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("delete projects", r);
  if (n_deleted)
    *n_deleted = rc == 0 ? PQntuples(r) : 0;
  PQclear(r);
  return rc;
}

int mn_store_sched_cancel(struct mn_store *s, const struct mn_function_key *fk,
                          const char *invocation_id, int64_t now, bool *applied) {
  char t[24];
  const char *p[] = {fk->project_name, fk->version_ref, fk->function_name, invocation_id,
                     mn_sql_time(t, now)};
  return guarded(s, &stmt_cancel, p, "cascade cancellation", applied);
}

int mn_store_sched_worker_ended(struct mn_store *s, const struct mn_function_key *fk,
                                const char *invocation_id, const char *execution_id,
                                const char *reason, int64_t now, bool *applied) {
  char t[24];
  const char *p[] = {fk->project_name, fk->version_ref, fk->function_name, invocation_id,
                     execution_id, reason, mn_sql_time(t, now)};
  return guarded(s, &stmt_worker_ended, p, "record worker end", applied);
}

int mn_store_sched_end_unlaunched(struct mn_store *s, const struct mn_function_key *fk,
                                  const char *invocation_id, const char *execution_id,
                                  enum mn_worker_status from, bool signalled,
                                  const char *reason, int64_t now, bool *applied) {
  char t[24];
  const char *p[] = {fk->project_name, fk->version_ref, fk->function_name, invocation_id,
                     execution_id, mn_worker_status_str(from), signalled ? "true" : "false",
                     mn_sql_time(t, now), reason};
  return guarded(s, &stmt_end_unlaunched, p, "end unlaunched execution", applied);
}

int mn_store_cluster_id(struct mn_store *s, char **out) {
  char fresh[MN_ID_MAX];
  if (mn_id_new("mn-", fresh) != 0)
    return MN_EINTERNAL;
  const char *p[] = {fresh};
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_cluster_id, p, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("cluster id", r);
  if (rc == 0) {
    if (PQntuples(r) < 1) {
      rc = MN_EINTERNAL;
    } else {
      *out = strdup(PQgetvalue(r, 0, 0));
      rc = *out ? 0 : MN_ENOMEM;
    }
  }
  PQclear(r);
  return rc;
}

int mn_store_sched_execution_status(struct mn_store *s, const char *execution_id,
                                    enum mn_worker_status *out) {
  const char *p[] = {execution_id};
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_execution_status, p, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("execution status", r);
  if (rc == 0) {
    if (PQntuples(r) < 1)
      rc = MN_EEXECUTION_NOT_FOUND;
    else if (mn_worker_status_parse(PQgetvalue(r, 0, 0), out) != 0)
      rc = MN_EINTERNAL;
  }
  PQclear(r);
  return rc;
}
