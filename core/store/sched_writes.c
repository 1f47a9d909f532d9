#include "store/sched_writes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/pg_array.h"
#include "store/sql.h"

/* $1..$5: arrays of project, version, function, invocation, execution. */
#define KEYS_FROM                                                              \
  " unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"       \
  " AS k(project_name, version_id, function_name, invocation_id, execution_id)"

static const struct mn_db_stmt stmt_cancel_many = {
    .name = "mn_sched_cancel_many",
    .sql = "UPDATE invocations i SET cancellation_request_time = $6::bigint,"
    " last_update_time = $6::bigint FROM" KEYS_FROM
    " WHERE i.project_name = k.project_name AND i.version_id = k.version_id"
    "  AND i.function_name = k.function_name AND i.invocation_id = k.invocation_id"
    "  AND i.invocation_status = 'RUNNING' AND i.cancellation_request_time IS NULL"
    " RETURNING i.invocation_id",
    .n_params = 6,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

static const struct mn_db_stmt stmt_terminate_many = {
    .name = "mn_sched_terminate_many",
    .sql = "UPDATE invocations i SET invocation_status = 'TERMINATED',"
    " last_update_time = $7::bigint, termination_reason = k.reason"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    " AS k(project_name, version_id, function_name, invocation_id, execution_id, reason)"
    " WHERE i.project_name = k.project_name AND i.version_id = k.version_id"
    "  AND i.function_name = k.function_name AND i.invocation_id = k.invocation_id"
    "  AND i.invocation_status = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM executions e"
    "   WHERE e.project_name = i.project_name AND e.version_id = i.version_id"
    "   AND e.function_name = i.function_name AND e.invocation_id = i.invocation_id"
    "   AND e.worker_status <> 'TERMINATED')"
    " RETURNING i.invocation_id",
    .n_params = 7,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

/* $6: the hash of each execution's key (docs/security.md, "Execution
 * keys"), recorded with the row, before any provider call: the launch needs
 * no write of its own for it. live is set here too (the trigger of
 * migration 5 then finds the row already live): one version of the
 * invocation's row per launch instead of two. */
static const struct mn_db_stmt stmt_create_many = {
    .name = "mn_sched_create_executions",
    .sql = "WITH iv AS (UPDATE invocations i SET last_update_time = $7::bigint, waiting = false,"
    " blocked = false, live = true"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    " AS k(project_name, version_id, function_name, invocation_id, execution_id, key_hash)"
    " WHERE i.project_name = k.project_name AND i.version_id = k.version_id"
    "  AND i.function_name = k.function_name AND i.invocation_id = k.invocation_id"
    "  AND i.invocation_status = 'RUNNING'"
    " RETURNING i.project_name, i.version_id, i.function_name, i.invocation_id,"
    "  k.execution_id, k.key_hash)"
    " INSERT INTO executions (project_name, version_id, function_name, invocation_id,"
    "  execution_id, worker_status, creation_time, last_update_time, token_hash)"
    " SELECT project_name, version_id, function_name, invocation_id, execution_id,"
    "  'PROVISIONING', $7::bigint, $7::bigint, key_hash FROM iv"
    " RETURNING execution_id",
    .n_params = 7,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

static const struct mn_db_stmt stmt_ended_many = {
    .name = "mn_sched_workers_ended",
    .sql = "UPDATE executions e SET worker_status = 'TERMINATED', last_update_time = $7::bigint,"
    " error_message = CASE WHEN e.outcome IS NULL THEN coalesce(e.error_message, r.reason)"
    "  ELSE e.error_message END"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    " AS r(project_name, version_id, function_name, invocation_id, execution_id, reason)"
    " WHERE e.project_name = r.project_name AND e.version_id = r.version_id"
    "  AND e.function_name = r.function_name AND e.invocation_id = r.invocation_id"
    "  AND e.execution_id = r.execution_id AND e.worker_status = 'RUNNING'"
    " RETURNING e.execution_id",
    .n_params = 7,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

/* Launched workers, batched by the launch jobs that end together (jobs.c).
 * Only the active scheduler makes this change and it wakes itself: no
 * NOTIFY (as the single transition it replaces). */
static const struct mn_db_stmt stmt_running_many = {
    .name = "mn_sched_workers_running",
    .sql = "UPDATE executions e SET worker_status = 'RUNNING', worker_details = r.details::jsonb,"
    " last_update_time = $7::bigint"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    " AS r(project_name, version_id, function_name, invocation_id, execution_id, details)"
    " WHERE e.project_name = r.project_name AND e.version_id = r.version_id"
    "  AND e.function_name = r.function_name AND e.invocation_id = r.invocation_id"
    "  AND e.execution_id = r.execution_id AND e.worker_status = 'PROVISIONING'"
    " RETURNING e.execution_id",
    .n_params = 7,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

/* The timing of invocations (migration 7): waiting, eligible_at, blocked
 * and the next wake (deadline) as the pass decided them. */
static const struct mn_db_stmt stmt_timing = {
    .name = "mn_sched_timing",
    .sql = "UPDATE invocations i SET waiting = k.w, eligible_at = k.e, blocked = k.b, deadline = k.d"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[],"
    "  $6::bigint[], $7::boolean[], $8::bigint[]) AS k(p, v, f, id, w, e, b, d)"
    " WHERE i.project_name = k.p AND i.version_id = k.v AND i.function_name = k.f"
    "  AND i.invocation_id = k.id AND i.invocation_status = 'RUNNING'",
    .n_params = 8,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

/* Back into the queue: the first $5[i] blocked invocations of each
 * concurrency key ($1-$4), in queue order (one index range per key). */
static const struct mn_db_stmt stmt_unblock = {
    .name = "mn_sched_unblock",
    .sql = "UPDATE invocations i SET blocked = false FROM ("
    " SELECT b.project_name, b.version_id, b.function_name, b.invocation_id"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[])"
    "  AS k(p, v, f, ck, n)"
    " CROSS JOIN LATERAL (SELECT x.project_name, x.version_id, x.function_name,"
    "  x.invocation_id FROM invocations x WHERE x.project_name = k.p"
    "  AND x.version_id = k.v AND x.function_name = k.f AND x.concurrency_key = k.ck"
    "  AND x.invocation_status = 'RUNNING' AND x.blocked"
    "  ORDER BY x.priority DESC, x.creation_time, x.invocation_id LIMIT k.n) b) u"
    " WHERE i.project_name = u.project_name AND i.version_id = u.version_id"
    "  AND i.function_name = u.function_name AND i.invocation_id = u.invocation_id"
    " RETURNING i.invocation_id",
    .n_params = 5,
    .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN};

/* An attempt that ran too long or stopped heartbeating: FAILED now, with
 * its termination signal (the provider stops the worker). Its commit waits
 * for the disk, like every termination signal (sent at most once). */
static const struct mn_db_stmt stmt_fail_attempt = {
    .name = "mn_sched_fail_attempt",
    .sql = "UPDATE executions SET outcome = 'FAILED', error_message = $6,"
    " execution_finish_time = $7::bigint, last_update_time = $7::bigint,"
    " termination_signal_time = coalesce(termination_signal_time, $7::bigint)"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND execution_id = $5 AND worker_status = 'RUNNING'"
    "  AND outcome IS NULL RETURNING execution_id",
    .n_params = 7};

/* Runs st with the key arrays (+ extra array, + now); marks applied[i]
 * for the rows whose `id_of(key)` came back. */
static int run_many(struct mn_store *s, const struct mn_db_stmt *st,
                    const struct mn_sched_key *keys, const char *const *extra, size_t n,
                    int64_t now, bool by_execution, bool *applied, const char *what) {
  if (applied)
    memset(applied, 0, n * sizeof *applied);
  if (n == 0)
    return 0;
  struct mn_pg_array arr[6];
  for (int a = 0; a < 6; a++)
    mn_pg_array_init(&arr[a]);
  for (size_t i = 0; i < n; i++) {
    mn_pg_array_add(&arr[0], keys[i].project);
    mn_pg_array_add(&arr[1], keys[i].version);
    mn_pg_array_add(&arr[2], keys[i].function);
    mn_pg_array_add(&arr[3], keys[i].invocation_id);
    mn_pg_array_add(&arr[4], keys[i].execution_id);
    if (extra)
      mn_pg_array_add(&arr[5], extra[i]);
  }
  char t[24];
  const char *params[7];
  int np = extra ? 6 : 5, rc = 0;
  for (int a = 0; a < np; a++)
    if (!(params[a] = mn_pg_array_text(&arr[a])))
      rc = MN_ENOMEM;
  params[np] = mn_sql_time(t, now);
  PGresult *r = NULL;
  if (rc == 0) {
    rc = mn_db_exec(s, st, params, &r);
    if (rc == MN_EINTERNAL)
      rc = mn_db_unexpected(what, r);
  }
  if (rc == 0 && applied) {
    /* ids are unique: match them back (n is a pass's worth, small) */
    for (int row = 0; row < PQntuples(r); row++) {
      const char *id = PQgetvalue(r, row, 0);
      for (size_t i = 0; i < n; i++) {
        const char *mine = by_execution ? keys[i].execution_id : keys[i].invocation_id;
        if (mine && strcmp(mine, id) == 0) {
          applied[i] = true;
          break;
        }
      }
    }
  }
  PQclear(r);
  for (int a = 0; a < 6; a++)
    mn_pg_array_release(&arr[a]);
  return rc;
}

int mn_store_sched_cancel_many(struct mn_store *s, const struct mn_sched_key *keys, size_t n,
                               int64_t now, bool *applied) {
  return run_many(s, &stmt_cancel_many, keys, NULL, n, now, false, applied, "cancel many");
}

int mn_store_sched_terminate_many(struct mn_store *s, const struct mn_sched_key *keys,
                                  const char *const *reasons, size_t n, int64_t now,
                                  bool *applied) {
  const char **none = reasons ? NULL : calloc(n ? n : 1, sizeof *none);
  if (!reasons && !none)
    return MN_ENOMEM;
  int rc = run_many(s, &stmt_terminate_many, keys, reasons ? reasons : none, n, now, false,
                    applied, "terminate many");
  free(none);
  return rc;
}

static const char *bool_text(bool b) { return b ? "t" : "f"; }

int mn_store_sched_set_timing(struct mn_store *s, const struct mn_sched_key *keys,
                              const struct mn_sched_timing *t, size_t n) {
  if (n == 0)
    return 0;
  struct mn_pg_array arr[8];
  for (int a = 0; a < 8; a++)
    mn_pg_array_init(&arr[a]);
  for (size_t i = 0; i < n; i++) {
    char e[24], d[24];
    mn_pg_array_add(&arr[0], keys[i].project);
    mn_pg_array_add(&arr[1], keys[i].version);
    mn_pg_array_add(&arr[2], keys[i].function);
    mn_pg_array_add(&arr[3], keys[i].invocation_id);
    mn_pg_array_add(&arr[4], bool_text(t[i].waiting));
    mn_pg_array_add(&arr[5], mn_sql_time(e, t[i].eligible_at));
    mn_pg_array_add(&arr[6], bool_text(t[i].blocked));
    mn_pg_array_add(&arr[7], mn_sql_time(d, t[i].deadline));
  }
  const char *params[8];
  int rc = 0;
  for (int a = 0; a < 8; a++)
    if (!(params[a] = mn_pg_array_text(&arr[a])))
      rc = MN_ENOMEM;
  PGresult *r = NULL;
  if (rc == 0) {
    rc = mn_db_exec(s, &stmt_timing, params, &r);
    if (rc == MN_EINTERNAL)
      rc = mn_db_unexpected("invocation timing", r);
  }
  PQclear(r);
  for (int a = 0; a < 8; a++)
    mn_pg_array_release(&arr[a]);
  return rc;
}

int mn_store_sched_unblock(struct mn_store *s, const struct mn_function_key *fks,
                           const char *const *keys, const int *counts, size_t n,
                           int *n_unblocked) {
  if (n_unblocked)
    *n_unblocked = 0;
  if (n == 0)
    return 0;
  struct mn_pg_array arr[5];
  for (int a = 0; a < 5; a++)
    mn_pg_array_init(&arr[a]);
  for (size_t i = 0; i < n; i++) {
    char c[16];
    snprintf(c, sizeof c, "%d", counts[i]);
    mn_pg_array_add(&arr[0], fks[i].project_name);
    mn_pg_array_add(&arr[1], fks[i].version_ref);
    mn_pg_array_add(&arr[2], fks[i].function_name);
    mn_pg_array_add(&arr[3], keys[i]);
    mn_pg_array_add(&arr[4], c);
  }
  const char *params[5];
  int rc = 0;
  for (int a = 0; a < 5; a++)
    if (!(params[a] = mn_pg_array_text(&arr[a])))
      rc = MN_ENOMEM;
  PGresult *r = NULL;
  if (rc == 0) {
    rc = mn_db_exec(s, &stmt_unblock, params, &r);
    if (rc == MN_EINTERNAL)
      rc = mn_db_unexpected("unblock", r);
  }
  if (rc == 0 && n_unblocked)
    *n_unblocked = PQntuples(r);
  PQclear(r);
  for (int a = 0; a < 5; a++)
    mn_pg_array_release(&arr[a]);
  return rc;
}

int mn_store_sched_fail_attempt(struct mn_store *s, const struct mn_sched_key *k,
                                const char *reason, int64_t now, bool *applied) {
  char t[24];
  const char *params[] = {k->project, k->version, k->function, k->invocation_id,
                          k->execution_id, reason, mn_sql_time(t, now)};
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_fail_attempt, params, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("fail attempt", r);
  if (applied)
    *applied = rc == 0 && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

int mn_store_sched_create_executions(struct mn_store *s, const struct mn_sched_key *keys,
                                     const char *const *key_hashes, size_t n, int64_t now,
                                     bool *applied) {
  return run_many(s, &stmt_create_many, keys, key_hashes, n, now, true, applied,
                  "create executions");
}

int mn_store_sched_workers_ended(struct mn_store *s, const struct mn_sched_key *keys,
                                 const char *const *reasons, size_t n, int64_t now,
                                 bool *applied) {
  return run_many(s, &stmt_ended_many, keys, reasons, n, now, true, applied, "workers ended");
}

int mn_store_sched_workers_running(struct mn_store *s, const struct mn_sched_key *keys,
                                   const char *const *worker_details, size_t n, int64_t now,
                                   bool *applied) {
  return run_many(s, &stmt_running_many, keys, worker_details, n, now, true, applied,
                  "workers running");
}
