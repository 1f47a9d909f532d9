/* Executions as workers see them: get, and the guarded start / update /
 * finish of the worker protocol. */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/pg_array.h"
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
#define KEY_GUARD_ON(key) " AND (" key "::text IS NULL OR x.token_hash = " key ")"
#define KEY_GUARD(n) KEY_GUARD_ON("$" #n)

#define RUNNING_GUARD                                                           \
  "x.execution_start_time IS NOT NULL AND x.execution_finish_time IS NULL"      \
  " AND x.worker_status <> 'TERMINATED'"

/* A start, or the replay of one by the same claimant (`token`, NULL:
 * none), which changes nothing; `now` is the time. Written once for the
 * single statement and the grouped one. */
#define START_SET(now, token)                                                   \
  "execution_start_time = coalesce(x.execution_start_time, " now "),"           \
  " last_update_time = CASE WHEN x.execution_start_time IS NULL"                \
  "  THEN " now " ELSE x.last_update_time END,"                                 \
  " claim_token = coalesce(x.claim_token, " token ")"
#define START_GUARD(token)                                                      \
  "x.worker_status <> 'TERMINATED' AND (x.execution_start_time IS NULL"         \
  " OR (" token "::text IS NOT NULL AND x.claim_token = " token                 \
  "  AND x.execution_finish_time IS NULL))"

/* $7 claim token (NULL: none), $8 key. */
static const struct mn_db_stmt stmt_start = {
    "mn_execution_start",
    GUARDED_UPDATE(START_SET("$6::bigint", "$7"), START_GUARD("$7") KEY_GUARD(8)),
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

#define FINISH_SET(now, outcome, final_output, error_message)                   \
  "execution_finish_time = " now ", last_update_time = " now ","                 \
  " outcome = " outcome ", output = coalesce(" final_output ", x.output),"       \
  " error_message = coalesce(" error_message ", x.error_message)"

/* $7 outcome, $8 final_output, $9 error_message (NULL: keep), $10 key */
static const struct mn_db_stmt stmt_finish = {
    "mn_execution_finish",
    GUARDED_UPDATE(FINISH_SET("$6::bigint", "$7", "$8", "$9"), RUNNING_GUARD KEY_GUARD(10)),
    10, false, 0};

/* Group commit of /start and /finish (docs/architecture.md §4, "Group
 * commit of the worker's /start and /finish"). The handler threads' calls
 * queue in the store's start_group / finish_group (group_commit.h); a
 * leader runs the requests it finds queued as ONE statement, the same
 * guarded update over arrays: $1..$n are the single statement's parameters,
 * one array element per request, and WITH ORDINALITY numbers them, so each
 * returned row names its request (k.ord, the column after the standard
 * row). The guards are the single statement's (START_GUARD, RUNNING_GUARD,
 * KEY_GUARD_ON), on the request's own values; the commit waits for the disk
 * as the single statement's does (one flush for the group). A request
 * whose row did not come back takes the single path's refusal read. Only
 * requests naming their version by id are grouped (the executions' key
 * then holds it: no "latest" to resolve); two for the same execution are
 * never in one group (an UPDATE applies one of them only), the later runs
 * alone after it. A group of one runs the single statement. */
#define GROUPED_UPDATE(cols, types, set, guard)                                 \
  "WITH ue AS (UPDATE executions x SET " set                                   \
  " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"    \
  "  $6::bigint[], " types ") WITH ORDINALITY AS k(project_name, version_id,"   \
  "  function_name, invocation_id, execution_id, t, " cols ", ord)"             \
  "  WHERE x.project_name = k.project_name AND x.version_id = k.version_id"     \
  "  AND x.function_name = k.function_name AND x.invocation_id = k.invocation_id" \
  "  AND x.execution_id = k.execution_id AND " guard " RETURNING x.*, k.ord)"   \
  " SELECT " MN_SQL_INVOCATION_ROW("ue.project_name", "ue.version_id", "f", "i", "par", "ue") \
  ", ue.ord FROM ue JOIN functions f ON f.project_name = ue.project_name"       \
  "  AND f.version_id = ue.version_id AND f.function_name = ue.function_name"   \
  " JOIN invocations i ON i.project_name = ue.project_name"                     \
  "  AND i.version_id = ue.version_id AND i.function_name = ue.function_name"   \
  "  AND i.invocation_id = ue.invocation_id"                                    \
  MN_SQL_PARENT_OF("i")

static const struct mn_db_stmt stmt_start_many = {
    .name = "mn_execution_start_many",
    .sql = GROUPED_UPDATE("claim_token, key_hash", "$7::text[], $8::text[]",
                          START_SET("k.t", "k.claim_token"),
                          START_GUARD("k.claim_token") KEY_GUARD_ON("k.key_hash")),
    .n_params = 8,
    .flags = MN_DB_GENERIC_PLAN};

static const struct mn_db_stmt stmt_finish_many = {
    .name = "mn_execution_finish_many",
    .sql = GROUPED_UPDATE("outcome, final_output, error_message, key_hash",
                          "$7::text[], $8::text[], $9::text[], $10::text[]",
                          FINISH_SET("k.t", "k.outcome", "k.final_output", "k.error_message"),
                          RUNNING_GUARD KEY_GUARD_ON("k.key_hash")),
    .n_params = 10,
    .flags = MN_DB_GENERIC_PLAN};

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

/* The answer to a guarded update that did not apply; key: the caller's
 * (NULL: none). Without a key the reason is read; a key that did not match
 * is the caller's to look into. */
static int refused(struct mn_store *s, unsigned needs, const char *const *params,
                   const char *key, const struct mn_function_key *fk) {
  if (key)
    return MN_EAPI_KEY_INVALID;
  struct mn_invocation cur = {0};
  int rc = mn_store_get_execution(s, fk, params[3], params[4], &cur);
  if (rc == 0)
    rc = refusal(&cur.executions[0], needs);
  mn_invocation_release(&cur);
  return rc;
}

/* params[stmt->n_params - 1] is the key (NULL: none). One statement when
 * the write applies; when it does not, the reason is read (refused). */
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
  } else if (rc == 0) {
    rc = refused(s, needs, params, params[stmt->n_params - 1], fk);
  }
  PQclear(r);
  return rc;
}

