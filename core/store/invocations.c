/* Invocations: create, get, cancel, terminate. Each is one statement (one
 * round trip on success) that returns the standard invocation row (sql.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

#define EXECUTIONS_OF(a)                                                        \
  " LEFT JOIN executions e ON e.project_name = " a ".project_name"             \
  "  AND e.version_id = " a ".version_id AND e.function_name = " a ".function_name" \
  "  AND e.invocation_id = " a ".invocation_id"                                 \
  " ORDER BY e.creation_time, e.execution_id"

/* $1 project, $2 version (NULL: latest), $3 function, $4 invocation. */
static const struct mn_db_stmt stmt_get = {
    "mn_invocation_get",
    "WITH " MN_SQL_VE
    " SELECT " MN_SQL_INVOCATION_ROW("pr.project_name", MN_SQL_VID, "f", "i", "par", "e")
    MN_SQL_PATH_INVOCATION
    " LEFT JOIN executions e ON e.project_name = $1 AND e.version_id = " MN_SQL_VID
    "  AND e.function_name = $3 AND e.invocation_id = i.invocation_id"
    " ORDER BY e.creation_time, e.execution_id",
    4, true, 0};

/* ... $5 parent function, $6 parent invocation, $7 input, $8 now,
 * $9 priority, $10 start_at (NULL: now), $11 concurrency key, $12
 * idempotency key. Eligible from max(now, start_at); timeout_seconds and
 * queue_timeout_seconds count from then. deadline is the first instant the
 * scheduler must look at it (migration 7): the timeout, the queue timeout,
 * or the delayed start. A second POST with the same idempotency key inserts
 * nothing (the unique index decides, also between concurrent POSTs). */
static const struct mn_db_stmt stmt_create = {
    "mn_invocation_create",
    "WITH " MN_SQL_VE ","
    " k AS (SELECT pr.project_name AS kp, " MN_SQL_VID " AS kv, f.function_name AS kf,"
    "  greatest($8::bigint, coalesce($10::bigint, 0)) AS base,"
    "  f.timeout_seconds AS t, f.queue_timeout_seconds AS qt"
    MN_SQL_PATH_FUNCTION "),"
    " ins AS (INSERT INTO invocations (project_name, version_id, function_name,"
    "  invocation_id, parent_function_name, parent_invocation_id, input,"
    "  cancellation_request_time, invocation_status, creation_time, last_update_time,"
    "  deadline, priority, start_at, concurrency_key, idempotency_key, eligible_at, waiting)"
    "  SELECT k.kp, k.kv, k.kf, $4, $5, $6, $7, NULL, 'RUNNING', $8::bigint, $8::bigint,"
    "  least(((k.base / 1000000) + k.t + 1) * 1000000, k.base + k.qt::bigint * 1000000,"
    "   CASE WHEN k.base > $8::bigint THEN k.base END),"
    "  $9::smallint, $10::bigint, $11, $12, k.base, k.base > $8::bigint"
    "  FROM k WHERE k.kf IS NOT NULL"
    "  ON CONFLICT (project_name, version_id, function_name, idempotency_key)"
    "   WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *)"
    " SELECT " MN_SQL_INVOCATION_ROW("k.kp", "k.kv", "f", "ins", "par", "e")
    /* the scheduler learns which function's queue grew (scheduler/queues.c) */
    ", (SELECT pg_notify('multinode', 'queue' || chr(31) || ins.project_name || chr(31)"
    "   || ins.version_id || chr(31) || ins.function_name) FROM ins)"
    " FROM k LEFT JOIN ins ON true"
    " LEFT JOIN functions f ON f.project_name = k.kp AND f.version_id = k.kv"
    "  AND f.function_name = k.kf"
    MN_SQL_PARENT_OF("ins")
    " LEFT JOIN executions e ON false",
    12, false, 0};

/* The invocation holding an idempotency key, and whether its input is $5. */
static const struct mn_db_stmt stmt_by_idempotency_key = {
    "mn_invocation_by_idempotency_key",
    "SELECT invocation_id, input = $5 FROM invocations WHERE project_name = $1"
    " AND version_id = $2 AND function_name = $3 AND idempotency_key = $4",
    5, true, 0};

