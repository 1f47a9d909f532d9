/* Versions and their functions: created together in one statement (so one
 * transaction: all functions or no version), read back in name order. */
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"
#include "multinode/common/ids.h"

/* $1 project, $2 version id, $3 default image, $4 now, $5 functions (a JSON
 * array of rows). The project row is locked FOR SHARE so a concurrent
 * deletion request either comes first (and is seen) or waits. */
static const struct mn_db_stmt stmt_create = {
    "mn_version_create",
    "WITH pr AS (SELECT project_name, deletion_request_time FROM projects"
    "   WHERE project_name = $1 FOR SHARE),"
    " v AS (INSERT INTO project_versions"
    "   (project_name, version_id, default_docker_image, creation_time)"
    "   SELECT pr.project_name, $2, $3, $4::bigint FROM pr"
    "   WHERE pr.deletion_request_time IS NULL"
    "   RETURNING project_name, version_id),"
    " fn AS (INSERT INTO functions (project_name, version_id, function_name, docker_image,"
    "   virtual_cpus, memory_gbs, max_concurrency, max_retries, timeout_seconds,"
    "   function_status, command, env, provider, retry_delay_seconds,"
    "   retry_backoff_factor, retry_max_delay_seconds, attempt_timeout_seconds,"
    "   queue_timeout_seconds, heartbeat_timeout_seconds, max_concurrency_per_key)"
    "   SELECT v.project_name, v.version_id, x.function_name, x.docker_image,"
    "   x.virtual_cpus, x.memory_gbs, x.max_concurrency, x.max_retries,"
    "   x.timeout_seconds, 'PENDING', x.command, x.env, x.provider, x.retry_delay_seconds,"
    "   x.retry_backoff_factor, x.retry_max_delay_seconds, x.attempt_timeout_seconds,"
    "   x.queue_timeout_seconds, x.heartbeat_timeout_seconds, x.max_concurrency_per_key"
    "   FROM v, jsonb_to_recordset($5::jsonb) AS x(function_name text,"
    "   docker_image text, virtual_cpus double precision, memory_gbs double precision,"
    "   max_concurrency integer, max_retries integer, timeout_seconds integer,"
    "   command jsonb, env jsonb, provider text, retry_delay_seconds double precision,"
    "   retry_backoff_factor double precision, retry_max_delay_seconds double precision,"
    "   attempt_timeout_seconds integer, queue_timeout_seconds integer,"
    "   heartbeat_timeout_seconds integer, max_concurrency_per_key integer)"
    "   RETURNING 1)"
    " SELECT (SELECT count(*) FROM pr), (SELECT deletion_request_time FROM pr),"
    "  (SELECT count(*) FROM v), (SELECT count(*) FROM fn),"
    "  (SELECT pg_notify('multinode', 'version') FROM v)",
    5, false, 0};

static const struct mn_db_stmt stmt_get = {
    "mn_version_get",
    "WITH " MN_SQL_VE
    " SELECT pr.project_name, " MN_SQL_VID ", (SELECT creation_time FROM ve), "
    MN_SQL_FUNCTION_COLS("f")
    " FROM (SELECT 1) AS one"
    " LEFT JOIN projects pr ON pr.project_name = $1"
    " LEFT JOIN functions f ON f.project_name = $1 AND f.version_id = " MN_SQL_VID
    " ORDER BY f.function_name COLLATE \"C\"",
    2, true, 0};

static const struct mn_db_stmt stmt_list = {
    "mn_version_list",
    "SELECT pr.project_name, v.version_id, v.creation_time"
    " FROM (SELECT 1) AS one"
    " LEFT JOIN projects pr ON pr.project_name = $1"
    " LEFT JOIN project_versions v ON v.project_name = pr.project_name"
    " ORDER BY v.creation_time DESC, v.version_id",
    1, true, 0};

static const char *image_of(const struct mn_version_definition *def,
                            const struct mn_function_spec *fs) {
  return fs->docker_image_override ? fs->docker_image_override : def->default_docker_image;
}

static json_t *positive_or_null(int v) { return v > 0 ? json_integer(v) : json_null(); }

