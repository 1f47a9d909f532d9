/* Projects: create, mark for deletion, get, list, delete. */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"

#define PROJECT_COLS "project_name, deletion_request_time, creation_time"

static const struct mn_db_stmt stmt_create = {
    "mn_project_create",
    "INSERT INTO projects (project_name, deletion_request_time, creation_time)"
    " VALUES ($1, NULL, $2::bigint) ON CONFLICT (project_name) DO NOTHING"
    " RETURNING " PROJECT_COLS,
    2, false, 0};

static const struct mn_db_stmt stmt_request_deletion = {
    "mn_project_request_deletion",
    "UPDATE projects SET deletion_request_time = $2::bigint WHERE project_name = $1"
    " RETURNING " PROJECT_COLS ", pg_notify('multinode', 'project')",
    2, false, 0};

static const struct mn_db_stmt stmt_get = {
    "mn_project_get", "SELECT " PROJECT_COLS " FROM projects WHERE project_name = $1", 1,
    true, 0};

static const struct mn_db_stmt stmt_list = {
    "mn_project_list",
    "SELECT " PROJECT_COLS " FROM projects ORDER BY creation_time DESC, project_name", 0,
    true, 0};

static const struct mn_db_stmt stmt_delete = {
    "mn_project_delete",
    "DELETE FROM projects WHERE project_name = $1"
    " RETURNING project_name, pg_notify('multinode', 'project')",
    1, false, 0};

static int decode(const PGresult *r, int row, struct mn_project *out) {
  bool oom = false;
  memset(out, 0, sizeof *out);
  out->project_name = mn_sql_text(r, row, 0, &oom);
  out->deletion_request_time = mn_sql_int64(r, row, 1);
  out->creation_time = mn_sql_int64(r, row, 2);
  if (oom) {
    mn_project_release(out);
    return MN_ENOMEM;
  }
  return 0;
}

/* Runs a statement that returns zero or one project row. */
static int one_project(struct mn_store *s, const struct mn_db_stmt *stmt,
                       const char *const *params, int missing_code,
                       int conflict_code, struct mn_project *out) {
  PGresult *r;
  int rc = mn_db_exec(s, stmt, params, &r);
  if (rc == MN_EINTERNAL)
    rc = conflict_code && mn_db_is_unique_violation(r) ? conflict_code
                                                       : mn_db_unexpected(stmt->name, r);
  if (rc == 0 && PQntuples(r) == 0)
    rc = missing_code;
  if (rc == 0 && out)
    rc = decode(r, 0, out);
  PQclear(r);
  return rc;
}

int mn_store_create_project(struct mn_store *s, const char *name, int64_t now,
                            struct mn_project *out) {
  if (!name)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {name, mn_sql_time(t, now)};
  return one_project(s, &stmt_create, params, MN_EPROJECT_EXISTS, MN_EPROJECT_EXISTS, out);
}

int mn_store_request_project_deletion(struct mn_store *s, const char *name, int64_t now,
                                      struct mn_project *out) {
  if (!name)
    return MN_EINVAL;
  char t[24];
  const char *params[] = {name, mn_sql_time(t, now)};
  return one_project(s, &stmt_request_deletion, params, MN_EPROJECT_NOT_FOUND, 0, out);
}

int mn_store_get_project(struct mn_store *s, const char *name, struct mn_project *out) {
  if (!name)
    return MN_EINVAL;
  const char *params[] = {name};
  return one_project(s, &stmt_get, params, MN_EPROJECT_NOT_FOUND, 0, out);
}

int mn_store_delete_project(struct mn_store *s, const char *name) {
  if (!name)
    return MN_EINVAL;
  const char *params[] = {name};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_delete, params, &r);
  if (rc == 0 && PQntuples(r) == 0)
    rc = MN_EPROJECT_NOT_FOUND;
  PQclear(r);
  return rc;
}

int mn_store_list_projects(struct mn_store *s, struct mn_project **out, size_t *n_out) {
  PGresult *r;
  struct mn_project *items = NULL;
  size_t n = 0;
  int rc = mn_db_query(s, &stmt_list, NULL, &r);
  if (rc < 0)
    goto done;
  int rows = PQntuples(r);
  items = calloc(rows > 0 ? (size_t)rows : 1, sizeof *items);
  if (!items) {
    rc = MN_ENOMEM;
    goto done;
  }
  for (; n < (size_t)rows; n++) {
    rc = decode(r, (int)n, &items[n]);
    if (rc < 0)
      goto done;
  }
  *out = items;
  *n_out = n;
  items = NULL;
done:
  mn_project_list_free(items, n);
  PQclear(r);
  return rc;
}