/* A guarded update of one invocation, then its standard rows.
 * $1 project, $2 version (NULL: latest), $3 function, $4 invocation, $5 now. */
#define GUARDED_UPDATE(set, guard)                                              \
  "WITH " MN_SQL_VE ", u AS (UPDATE invocations x SET " set                    \
  "  WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID                  \
  "  AND x.function_name = $3 AND x.invocation_id = $4 AND " guard              \
  "  RETURNING x.*)"                                                            \
  " SELECT " MN_SQL_INVOCATION_ROW("u.project_name", "u.version_id", "f", "u", "par", "e")              \
  ", pg_notify('multinode', 'invocation')"                                      \
  " FROM u JOIN functions f ON f.project_name = u.project_name"                 \
  "  AND f.version_id = u.version_id AND f.function_name = u.function_name"     \
  MN_SQL_PARENT_OF("u") EXECUTIONS_OF("u")

static const struct mn_db_stmt stmt_cancel = {
    "mn_invocation_cancel",
    GUARDED_UPDATE("cancellation_request_time = $5::bigint, last_update_time = $5::bigint,"
                   " attention = nextval('invocations_attention_seq')",
                   "x.invocation_status = 'RUNNING'"),
    5, false, 0};

static const struct mn_db_stmt stmt_terminate = {
    "mn_invocation_terminate",
    GUARDED_UPDATE("invocation_status = 'TERMINATED', last_update_time = $5::bigint",
                   "x.invocation_status = 'RUNNING'"),
    5, false, 0};

const char *mn_store_invocation_get_sql(void) { return stmt_get.sql; }

static bool key_valid(const struct mn_function_key *fk) {
  return fk && fk->project_name && fk->version_ref && fk->function_name;
}

/* Decodes a standard result into *out (when not NULL). */
static int decode_info(const PGresult *r, struct mn_invocation *out) {
  if (!out)
    return 0;
  int rc = mn_sql_invocation_info(r, out);
  if (rc < 0)
    mn_invocation_release(out);
  return rc;
}

int mn_store_get_invocation(struct mn_store *s, const struct mn_function_key *fk,
                            const char *invocation_id, struct mn_invocation *out) {
  if (!key_valid(fk) || !invocation_id)
    return MN_EINVAL;
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_get, params, &r);
  if (rc == 0)
    rc = mn_sql_path_error(r, MN_DEPTH_INVOCATION);
  if (rc == 0)
    rc = decode_info(r, out);
  PQclear(r);
  return rc;
}

/* After a create that inserted nothing because of its idempotency key: the
 * first invocation (*out), or MN_EIDEMPOTENCY_CONFLICT when its input
 * differs. */
static int first_of_key(struct mn_store *s, const struct mn_function_key *fk,
                        const char *version_id, const struct mn_invocation_options *o,
                        const char *input, struct mn_invocation *out) {
  const char *params[] = {fk->project_name, version_id, fk->function_name,
                          o->idempotency_key, input};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_by_idempotency_key, params, &r);
  if (rc == 0 && PQntuples(r) < 1)
    rc = MN_EINTERNAL; /* the key's holder went away between the two statements */
  if (rc == 0 && PQgetvalue(r, 0, 1)[0] != 't')
    rc = MN_EIDEMPOTENCY_CONFLICT;
  if (rc == 0) {
    struct mn_function_key k = {fk->project_name, version_id, fk->function_name};
    struct mn_invocation tmp = {0};
    rc = mn_store_get_invocation(s, &k, PQgetvalue(r, 0, 0), out ? out : &tmp);
    mn_invocation_release(&tmp);
  }
  PQclear(r);
  return rc;
}

int mn_store_create_invocation(struct mn_store *s, const struct mn_function_key *fk,
                               const struct mn_parent_ref *parent, const char *input,
                               int64_t now, struct mn_invocation *out) {
  return mn_store_create_invocation_with(s, fk, parent, input, NULL, now, out);
}

