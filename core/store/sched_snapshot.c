#include "store/sched_snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "util/ids.h"

/* One row per (RUNNING invocation, execution), in key then creation order.
 * Columns: project, version, function, INVOCATION(8) with NULL input,
 * PARENT(4), EXECUTION(11) with NULL output, deletion_request_time. */
static const struct mn_db_stmt stmt_invocations = {
    "mn_sched_invocations",
    "SELECT i.project_name, i.version_id, i.function_name,"
    " i.invocation_id, i.parent_function_name, i.parent_invocation_id, NULL::text,"
    " i.cancellation_request_time, i.invocation_status, i.creation_time, i.last_update_time,"
    " " MN_SQL_PARENT_COLS("par") ","
    " e.execution_id, e.worker_status, e.worker_details, e.termination_signal_time,"
    " e.outcome, NULL::text, e.error_message, e.creation_time, e.last_update_time,"
    " e.execution_start_time, e.execution_finish_time,"
    " pr.deletion_request_time"
    " FROM invocations i"
    " JOIN projects pr ON pr.project_name = i.project_name"
    " LEFT JOIN invocations par ON par.project_name = i.project_name"
    "  AND par.version_id = i.version_id AND par.function_name = i.parent_function_name"
    "  AND par.invocation_id = i.parent_invocation_id"
    " LEFT JOIN executions e ON e.project_name = i.project_name"
    "  AND e.version_id = i.version_id AND e.function_name = i.function_name"
    "  AND e.invocation_id = i.invocation_id"
    " WHERE i.invocation_status = 'RUNNING'"
    /* byte order (C collation), which the binary searches assume whatever
     * the database's collation */
    " ORDER BY i.project_name COLLATE \"C\", i.version_id COLLATE \"C\","
    "  i.function_name COLLATE \"C\", i.invocation_id COLLATE \"C\","
    "  e.creation_time, e.execution_id",
    0, true};

enum { C_KEY = 0, C_INV = 3, C_PAR = C_INV + MN_SQL_INVOCATION_NCOLS,
       C_EXE = C_PAR + MN_SQL_PARENT_NCOLS, C_DEL = C_EXE + MN_SQL_EXECUTION_NCOLS };

static const struct mn_db_stmt stmt_functions = {
    "mn_sched_functions",
    "SELECT " MN_SQL_FUNCTION_COLS("f") " FROM functions f WHERE EXISTS ("
    " SELECT 1 FROM invocations i WHERE i.invocation_status = 'RUNNING'"
    "  AND i.project_name = f.project_name AND i.version_id = f.version_id"
    "  AND i.function_name = f.function_name)"
    " ORDER BY f.project_name COLLATE \"C\", f.version_id COLLATE \"C\","
    "  f.function_name COLLATE \"C\"",
    0, true};

static const struct mn_db_stmt stmt_delete_projects = {
    "mn_sched_delete_projects",
    "DELETE FROM projects p WHERE p.deletion_request_time IS NOT NULL AND NOT EXISTS ("
    " SELECT 1 FROM invocations i WHERE i.project_name = p.project_name"
    "  AND i.invocation_status = 'RUNNING') RETURNING p.project_name",
    0, false};

static const struct mn_db_stmt stmt_cancel = {
    "mn_sched_cancel",
    "UPDATE invocations SET cancellation_request_time = $5::bigint,"
    " last_update_time = $5::bigint"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND invocation_status = 'RUNNING'"
    "  AND cancellation_request_time IS NULL RETURNING invocation_id",
    5, false};

static const struct mn_db_stmt stmt_worker_ended = {
    "mn_sched_worker_ended",
    "UPDATE executions SET worker_status = 'TERMINATED', last_update_time = $7::bigint,"
    " error_message = CASE WHEN outcome IS NULL THEN coalesce(error_message, $6)"
    "  ELSE error_message END"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND execution_id = $5 AND worker_status = 'RUNNING'"
    " RETURNING execution_id",
    7, false};

static const struct mn_db_stmt stmt_end_unlaunched = {
    "mn_sched_end_unlaunched",
    "UPDATE executions SET worker_status = 'TERMINATED', last_update_time = $8::bigint,"
    " termination_signal_time = CASE WHEN $7::boolean"
    "  THEN coalesce(termination_signal_time, $8::bigint) ELSE termination_signal_time END,"
    " error_message = coalesce(error_message, $9)"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND execution_id = $5 AND worker_status = $6"
    " RETURNING execution_id",
    9, false};

static const struct mn_db_stmt stmt_cluster_id = {
    "mn_sched_cluster_id",
    "WITH ins AS (INSERT INTO settings (key, value) VALUES ('cluster_id', $1)"
    " ON CONFLICT (key) DO NOTHING RETURNING value)"
    " SELECT value FROM ins UNION ALL"
    " SELECT value FROM settings WHERE key = 'cluster_id' LIMIT 1",
    1, false};

static const struct mn_db_stmt stmt_execution_status = {
    "mn_sched_execution_status",
    "SELECT worker_status FROM executions WHERE execution_id = $1", 1, true};

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

static int load_functions(struct mn_store *s, struct mn_sched_snapshot *snap) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_functions, NULL, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("snapshot functions", r);
  if (rc)
    goto out;
  int rows = PQntuples(r);
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
  return rc;
}

static bool same_invocation(const PGresult *r, int a, int b) {
  for (int c = 0; c < 3; c++)
    if (strcmp(PQgetvalue(r, a, c), PQgetvalue(r, b, c)) != 0)
      return false;
  return strcmp(PQgetvalue(r, a, C_INV), PQgetvalue(r, b, C_INV)) == 0;
}

static int load_invocations(struct mn_store *s, struct mn_sched_snapshot *snap) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_invocations, NULL, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("snapshot invocations", r);
  if (rc)
    goto out;
  int rows = PQntuples(r);
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
    si->fn = find(snap, inv->function.project_name, inv->function.version_id,
                  inv->function.function_name, NULL);
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
  return rc;
}

int mn_store_sched_snapshot(struct mn_store *s, struct mn_sched_snapshot *out) {
  memset(out, 0, sizeof *out);
  /* functions first: every function of an invocation read afterwards is
   * then known (invocations only ever gain functions, never lose them
   * except through a project deletion, which only the scheduler does) */
  int rc = load_functions(s, out);
  if (rc == 0)
    rc = load_invocations(s, out);
  if (rc)
    mn_sched_snapshot_release(out);
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
