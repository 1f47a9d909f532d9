/* The scheduler's side of executions: creating an attempt, moving its
 * worker through PENDING -> PROVISIONING -> RUNNING -> TERMINATED, and
 * recording the termination signal. Every change is a guarded update. */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"
#include "multinode/common/ids.h"

/* $1 project, $2 version (NULL: latest), $3 function, $4 invocation,
 * $5 new execution id, $6 now. The invocation must be RUNNING; its
 * last_update_time is bumped and it is live (migration 5) in the same
 * statement, one row version rather than two (sched_writes.c). */
static const struct mn_db_stmt stmt_create = {
    "mn_execution_create",
    "WITH " MN_SQL_VE ","
    " iv AS (UPDATE invocations x SET last_update_time = $6::bigint, live = true"
    "  WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID
    "  AND x.function_name = $3 AND x.invocation_id = $4"
    "  AND x.invocation_status = 'RUNNING'"
    "  RETURNING x.project_name, x.version_id, x.function_name, x.invocation_id),"
    " ins AS (INSERT INTO executions (project_name, version_id, function_name,"
    "  invocation_id, execution_id, worker_status, creation_time, last_update_time)"
    "  SELECT iv.project_name, iv.version_id, iv.function_name, iv.invocation_id,"
    "  $5, 'PENDING', $6::bigint, $6::bigint FROM iv RETURNING *)"
    " SELECT " MN_SQL_EXECUTION_COLS("ins") ", pg_notify('multinode', 'execution') FROM ins",
    6, false, 0};

/* ... $5 execution, $6 expected status, $7 new status, $8 worker_details,
 * $9 error_message (NULL: keep), $10 now. Only the active scheduler makes
 * these changes and it wakes itself: no NOTIFY. */
static const struct mn_db_stmt stmt_transition = {
    .name = "mn_execution_transition",
    .sql = "WITH " MN_SQL_VE
    " UPDATE executions x SET worker_status = $7,"
    "  worker_details = coalesce($8::jsonb, x.worker_details),"
    "  error_message = coalesce($9, x.error_message), last_update_time = $10::bigint"
    " WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID
    "  AND x.function_name = $3 AND x.invocation_id = $4 AND x.execution_id = $5"
    "  AND x.worker_status = $6"
    " RETURNING x.execution_id",
    .n_params = 10,
    .flags = MN_DB_COMMIT_ASYNC};

/* ... $5 execution, $6 now. */
static const struct mn_db_stmt stmt_signal = {
    "mn_execution_signal",
    "WITH " MN_SQL_VE
    " UPDATE executions x SET termination_signal_time = $6::bigint,"
    "  last_update_time = $6::bigint"
    " WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID
    "  AND x.function_name = $3 AND x.invocation_id = $4 AND x.execution_id = $5"
    "  AND x.termination_signal_time IS NULL AND x.worker_status <> 'TERMINATED'"
    " RETURNING x.execution_id, pg_notify('multinode', 'execution')",
    6, false, 0};

static bool key_valid(const struct mn_function_key *fk) {
  return fk && fk->project_name && fk->version_ref && fk->function_name;
}

int mn_store_create_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, int64_t now,
                              struct mn_execution *out) {
  if (!key_valid(fk) || !invocation_id)
    return MN_EINVAL;
  char id[MN_ID_MAX], t[24];
  int rc = mn_id_new(MN_ID_PREFIX_EXECUTION, id);
  if (rc < 0)
    return rc;
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id, id, mn_sql_time(t, now)};
  PGresult *r;
  rc = mn_db_exec(s, &stmt_create, params, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_is_unique_violation(r) ? MN_EEXECUTION_EXISTS
                                      : mn_db_unexpected(stmt_create.name, r);
  if (rc == 0 && PQntuples(r) == 0) {
    /* Missing somewhere on the path, or no longer RUNNING. */
    struct mn_invocation cur = {0};
    rc = mn_store_get_invocation(s, fk, invocation_id, &cur);
    if (rc == 0)
      rc = MN_EINVOCATION_TERMINATED;
    mn_invocation_release(&cur);
  } else if (rc == 0 && out) {
    if ((rc = mn_sql_execution(r, 0, 0, out)) < 0)
      mn_execution_release(out);
  }
  PQclear(r);
  return rc;
}

/* After a guarded update matched nothing: 0 (not applied) when the
 * execution exists, else its existence error. */
static int not_applied(struct mn_store *s, const struct mn_function_key *fk,
                       const char *invocation_id, const char *execution_id) {
  return mn_store_get_execution(s, fk, invocation_id, execution_id, NULL);
}

int mn_store_transition_execution(struct mn_store *s, const struct mn_function_key *fk,
                                  const char *invocation_id, const char *execution_id,
                                  enum mn_worker_status from, enum mn_worker_status to,
                                  const json_t *worker_details, const char *error_message,
                                  int64_t now, bool *applied) {
  if (!key_valid(fk) || !invocation_id || !execution_id || !applied)
    return MN_EINVAL;
  *applied = false;
  char t[24];
  char *details = worker_details ? json_dumps(worker_details, JSON_COMPACT) : NULL;
  if (worker_details && !details)
    return MN_ENOMEM;
  const char *params[] = {fk->project_name,
                          mn_sql_version_param(fk->version_ref),
                          fk->function_name,
                          invocation_id,
                          execution_id,
                          mn_worker_status_str(from),
                          mn_worker_status_str(to),
                          details,
                          error_message,
                          mn_sql_time(t, now)};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_transition, params, &r);
  if (rc == 0 && PQntuples(r) > 0)
    *applied = true;
  else if (rc == 0)
    rc = not_applied(s, fk, invocation_id, execution_id);
  PQclear(r);
  free(details);
  return rc;
}

int mn_store_signal_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, const char *execution_id,
                              int64_t now, bool *applied) {
  if (!key_valid(fk) || !invocation_id || !execution_id || !applied)
    return MN_EINVAL;
  *applied = false;
  char t[24];
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id, execution_id,
                          mn_sql_time(t, now)};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_signal, params, &r);
  if (rc == 0 && PQntuples(r) > 0)
    *applied = true;
  else if (rc == 0)
    rc = not_applied(s, fk, invocation_id, execution_id);
  PQclear(r);
  return rc;
}
