#include "store/sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/clock.h"
#include "util/error.h"

bool mn_sql_is_null(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) != 0;
}

char *mn_sql_text(const PGresult *r, int row, int col, bool *oom) {
  if (PQgetisnull(r, row, col))
    return NULL;
  char *s = strdup(PQgetvalue(r, row, col));
  if (!s)
    *oom = true;
  return s;
}

int64_t mn_sql_int64(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col))
    return MN_TIME_NULL;
  return (int64_t)strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static double get_double(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0.0 : strtod(PQgetvalue(r, row, col), NULL);
}

static int get_int(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : (int)strtol(PQgetvalue(r, row, col), NULL, 10);
}

/* A jsonb column: NULL stays NULL; text that does not parse is an error. */
static int get_json(const PGresult *r, int row, int col, json_t **out) {
  *out = NULL;
  if (PQgetisnull(r, row, col))
    return 0;
  json_error_t jerr;
  *out = json_loads(PQgetvalue(r, row, col), JSON_DECODE_ANY, &jerr);
  return *out ? 0 : MN_EINTERNAL;
}

const char *mn_sql_time(char buf[24], int64_t t) {
  if (t == MN_TIME_NULL)
    return NULL;
  snprintf(buf, 24, "%" PRId64, t);
  return buf;
}

const char *mn_sql_version_param(const char *version_ref) {
  return strcasecmp(version_ref, "latest") == 0 ? NULL : version_ref;
}

int mn_sql_path_error(const PGresult *r, enum mn_path_depth depth) {
  if (PQntuples(r) < 1 || PQgetisnull(r, 0, MN_COL_PROJECT))
    return MN_EPROJECT_NOT_FOUND;
  if (depth >= MN_DEPTH_VERSION && PQgetisnull(r, 0, MN_COL_VERSION))
    return MN_EVERSION_NOT_FOUND;
  if (depth >= MN_DEPTH_FUNCTION && PQgetisnull(r, 0, MN_COL_FUNCTION_NAME))
    return MN_EFUNCTION_NOT_FOUND;
  if (depth >= MN_DEPTH_INVOCATION && PQgetisnull(r, 0, MN_COL_INVOCATION))
    return MN_EINVOCATION_NOT_FOUND;
  if (depth >= MN_DEPTH_EXECUTION && PQgetisnull(r, 0, MN_COL_EXECUTION))
    return MN_EEXECUTION_NOT_FOUND;
  return 0;
}

int mn_sql_function(const PGresult *r, int row, int col, struct mn_function *out) {
  bool oom = false;
  memset(out, 0, sizeof *out);
  out->project_name = mn_sql_text(r, row, col + 0, &oom);
  out->version_id = mn_sql_text(r, row, col + 1, &oom);
  out->function_name = mn_sql_text(r, row, col + 2, &oom);
  out->docker_image = mn_sql_text(r, row, col + 3, &oom);
  out->resource_spec.virtual_cpus = get_double(r, row, col + 4);
  out->resource_spec.memory_gbs = get_double(r, row, col + 5);
  out->resource_spec.max_concurrency = get_int(r, row, col + 6);
  out->execution_spec.max_retries = get_int(r, row, col + 7);
  out->execution_spec.timeout_seconds = get_int(r, row, col + 8);
  if (!PQgetisnull(r, row, col + 9) &&
      mn_function_status_parse(PQgetvalue(r, row, col + 9), &out->function_status) < 0)
    return MN_EINTERNAL;
  if (get_json(r, row, col + 10, &out->prepared_function_details) < 0 ||
      get_json(r, row, col + 11, &out->command) < 0 ||
      get_json(r, row, col + 12, &out->env) < 0)
    return MN_EINTERNAL;
  out->provider = mn_sql_text(r, row, col + 13, &oom);
  out->preparation_error = mn_sql_text(r, row, col + 14, &oom);
  out->execution_spec.retry_delay_seconds = get_double(r, row, col + 15);
  out->execution_spec.retry_backoff_factor = get_double(r, row, col + 16);
  out->execution_spec.retry_max_delay_seconds = get_double(r, row, col + 17);
  out->execution_spec.attempt_timeout_seconds = get_int(r, row, col + 18);
  out->execution_spec.queue_timeout_seconds = get_int(r, row, col + 19);
  out->execution_spec.heartbeat_timeout_seconds = get_int(r, row, col + 20);
  out->resource_spec.max_concurrency_per_key = get_int(r, row, col + 21);
  return oom ? MN_ENOMEM : 0;
}

