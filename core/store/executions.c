/* Executions as workers see them: get, and the guarded start / update /
 * finish of the worker protocol. */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"
#include "util/clock.h"

/* $1 project, $2 version (NULL: latest), $3 function, $4 invocation,
 * $5 execution. */
static const struct mn_db_stmt stmt_get = {
    "mn_execution_get",
    "WITH " MN_SQL_VE
    " SELECT " MN_SQL_INVOCATION_ROW("pr.project_name", MN_SQL_VID, "f", "i", "par", "e")
    MN_SQL_PATH_INVOCATION
    " LEFT JOIN executions e ON e.project_name = $1"
    "  AND e.version_id = " MN_SQL_VID " AND e.function_name = $3"
    "  AND e.invocation_id = $4 AND e.execution_id = $5",
    5, true, 0};

/* A guarded update of one execution, then its standard row; $6 is now.
 * No NOTIFY: nothing the scheduler decides changes when a worker starts,
 * reports progress or finishes (the attempt holds its slot until the
 * provider reports the worker ended), and waking it for each would cost a
 * pass per call. */
#define GUARDED_UPDATE(set, guard)                                              \
  "WITH " MN_SQL_VE ", ue AS (UPDATE executions x SET " set                    \
  "  WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID                  \
  "  AND x.function_name = $3 AND x.invocation_id = $4 AND x.execution_id = $5" \
  "  AND " guard " RETURNING x.*)"                                              \
  " SELECT " MN_SQL_INVOCATION_ROW("ue.project_name", "ue.version_id", "f", "i", "par", "ue") \
  " FROM ue JOIN functions f ON f.project_name = ue.project_name"               \
  "  AND f.version_id = ue.version_id AND f.function_name = ue.function_name"   \
  " JOIN invocations i ON i.project_name = ue.project_name"                     \
  "  AND i.version_id = ue.version_id AND i.function_name = ue.function_name"   \
  "  AND i.invocation_id = ue.invocation_id"                                    \
  MN_SQL_PARENT_OF("i")

/* The worker's own key, checked in the same statement as the write (the
 * API's shortcut for an execution's key, docs/security.md): NULL, or the
 * SHA-256 hex the execution's token_hash must be. */
#define KEY_GUARD(n) " AND ($" #n "::text IS NULL OR x.token_hash = $" #n ")"

#define RUNNING_GUARD                                                           \
  "x.execution_start_time IS NOT NULL AND x.execution_finish_time IS NULL"      \
  " AND x.worker_status <> 'TERMINATED'"

/* $7 claim token (NULL: none), $8 key. A start, or the replay of one by the same
 * claimant, which changes nothing. */
static const struct mn_db_stmt stmt_start = {
    "mn_execution_start",
    GUARDED_UPDATE("execution_start_time = coalesce(x.execution_start_time, $6::bigint),"
                   " last_update_time = CASE WHEN x.execution_start_time IS NULL"
                   "  THEN $6::bigint ELSE x.last_update_time END,"
                   " claim_token = coalesce(x.claim_token, $7)",
                   "x.worker_status <> 'TERMINATED' AND (x.execution_start_time IS NULL"
                   " OR ($7::text IS NOT NULL AND x.claim_token = $7"
                   "  AND x.execution_finish_time IS NULL))" KEY_GUARD(8)),
    8, false, 0};

/* $7 latest_output, $8 key */
static const struct mn_db_stmt stmt_update = {
    .name = "mn_execution_update",
    .sql = GUARDED_UPDATE("output = $7, last_update_time = $6::bigint, heartbeat_time = $6::bigint",
                   RUNNING_GUARD KEY_GUARD(8)),
    .n_params = 8,
    .flags = MN_DB_COMMIT_ASYNC};

/* A heartbeat: the worker is alive (heartbeat_timeout_seconds), no progress
 * stored. */
static const struct mn_db_stmt stmt_heartbeat = {
    .name = "mn_execution_heartbeat",
    .sql = GUARDED_UPDATE("heartbeat_time = $6::bigint", RUNNING_GUARD KEY_GUARD(7)),
    .n_params = 7,
    .flags = MN_DB_COMMIT_ASYNC};

/* $7 outcome, $8 final_output, $9 error_message (NULL: keep), $10 key */
static const struct mn_db_stmt stmt_finish = {
    "mn_execution_finish",
    GUARDED_UPDATE("execution_finish_time = $6::bigint, last_update_time = $6::bigint,"
                   " outcome = $7, output = coalesce($8, x.output),"
                   " error_message = coalesce($9, x.error_message)",
                   RUNNING_GUARD KEY_GUARD(10)),
    10, false, 0};

/* What a worker call requires of the execution. */
enum requirement { NEEDS_NOT_STARTED = 1, NEEDS_STARTED = 2, NEEDS_NOT_FINISHED = 4 };

static bool key_valid(const struct mn_function_key *fk) {
  return fk && fk->project_name && fk->version_ref && fk->function_name;
}

