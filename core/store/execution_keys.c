/* Per-execution API keys in the store (execution_keys.h). */
#include "store/execution_keys.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static const struct mn_db_stmt stmt_set_key = {
    .name = "mn_execution_set_key",
    .sql = "UPDATE executions SET token_hash = $6"
    " WHERE project_name = $1 AND version_id = $2 AND function_name = $3"
    "  AND invocation_id = $4 AND execution_id = $5"
    "  AND worker_status IN ('PENDING', 'PROVISIONING')"
    " RETURNING execution_id",
    .n_params = 6,
    .flags = MN_DB_COMMIT_ASYNC};

static const struct mn_db_stmt stmt_by_key = {
    "mn_execution_by_key",
    "SELECT project_name, version_id, function_name, invocation_id, execution_id,"
    " worker_status FROM executions WHERE token_hash = $1",
    1, true, 0};

/* Walks up the parents of an invocation (bounded: a cycle cannot exist,
 * parents are created first, but a depth bound costs nothing). */
static const struct mn_db_stmt stmt_is_descendant = {
    "mn_invocation_is_descendant",
    "WITH RECURSIVE up AS ("
    " SELECT parent_function_name AS f, parent_invocation_id AS id, 1 AS depth"
    " FROM invocations WHERE project_name = $1 AND version_id = $2"
    "  AND function_name = $3 AND invocation_id = $4"
    " UNION ALL"
    " SELECT i.parent_function_name, i.parent_invocation_id, up.depth + 1"
    " FROM up JOIN invocations i ON i.project_name = $1 AND i.version_id = $2"
    "  AND i.function_name = up.f AND i.invocation_id = up.id"
    " WHERE up.id IS NOT NULL AND up.depth < 1000)"
    " SELECT EXISTS (SELECT 1 FROM up WHERE f = $5 AND id = $6)",
    6, true, 0};

int mn_store_set_execution_key(struct mn_store *s, const struct mn_function_key *fk,
                               const char *invocation_id, const char *execution_id,
                               const char *key_hash, bool *applied) {
  const char *p[] = {fk->project_name, fk->version_ref, fk->function_name, invocation_id,
                     execution_id, key_hash};
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_set_key, p, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("set execution key", r);
  *applied = rc == 0 && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

void mn_execution_identity_release(struct mn_execution_identity *id) {
  free(id->project_name);
  free(id->version_id);
  free(id->function_name);
  free(id->invocation_id);
  free(id->execution_id);
  memset(id, 0, sizeof *id);
}

int mn_store_execution_by_key(struct mn_store *s, const char *key_hash,
                              struct mn_execution_identity *out) {
  const char *p[] = {key_hash};
  PGresult *r = NULL;
  memset(out, 0, sizeof *out);
  int rc = mn_db_exec(s, &stmt_by_key, p, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("execution by key", r);
  if (rc == 0 && PQntuples(r) != 1)
    rc = MN_EAPI_KEY_INVALID;
  if (rc == 0) {
    char **fields[] = {&out->project_name, &out->version_id, &out->function_name,
                       &out->invocation_id, &out->execution_id};
    for (int c = 0; c < 5; c++)
      if (!(*fields[c] = strdup(PQgetvalue(r, 0, c))))
        rc = MN_ENOMEM;
    if (rc == 0 && mn_worker_status_parse(PQgetvalue(r, 0, 5), &out->worker_status) != 0)
      rc = MN_EINTERNAL;
    if (rc)
      mn_execution_identity_release(out);
  }
  PQclear(r);
  return rc;
}

int mn_store_is_descendant(struct mn_store *s, const char *project, const char *version,
                           const char *function, const char *invocation_id,
                           const char *ancestor_function, const char *ancestor_id, bool *out) {
  const char *p[] = {project, version, function, invocation_id, ancestor_function, ancestor_id};
  PGresult *r = NULL;
  *out = false;
  int rc = mn_db_exec(s, &stmt_is_descendant, p, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("is descendant", r);
  if (rc == 0 && PQntuples(r) == 1)
    *out = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  return rc;
}
