/* Retention: terminated invocations (with their executions) are deleted
 * once they are older than the configured retention. */
#include <stdio.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"

/* $1 cutoff time, $2 batch size. Only invocations without children go in
 * one pass (deleting a parent would cascade to its children, which may
 * still run); a parent goes in a later pass, once its children are gone.
 * The candidates come from invocations_terminated, the child check from
 * invocations_by_parent. */
static const struct mn_db_stmt stmt_prune = {
    "mn_invocation_prune",
    "WITH victims AS (SELECT i.project_name, i.version_id, i.function_name, i.invocation_id"
    "  FROM invocations i"
    "  WHERE i.invocation_status = 'TERMINATED' AND i.last_update_time < $1::bigint"
    "  AND NOT EXISTS (SELECT 1 FROM invocations c"
    "   WHERE c.project_name = i.project_name AND c.version_id = i.version_id"
    "   AND c.parent_function_name = i.function_name"
    "   AND c.parent_invocation_id = i.invocation_id)"
    "  ORDER BY i.last_update_time LIMIT $2::integer FOR UPDATE SKIP LOCKED)"
    " DELETE FROM invocations d USING victims v"
    " WHERE d.project_name = v.project_name AND d.version_id = v.version_id"
    "  AND d.function_name = v.function_name AND d.invocation_id = v.invocation_id"
    "  AND d.invocation_status = 'TERMINATED'"
    " RETURNING 1",
    2, false, 0};

int mn_store_prune_invocations(struct mn_store *s, int64_t before, int max_rows,
                               int *n_deleted) {
  if (max_rows < 1)
    return MN_EINVAL;
  char t[24], limit[16];
  snprintf(limit, sizeof limit, "%d", max_rows);
  const char *params[] = {mn_sql_time(t, before), limit};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_prune, params, &r);
  if (rc == 0 && n_deleted)
    *n_deleted = PQntuples(r);
  PQclear(r);
  return rc;
}