int mn_store_get_execution(struct mn_store *s, const struct mn_function_key *fk,
                           const char *invocation_id, const char *execution_id,
                           struct mn_invocation *out) {
  if (!key_valid(fk) || !invocation_id || !execution_id)
    return MN_EINVAL;
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id, execution_id};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_get, params, &r);
  if (rc == 0)
    rc = mn_sql_path_error(r, MN_DEPTH_EXECUTION);
  if (rc == 0 && out) {
    rc = mn_sql_invocation_info(r, out);
    if (rc < 0)
      mn_invocation_release(out);
  }
  PQclear(r);
  return rc;
}

/* Why a guarded update did not apply, from the execution as it is now, in
 * the documented order. */
static int refusal(const struct mn_execution *e, unsigned needs) {
  bool started = e->execution_start_time != MN_TIME_NULL;
  bool finished = e->execution_finish_time != MN_TIME_NULL;
  if ((needs & NEEDS_STARTED) && !started)
    return MN_EEXECUTION_NOT_STARTED;
  if ((needs & NEEDS_NOT_STARTED) && started)
    return MN_EEXECUTION_STARTED;
  if ((needs & NEEDS_NOT_FINISHED) && finished)
    return MN_EEXECUTION_FINISHED;
  if (e->worker_status == MN_WORKER_TERMINATED)
    return MN_EEXECUTION_TERMINATED;
  return MN_EEXECUTION_NOT_FOUND;
}

/* params[stmt->n_params - 1] is the key (NULL: none). One statement when
 * the write applies; when it does not, the reason is read (without a key:
 * a key that did not match is the caller's to look into). */
static int worker_call(struct mn_store *s, const struct mn_db_stmt *stmt, unsigned needs,
                       const char *const *params, const struct mn_function_key *fk,
                       struct mn_invocation *out) {
  PGresult *r;
  int rc = mn_db_query(s, stmt, params, &r);
  if (rc == 0 && PQntuples(r) > 0) {
    if (out) {
      rc = mn_sql_invocation_info(r, out);
      if (rc < 0)
        mn_invocation_release(out);
    }
  } else if (rc == 0 && params[stmt->n_params - 1]) {
    rc = MN_EAPI_KEY_INVALID;
  } else if (rc == 0) {
    struct mn_invocation cur = {0};
    rc = mn_store_get_execution(s, fk, params[3], params[4], &cur);
    if (rc == 0)
      rc = refusal(&cur.executions[0], needs);
    mn_invocation_release(&cur);
  }
  PQclear(r);
  return rc;
}

int mn_store_claim_execution(struct mn_store *s, const struct mn_function_key *fk,
                             const char *invocation_id, const char *execution_id,
                             const char *key_hash, const char *claim_token, int64_t now,
                             struct mn_invocation *out) {
  if (!key_valid(fk) || !invocation_id || !execution_id)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id, execution_id,
                          mn_sql_time(t, now), claim_token, key_hash};
  return worker_call(s, &stmt_start, NEEDS_NOT_STARTED, params, fk, out);
}

int mn_store_start_execution(struct mn_store *s, const struct mn_function_key *fk,
                             const char *invocation_id, const char *execution_id,
                             int64_t now, struct mn_invocation *out) {
  return mn_store_claim_execution(s, fk, invocation_id, execution_id, NULL, NULL, now, out);
}

int mn_store_update_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, const char *execution_id,
                              const char *key_hash, const char *latest_output, int64_t now,
                              struct mn_invocation *out) {
  if (!key_valid(fk) || !invocation_id || !execution_id || !latest_output)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {fk->project_name,  mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id,
                          execution_id,      mn_sql_time(t, now),
                          latest_output,     key_hash};
  return worker_call(s, &stmt_update, NEEDS_STARTED | NEEDS_NOT_FINISHED, params, fk, out);
}

int mn_store_finish_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, const char *execution_id,
                              const char *key_hash, enum mn_outcome outcome, const char *final_output,
                              const char *error_message, int64_t now,
                              struct mn_invocation *out) {
  const char *outcome_str = mn_outcome_str(outcome);
  if (!key_valid(fk) || !invocation_id || !execution_id || !outcome_str)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {fk->project_name,  mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id,
                          execution_id,      mn_sql_time(t, now),
                          outcome_str,       final_output,
                          error_message,     key_hash};
  return worker_call(s, &stmt_finish, NEEDS_STARTED | NEEDS_NOT_FINISHED, params, fk, out);
}

int mn_store_heartbeat_execution(struct mn_store *s, const struct mn_function_key *fk,
                                 const char *invocation_id, const char *execution_id,
                                 const char *key_hash, int64_t now, struct mn_invocation *out) {
  if (!key_valid(fk) || !invocation_id || !execution_id)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {fk->project_name,  mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id,
                          execution_id,      mn_sql_time(t, now),
                          key_hash};
  return worker_call(s, &stmt_heartbeat, NEEDS_STARTED | NEEDS_NOT_FINISHED, params, fk, out);
}
