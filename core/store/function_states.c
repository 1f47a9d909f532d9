/* The scheduler's side of functions: PENDING -> READY once prepared, and the
 * last preparation failure. */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"

/* $1 project, $2 version (NULL: latest), $3 function. */
static const struct mn_db_stmt stmt_path = {
    "mn_function_path",
    "WITH " MN_SQL_VE " SELECT pr.project_name, " MN_SQL_VID ", f.function_name"
    MN_SQL_PATH_FUNCTION, 3, true, 0};

/* ... $4 prepared_function_details */
static const struct mn_db_stmt stmt_ready = {
    "mn_function_ready",
    "WITH " MN_SQL_VE
    " UPDATE functions x SET function_status = 'READY',"
    "  prepared_function_details = $4::jsonb, preparation_error = NULL"
    " WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID
    "  AND x.function_name = $3 AND x.function_status = 'PENDING'"
    " RETURNING x.function_name, pg_notify('multinode', 'function')",
    4, false, 0};

/* ... $4 preparation_error (NULL clears it) */
static const struct mn_db_stmt stmt_error = {
    "mn_function_preparation_error",
    "WITH " MN_SQL_VE " UPDATE functions x SET preparation_error = $4"
    " WHERE x.project_name = $1 AND x.version_id = " MN_SQL_VID " AND x.function_name = $3"
    " RETURNING x.function_name, pg_notify('multinode', 'function')",
    4, false, 0};

static int path_error(struct mn_store *s, const char *const *params) {
  PGresult *r;
  int rc = mn_db_query(s, &stmt_path, params, &r);
  if (rc == 0) {
    if (PQgetisnull(r, 0, 0))
      rc = MN_EPROJECT_NOT_FOUND;
    else if (PQgetisnull(r, 0, 1))
      rc = MN_EVERSION_NOT_FOUND;
    else if (PQgetisnull(r, 0, 2))
      rc = MN_EFUNCTION_NOT_FOUND;
  }
  PQclear(r);
  return rc;
}

static int update(struct mn_store *s, const struct mn_db_stmt *stmt,
                  const struct mn_function_key *fk, const char *value, bool *applied) {
  if (!fk || !fk->project_name || !fk->version_ref || !fk->function_name)
    return MN_EINVAL;
  const char *params[] = {fk->project_name, mn_sql_version_param(fk->version_ref),
                          fk->function_name, value};
  PGresult *r;
  bool done = false;
  int rc = mn_db_query(s, stmt, params, &r);
  if (rc == 0 && PQntuples(r) > 0)
    done = true;
  else if (rc == 0)
    rc = path_error(s, params);
  PQclear(r);
  if (applied)
    *applied = done;
  return rc;
}

int mn_store_set_function_ready(struct mn_store *s, const struct mn_function_key *fk,
                                const json_t *prepared_details, bool *applied) {
  char *details = prepared_details ? json_dumps(prepared_details, JSON_COMPACT) : NULL;
  if (prepared_details && !details)
    return MN_ENOMEM;
  int rc = update(s, &stmt_ready, fk, details, applied);
  free(details);
  return rc;
}

int mn_store_set_function_preparation_error(struct mn_store *s,
                                            const struct mn_function_key *fk,
                                            const char *message) {
  return update(s, &stmt_error, fk, message, NULL);
}
