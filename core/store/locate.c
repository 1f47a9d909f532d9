/* Invocations and executions found by id alone (locate.h). */
#include "store/locate.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"

/* the oldest first, should a client-made id ever repeat across functions */
static const struct mn_db_stmt stmt_locate_invocation = {
    "mn_locate_invocation",
    "SELECT project_name, version_id, function_name, invocation_id, NULL FROM invocations"
    " WHERE invocation_id = $1 ORDER BY creation_time LIMIT 1",
    1, true, 0};

static const struct mn_db_stmt stmt_locate_execution = {
    "mn_locate_execution",
    "SELECT project_name, version_id, function_name, invocation_id, execution_id"
    " FROM executions WHERE execution_id = $1",
    1, true, 0};

static int locate(struct mn_store *s, const struct mn_db_stmt *stmt, const char *id,
                  int not_found, struct mn_execution_identity *out) {
  const char *p[] = {id};
  PGresult *r = NULL;
  memset(out, 0, sizeof *out);
  int rc = mn_db_query(s, stmt, p, &r);
  if (rc == 0 && PQntuples(r) != 1)
    rc = not_found;
  if (rc == 0) {
    char **fields[] = {&out->project_name, &out->version_id, &out->function_name,
                       &out->invocation_id, &out->execution_id};
    for (int c = 0; c < 5; c++)
      if (!PQgetisnull(r, 0, c) && !(*fields[c] = strdup(PQgetvalue(r, 0, c))))
        rc = MN_ENOMEM;
    if (rc)
      mn_execution_identity_release(out);
  }
  PQclear(r);
  return rc;
}

int mn_store_locate_invocation(struct mn_store *s, const char *invocation_id,
                               struct mn_execution_identity *out) {
  return locate(s, &stmt_locate_invocation, invocation_id, MN_EINVOCATION_NOT_FOUND, out);
}

int mn_store_locate_execution(struct mn_store *s, const char *execution_id,
                              struct mn_execution_identity *out) {
  return locate(s, &stmt_locate_execution, execution_id, MN_EEXECUTION_NOT_FOUND, out);
}