static json_t *functions_json(const struct mn_version_definition *def) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < def->n_functions; i++) {
    const struct mn_function_spec *fs = &def->functions[i];
    json_t *o = json_pack(
        "{s:s, s:s, s:f, s:f, s:i, s:i, s:i, s:O?, s:O?, s:s?}", "function_name",
        fs->function_name, "docker_image", image_of(def, fs), "virtual_cpus",
        fs->resource_spec.virtual_cpus, "memory_gbs", fs->resource_spec.memory_gbs,
        "max_concurrency", fs->resource_spec.max_concurrency, "max_retries",
        fs->execution_spec.max_retries, "timeout_seconds", fs->execution_spec.timeout_seconds,
        "command", fs->command, "env", fs->env, "provider", fs->provider);
    const struct mn_execution_spec *e = &fs->execution_spec;
    int bad = !o;
    bad = bad || json_object_set_new(o, "retry_delay_seconds", json_real(e->retry_delay_seconds));
    bad = bad || json_object_set_new(o, "retry_backoff_factor",
                                     json_real(e->retry_backoff_factor));
    bad = bad || json_object_set_new(o, "retry_max_delay_seconds",
                                     json_real(e->retry_max_delay_seconds));
    bad = bad || json_object_set_new(o, "attempt_timeout_seconds",
                                     positive_or_null(e->attempt_timeout_seconds));
    bad = bad || json_object_set_new(o, "queue_timeout_seconds",
                                     positive_or_null(e->queue_timeout_seconds));
    bad = bad || json_object_set_new(o, "heartbeat_timeout_seconds",
                                     positive_or_null(e->heartbeat_timeout_seconds));
    bad = bad || json_object_set_new(o, "max_concurrency_per_key",
                                     positive_or_null(fs->resource_spec.max_concurrency_per_key));
    if (bad || json_array_append_new(arr, o) < 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

static char *dup_or_null(const char *s, bool *oom) {
  if (!s)
    return NULL;
  char *d = strdup(s);
  if (!d)
    *oom = true;
  return d;
}

static int cmp_function(const void *a, const void *b) {
  const struct mn_function *fa = a, *fb = b;
  return strcmp(fa->function_name, fb->function_name);
}

/* The VersionInfo of a version just created: what was inserted. */
static int version_from_def(const char *project_name, const char *version_id,
                            const struct mn_version_definition *def, int64_t now,
                            struct mn_version *out) {
  bool oom = false;
  memset(out, 0, sizeof *out);
  out->project_name = dup_or_null(project_name, &oom);
  out->version_id = dup_or_null(version_id, &oom);
  out->creation_time = now;
  if (def->n_functions > 0) {
    out->functions = calloc(def->n_functions, sizeof *out->functions);
    if (!out->functions)
      return MN_ENOMEM;
  }
  for (size_t i = 0; i < def->n_functions; i++) {
    const struct mn_function_spec *fs = &def->functions[i];
    struct mn_function *f = &out->functions[out->n_functions++];
    f->project_name = dup_or_null(project_name, &oom);
    f->version_id = dup_or_null(version_id, &oom);
    f->function_name = dup_or_null(fs->function_name, &oom);
    f->docker_image = dup_or_null(image_of(def, fs), &oom);
    f->resource_spec = fs->resource_spec;
    f->execution_spec = fs->execution_spec;
    f->function_status = MN_FUNCTION_PENDING;
    f->command = fs->command ? json_deep_copy(fs->command) : NULL;
    f->env = fs->env ? json_deep_copy(fs->env) : NULL;
    f->provider = dup_or_null(fs->provider, &oom);
    if ((fs->command && !f->command) || (fs->env && !f->env))
      oom = true;
  }
  if (oom)
    return MN_ENOMEM;
  if (out->n_functions > 1)
    qsort(out->functions, out->n_functions, sizeof *out->functions, cmp_function);
  return 0;
}

static int check_definition(const struct mn_version_definition *def) {
  if (!def || (def->n_functions > 0 && !def->functions))
    return MN_EINVAL;
  for (size_t i = 0; i < def->n_functions; i++)
    if (!def->functions[i].function_name || !image_of(def, &def->functions[i]))
      return MN_EINVAL;
  return 0;
}

int mn_store_create_version(struct mn_store *s, const char *project_name,
                            const struct mn_version_definition *def, int64_t now,
                            struct mn_version *out) {
  if (!project_name || check_definition(def) < 0)
    return MN_EINVAL;
  char version_id[MN_ID_MAX], t[24];
  PGresult *r = NULL;
  char *fjson = NULL;
  int rc = mn_id_new(MN_ID_PREFIX_VERSION, version_id);
  if (rc < 0)
    return rc;
  json_t *arr = functions_json(def);
  fjson = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  if (!fjson)
    return MN_ENOMEM;
  const char *params[] = {project_name, version_id,
                          def->default_docker_image ? def->default_docker_image : "",
                          mn_sql_time(t, now), fjson};
  rc = mn_db_exec(s, &stmt_create, params, &r);
  if (rc == MN_EINTERNAL) {
    const char *c = mn_db_constraint(r);
    if (mn_db_is_unique_violation(r) && strcmp(c, "functions_pkey") == 0)
      rc = MN_EFUNCTION_EXISTS;
    else if (mn_db_is_unique_violation(r))
      rc = MN_EVERSION_EXISTS;
    else if (mn_db_is_fk_violation(r))
      rc = MN_EPROJECT_NOT_FOUND; /* deleted meanwhile */
    else
      rc = mn_db_unexpected(stmt_create.name, r);
  }
  if (rc < 0)
    goto done;
  if (strcmp(PQgetvalue(r, 0, 0), "0") == 0)
    rc = MN_EPROJECT_NOT_FOUND;
  else if (!PQgetisnull(r, 0, 1))
    rc = MN_EPROJECT_BEING_DELETED;
  else if (strcmp(PQgetvalue(r, 0, 2), "1") != 0)
    rc = MN_EINTERNAL;
  if (rc == 0 && out)
    rc = version_from_def(project_name, version_id, def, now, out);
  if (rc == MN_ENOMEM && out)
    mn_version_release(out);
done:
  PQclear(r);
  free(fjson);
  return rc;
}

int mn_store_get_version(struct mn_store *s, const char *project_name,
                         const char *version_ref, struct mn_version *out) {
  if (!project_name || !version_ref)
    return MN_EINVAL;
  const char *params[] = {project_name, mn_sql_version_param(version_ref)};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_get, params, &r);
  if (rc < 0)
    goto done;
  if (PQgetisnull(r, 0, 0)) {
    rc = MN_EPROJECT_NOT_FOUND;
    goto done;
  }
  if (PQgetisnull(r, 0, 1)) {
    rc = MN_EVERSION_NOT_FOUND;
    goto done;
  }
  struct mn_version v = {0};
  bool oom = false;
  int rows = PQntuples(r);
  v.project_name = mn_sql_text(r, 0, 0, &oom);
  v.version_id = mn_sql_text(r, 0, 1, &oom);
  v.creation_time = mn_sql_int64(r, 0, 2);
  v.functions = calloc((size_t)rows, sizeof *v.functions);
  if (!v.functions || oom) {
    rc = MN_ENOMEM;
    mn_version_release(&v);
    goto done;
  }
  for (int i = 0; i < rows && rc == 0; i++) {
    if (PQgetisnull(r, i, 3 + 2)) /* no functions: f.function_name is NULL */
      continue;
    rc = mn_sql_function(r, i, 3, &v.functions[v.n_functions++]);
  }
  if (rc < 0)
    mn_version_release(&v);
  else
    *out = v;
done:
  PQclear(r);
  return rc;
}

int mn_store_list_versions(struct mn_store *s, const char *project_name,
                           struct mn_version_brief **out, size_t *n_out) {
  if (!project_name)
    return MN_EINVAL;
  const char *params[] = {project_name};
  PGresult *r;
  struct mn_version_brief *items = NULL;
  size_t n = 0;
  int rc = mn_db_query(s, &stmt_list, params, &r);
  if (rc < 0)
    goto done;
  if (PQgetisnull(r, 0, 0)) {
    rc = MN_EPROJECT_NOT_FOUND;
    goto done;
  }
  int rows = PQntuples(r);
  items = calloc((size_t)rows, sizeof *items);
  if (!items) {
    rc = MN_ENOMEM;
    goto done;
  }
  bool oom = false;
  for (int i = 0; i < rows; i++) {
    if (PQgetisnull(r, i, 1))
      continue;
    items[n].version_id = mn_sql_text(r, i, 1, &oom);
    items[n++].creation_time = mn_sql_int64(r, i, 2);
  }
  if (oom) {
    rc = MN_ENOMEM;
    goto done;
  }
  *out = items;
  *n_out = n;
  items = NULL;
done:
  mn_version_brief_list_free(items, n);
  PQclear(r);
  return rc;
}