/* ---- Groups (GROUPED_UPDATE above) ---------------------------------- */

enum grouped_state {
  GROUPED_APPLIED, /* rc: 0, or a decoding failure (out released) */
  GROUPED_REFUSED, /* the row did not come back: refused() */
  GROUPED_ALONE,   /* not run: worker_call() by the caller */
  GROUPED_FAILED   /* rc: the statement's failure */
};

struct grouped {
  struct mn_group_req link; /* first: the group hands back this pointer */
  const char *const *params;  /* the single statement's */
  struct mn_invocation *out;  /* NULL: not wanted */
  enum grouped_state state;
  int rc;
};

static void grouped_row(struct grouped *q, const PGresult *r, int row) {
  q->state = GROUPED_APPLIED;
  q->rc = 0;
  if (q->out) {
    q->rc = mn_sql_invocation_info_row(r, row, q->out);
    if (q->rc < 0)
      mn_invocation_release(q->out);
  }
}

/* The leader's work: reqs[0..n) through `single` (one request) or `many`. */
static void run_grouped(struct mn_store *s, const struct mn_db_stmt *single,
                        const struct mn_db_stmt *many, struct mn_group_req **reqs, size_t n) {
  struct grouped *batch[MN_GROUP_MAX];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    struct grouped *q = (struct grouped *)reqs[i];
    q->state = GROUPED_ALONE;
    bool twice = false;
    for (size_t j = 0; j < m && !twice; j++)
      twice = strcmp(batch[j]->params[4], q->params[4]) == 0;
    if (!twice)
      batch[m++] = q;
  }
  const struct mn_db_stmt *st = m == 1 ? single : many;
  struct mn_pg_array arr[10];
  const char *params[10];
  int np = st->n_params, rc = 0;
  for (int a = 0; a < np; a++)
    mn_pg_array_init(&arr[a]);
  if (m == 1) {
    for (int a = 0; a < np; a++)
      params[a] = batch[0]->params[a];
  } else {
    for (int a = 0; a < np; a++) {
      for (size_t i = 0; i < m; i++)
        mn_pg_array_add(&arr[a], batch[i]->params[a]);
      if (!(params[a] = mn_pg_array_text(&arr[a])))
        rc = MN_ENOMEM;
    }
  }
  PGresult *r = NULL;
  if (rc == 0)
    rc = mn_db_exec(s, st, params, &r);
  if (rc == 0) {
    for (size_t i = 0; i < m; i++)
      batch[i]->state = GROUPED_REFUSED;
    for (int row = 0; row < PQntuples(r); row++) {
      long ord = m == 1 ? 1 : strtol(PQgetvalue(r, row, MN_COL_END), NULL, 10);
      if (ord >= 1 && (size_t)ord <= m && batch[ord - 1]->state == GROUPED_REFUSED)
        grouped_row(batch[ord - 1], r, row);
    }
  } else if (rc == MN_EINTERNAL && m > 1) {
    /* an SQL error: logged, and each request runs alone (one bad value
     * then fails only its own call) */
    (void)mn_db_unexpected(st->name, r);
  } else {
    if (rc == MN_EINTERNAL) /* the single statement: as worker_call */
      rc = mn_db_unexpected(st->name, r);
    for (size_t i = 0; i < m; i++) {
      batch[i]->state = GROUPED_FAILED;
      batch[i]->rc = rc;
    }
  }
  PQclear(r);
  for (int a = 0; a < np; a++)
    mn_pg_array_release(&arr[a]);
}