int mn_store_create_invocation_with(struct mn_store *s, const struct mn_function_key *fk,
                                    const struct mn_parent_ref *parent, const char *input,
                                    const struct mn_invocation_options *opt, int64_t now,
                                    struct mn_invocation *out) {
  static const struct mn_invocation_options none = {.start_at = MN_TIME_NULL};
  if (!key_valid(fk) || !input ||
      (parent && (!parent->function_name || !parent->invocation_id)))
    return MN_EINVAL;
  if (!opt)
    opt = &none;
  char id[MN_ID_MAX], t[24], prio[16], start[24];
  int rc = mn_id_new(MN_ID_PREFIX_INVOCATION, id);
  if (rc < 0)
    return rc;
  snprintf(prio, sizeof prio, "%d", opt->priority);
  const char *params[] = {fk->project_name,
                          mn_sql_version_param(fk->version_ref),
                          fk->function_name,
                          id,
                          parent ? parent->function_name : NULL,
                          parent ? parent->invocation_id : NULL,
                          input,
                          mn_sql_time(t, now),
                          prio,
                          mn_sql_time(start, opt->start_at),
                          opt->concurrency_key,
                          opt->idempotency_key};
  PGresult *r;
  rc = mn_db_exec(s, &stmt_create, params, &r);
  if (rc == MN_EINTERNAL) {
    if (mn_db_is_fk_violation(r))
      rc = strcmp(mn_db_constraint(r), "invocations_parent_fkey") == 0
               ? MN_EPARENT_NOT_FOUND
               : MN_EFUNCTION_NOT_FOUND; /* the function went away meanwhile */
    else if (mn_db_is_unique_violation(r))
      rc = MN_EINVOCATION_EXISTS;
    else
      rc = mn_db_unexpected(stmt_create.name, r);
  }
  if (rc == 0)
    rc = mn_sql_path_error(r, MN_DEPTH_INVOCATION);
  if (rc == MN_EINVOCATION_NOT_FOUND && opt->idempotency_key) {
    char *version_id = strdup(PQgetvalue(r, 0, MN_COL_VERSION));
    rc = version_id ? first_of_key(s, fk, version_id, opt, input, out) : MN_ENOMEM;
    free(version_id);
    if (rc == 0 && opt->existed)
      *opt->existed = true;
  } else if (rc == 0) {
    rc = decode_info(r, out);
  }
  PQclear(r);
  return rc;
}

/* Runs a guarded update; when it matches nothing, finds out why (top-down
 * existence, then the invocation's state). */
static int guarded(struct mn_store *s, const struct mn_db_stmt *stmt,
                   const struct mn_function_key *fk, const char *invocation_id,
                   int64_t now, struct mn_invocation *out) {
  if (!key_valid(fk) || !invocation_id)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, invocation_id, mn_sql_time(t, now)};
  PGresult *r;
  int rc = mn_db_query(s, stmt, params, &r);
  if (rc == 0 && PQntuples(r) > 0)
    rc = decode_info(r, out);
  else if (rc == 0) {
    struct mn_invocation cur = {0};
    rc = mn_store_get_invocation(s, fk, invocation_id, &cur);
    if (rc == 0)
      rc = cur.invocation_status == MN_INVOCATION_TERMINATED ? MN_EINVOCATION_TERMINATED
                                                             : MN_EINTERNAL;
    mn_invocation_release(&cur);
  }
  PQclear(r);
  return rc;
}

int mn_store_cancel_invocation(struct mn_store *s, const struct mn_function_key *fk,
                               const char *invocation_id, int64_t now,
                               struct mn_invocation *out) {
  return guarded(s, &stmt_cancel, fk, invocation_id, now, out);
}

int mn_store_terminate_invocation(struct mn_store *s, const struct mn_function_key *fk,
                                  const char *invocation_id, int64_t now,
                                  struct mn_invocation *out) {
  return guarded(s, &stmt_terminate, fk, invocation_id, now, out);
}