int mn_sql_execution(const PGresult *r, int row, int col, struct mn_execution *out) {
  bool oom = false;
  memset(out, 0, sizeof *out);
  out->execution_id = mn_sql_text(r, row, col + 0, &oom);
  if (mn_worker_status_parse(PQgetvalue(r, row, col + 1), &out->worker_status) < 0)
    return MN_EINTERNAL;
  if (get_json(r, row, col + 2, &out->worker_details) < 0)
    return MN_EINTERNAL;
  out->termination_signal_time = mn_sql_int64(r, row, col + 3);
  out->outcome = MN_OUTCOME_NONE;
  if (!PQgetisnull(r, row, col + 4) &&
      mn_outcome_parse(PQgetvalue(r, row, col + 4), &out->outcome) < 0)
    return MN_EINTERNAL;
  out->output = mn_sql_text(r, row, col + 5, &oom);
  out->error_message = mn_sql_text(r, row, col + 6, &oom);
  out->creation_time = mn_sql_int64(r, row, col + 7);
  out->last_update_time = mn_sql_int64(r, row, col + 8);
  out->execution_start_time = mn_sql_int64(r, row, col + 9);
  out->execution_finish_time = mn_sql_int64(r, row, col + 10);
  out->heartbeat_time = mn_sql_int64(r, row, col + 11);
  return oom ? MN_ENOMEM : 0;
}

int mn_sql_invocation(const PGresult *r, int row, int col, int parent_col,
                      struct mn_invocation *out) {
  bool oom = false;
  out->invocation_id = mn_sql_text(r, row, col + 0, &oom);
  out->has_parent = !PQgetisnull(r, row, col + 1);
  if (out->has_parent) {
    struct mn_parent_info *p = &out->parent;
    p->function_name = mn_sql_text(r, row, col + 1, &oom);
    p->invocation_id = mn_sql_text(r, row, col + 2, &oom);
    p->cancellation_request_time = mn_sql_int64(r, row, parent_col + 0);
    if (mn_invocation_status_parse(PQgetvalue(r, row, parent_col + 1),
                                   &p->invocation_status) < 0)
      return MN_EINTERNAL;
    p->creation_time = mn_sql_int64(r, row, parent_col + 2);
    p->last_update_time = mn_sql_int64(r, row, parent_col + 3);
  }
  out->input = mn_sql_text(r, row, col + 3, &oom);
  out->cancellation_request_time = mn_sql_int64(r, row, col + 4);
  if (mn_invocation_status_parse(PQgetvalue(r, row, col + 5), &out->invocation_status) < 0)
    return MN_EINTERNAL;
  out->creation_time = mn_sql_int64(r, row, col + 6);
  out->last_update_time = mn_sql_int64(r, row, col + 7);
  out->priority = get_int(r, row, col + 8);
  out->start_at = mn_sql_int64(r, row, col + 9);
  out->concurrency_key = mn_sql_text(r, row, col + 10, &oom);
  out->idempotency_key = mn_sql_text(r, row, col + 11, &oom);
  out->termination_reason = mn_sql_text(r, row, col + 12, &oom);
  return oom ? MN_ENOMEM : 0;
}

/* The invocation of row `first`, with the executions of rows
 * [first, first + rows) that have one. */
static int invocation_info_rows(const PGresult *r, int first, int rows,
                                struct mn_invocation *out) {
  memset(out, 0, sizeof *out);
  int rc = mn_sql_function(r, first, MN_COL_FUNCTION, &out->function);
  if (rc == 0)
    rc = mn_sql_invocation(r, first, MN_COL_INVOCATION, MN_COL_PARENT, out);
  if (rc < 0)
    return rc;
  if (rows == 1 && PQgetisnull(r, first, MN_COL_EXECUTION))
    return 0;
  out->executions = calloc((size_t)rows, sizeof *out->executions);
  if (!out->executions)
    return MN_ENOMEM;
  for (int i = first; i < first + rows; i++) {
    if (PQgetisnull(r, i, MN_COL_EXECUTION))
      continue;
    rc = mn_sql_execution(r, i, MN_COL_EXECUTION, &out->executions[out->n_executions++]);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int mn_sql_invocation_info(const PGresult *r, struct mn_invocation *out) {
  return invocation_info_rows(r, 0, PQntuples(r), out);
}

int mn_sql_invocation_info_row(const PGresult *r, int row, struct mn_invocation *out) {
  return invocation_info_rows(r, row, 1, out);
}