static void run_starts(void *ctx, struct mn_group_req **reqs, size_t n) {
  run_grouped(ctx, &stmt_start, &stmt_start_many, reqs, n);
}

static void run_finishes(void *ctx, struct mn_group_req **reqs, size_t n) {
  run_grouped(ctx, &stmt_finish, &stmt_finish_many, reqs, n);
}

void mn_execution_groups_init(struct mn_store *s) {
  mn_group_init(&s->start_group, MN_GROUP_MAX, run_starts, s);
  mn_group_init(&s->finish_group, MN_GROUP_MAX, run_finishes, s);
}

void mn_execution_groups_release(struct mn_store *s) {
  mn_group_release(&s->start_group);
  mn_group_release(&s->finish_group);
}

/* worker_call, through group g when the version is named by id. */
static int grouped_call(struct mn_store *s, struct mn_group *g, const struct mn_db_stmt *stmt,
                        unsigned needs, const char *const *params,
                        const struct mn_function_key *fk, struct mn_invocation *out) {
  if (!params[1])
    return worker_call(s, stmt, needs, params, fk, out);
  struct grouped q = {.params = params, .out = out};
  mn_group_submit(g, &q.link);
  switch (q.state) {
  case GROUPED_APPLIED:
  case GROUPED_FAILED:
    return q.rc;
  case GROUPED_REFUSED:
    return refused(s, needs, params, params[stmt->n_params - 1], fk);
  case GROUPED_ALONE:
    break;
  }
  return worker_call(s, stmt, needs, params, fk, out);
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
  return grouped_call(s, &s->start_group, &stmt_start, NEEDS_NOT_STARTED, params, fk, out);
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
  return grouped_call(s, &s->finish_group, &stmt_finish, NEEDS_STARTED | NEEDS_NOT_FINISHED,
                      params, fk, out);
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
