/* SQL fragments shared by the store's queries, and the decoders of the rows
 * they return (internal to core/store).
 *
 * Most statements return the "path" of the object they touch in their first
 * columns, resolved top-down with LEFT JOINs from one constant row, so one
 * round trip answers both "here it is" and "the version does not exist"
 * (the key columns are pr.project_name and MN_SQL_VID):
 *   $1 project_name, $2 version id or NULL for "latest", $3 function_name.
 * The standard invocation row (MN_SQL_INVOCATION_ROW) is
 *   KEY(2) FUNCTION(22) INVOCATION(13) PARENT(4) EXECUTION(12)
 * with one row per execution (or one row with NULL execution columns). */
#ifndef MN_STORE_SQL_H
#define MN_STORE_SQL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/model.h"

/* The version a version_ref names: the id given, or the newest version
 * (creation time descending, then id), as the CTE `ve` (version_id,
 * creation_time) to put in the statement's WITH list. In a generic plan only
 * one branch runs (its `$2 IS [NOT] NULL` is a one-time filter). The rest of
 * the statement uses MN_SQL_VID, an init-plan value, so every table below
 * is reached through its primary key with constant keys, however many
 * versions the project has. */
#define MN_SQL_VE                                                              \
  "ve AS (SELECT v0.version_id, v0.creation_time FROM project_versions v0"    \
  "  WHERE $2::text IS NOT NULL AND v0.project_name = $1 AND v0.version_id = $2" \
  " UNION ALL"                                                                 \
  " (SELECT v1.version_id, v1.creation_time FROM project_versions v1"         \
  "  WHERE $2::text IS NULL AND v1.project_name = $1"                          \
  "  ORDER BY v1.creation_time DESC, v1.version_id LIMIT 1))"
#define MN_SQL_VID "(SELECT version_id FROM ve)"

/* FROM clause of the path down to a function: aliases pr, f. */
#define MN_SQL_PATH_FUNCTION                                                   \
  " FROM (SELECT 1) AS one"                                                    \
  " LEFT JOIN projects pr ON pr.project_name = $1"                             \
  " LEFT JOIN functions f ON f.project_name = $1"                              \
  "  AND f.version_id = " MN_SQL_VID " AND f.function_name = $3"

/* The parent of the invocation aliased `a` (in version `version` of
 * project `project`), as alias par with the columns of
 * MN_SQL_PARENT_COLS, or NULLs. A LATERAL subquery with LIMIT 1, which
 * Postgres plans on its own (it does not flatten it into the join), so the
 * parent is always looked up by its key: as a plain LEFT JOIN, a generic
 * plan made while the table was small or never analyzed reached it by
 * scanning every invocation of the version (invocations_by_function on
 * project and version, the key as a join filter), and a session kept that
 * plan until the next ANALYZE: 40,008 rows and 1,006 buffers per GET at a
 * queue of 20,000 (tests/integration/test_store_get_depth.c). */
#define MN_SQL_PARENT_JOIN(a, project, version)                                \
  " LEFT JOIN LATERAL (SELECT p.cancellation_request_time, p.invocation_status," \
  "  p.creation_time, p.last_update_time FROM invocations p"                   \
  "  WHERE p.project_name = " project " AND p.version_id = " version            \
  "  AND p.function_name = " a ".parent_function_name"                         \
  "  AND p.invocation_id = " a ".parent_invocation_id LIMIT 1) par ON true"

/* The same, for a row `a` that carries its own project and version (an
 * invocation). */
#define MN_SQL_PARENT_OF(a) MN_SQL_PARENT_JOIN(a, a ".project_name", a ".version_id")

/* ...down to an invocation ($4): alias i, and its parent: alias par. */
#define MN_SQL_PATH_INVOCATION                                                 \
  MN_SQL_PATH_FUNCTION                                                         \
  " LEFT JOIN invocations i ON i.project_name = $1"                            \
  "  AND i.version_id = " MN_SQL_VID " AND i.function_name = $3"               \
  "  AND i.invocation_id = $4"                                                 \
  MN_SQL_PARENT_JOIN("i", "$1", MN_SQL_VID)

#define MN_SQL_KEY_NCOLS 2

#define MN_SQL_FUNCTION_COLS(a)                                                \
  a ".project_name, " a ".version_id, " a ".function_name, " a ".docker_image, " \
  a ".virtual_cpus, " a ".memory_gbs, " a ".max_concurrency, " a ".max_retries, " \
  a ".timeout_seconds, " a ".function_status, " a ".prepared_function_details, " \
  a ".command, " a ".env, " a ".provider, " a ".preparation_error, "            \
  a ".retry_delay_seconds, " a ".retry_backoff_factor, " a ".retry_max_delay_seconds, " \
  a ".attempt_timeout_seconds, " a ".queue_timeout_seconds, "                   \
  a ".heartbeat_timeout_seconds, " a ".max_concurrency_per_key"
#define MN_SQL_FUNCTION_NCOLS 22

#define MN_SQL_INVOCATION_COLS(a)                                              \
  a ".invocation_id, " a ".parent_function_name, " a ".parent_invocation_id, " \
  a ".input, " a ".cancellation_request_time, " a ".invocation_status, "      \
  a ".creation_time, " a ".last_update_time, " a ".priority, " a ".start_at, "  \
  a ".concurrency_key, " a ".idempotency_key, " a ".termination_reason"
#define MN_SQL_INVOCATION_NCOLS 13

#define MN_SQL_PARENT_COLS(a)                                                  \
  a ".cancellation_request_time, " a ".invocation_status, " a ".creation_time, " \
  a ".last_update_time"
#define MN_SQL_PARENT_NCOLS 4

#define MN_SQL_EXECUTION_COLS(a)                                               \
  a ".execution_id, " a ".worker_status, " a ".worker_details, "              \
  a ".termination_signal_time, " a ".outcome, " a ".output, " a ".error_message, " \
  a ".creation_time, " a ".last_update_time, " a ".execution_start_time, "    \
  a ".execution_finish_time, " a ".heartbeat_time"
#define MN_SQL_EXECUTION_NCOLS 12

/* Column positions of the standard invocation row. */
enum {
  MN_COL_PROJECT = 0,
  MN_COL_VERSION = 1,
  MN_COL_FUNCTION = MN_SQL_KEY_NCOLS,
  MN_COL_FUNCTION_NAME = MN_COL_FUNCTION + 2,
  MN_COL_INVOCATION = MN_COL_FUNCTION + MN_SQL_FUNCTION_NCOLS,
  MN_COL_PARENT = MN_COL_INVOCATION + MN_SQL_INVOCATION_NCOLS,
  MN_COL_EXECUTION = MN_COL_PARENT + MN_SQL_PARENT_NCOLS,
  MN_COL_END = MN_COL_EXECUTION + MN_SQL_EXECUTION_NCOLS
};

/* kp, kv: the expressions of the two key columns (e.g. "pr.project_name"). */
#define MN_SQL_INVOCATION_ROW(kp, kv, f, i, par, e)                            \
  kp ", " kv ", " MN_SQL_FUNCTION_COLS(f) ", "                                 \
  MN_SQL_INVOCATION_COLS(i) ", " MN_SQL_PARENT_COLS(par) ", "                 \
  MN_SQL_EXECUTION_COLS(e)

/* How deep the path of a request goes. */
enum mn_path_depth {
  MN_DEPTH_PROJECT = 1,
  MN_DEPTH_VERSION,
  MN_DEPTH_FUNCTION,
  MN_DEPTH_INVOCATION,
  MN_DEPTH_EXECUTION
};

/* The existence error of row 0 of a standard invocation result, checked
 * top-down to `depth`; 0 when everything exists. */
int mn_sql_path_error(const PGresult *r, enum mn_path_depth depth);

/* Parameter helpers: the text of a time (NULL for MN_TIME_NULL), the
 * version parameter of a version_ref (NULL for "latest"). */
const char *mn_sql_time(char buf[24], int64_t t);
const char *mn_sql_version_param(const char *version_ref);

/* Row decoders: fill *out from the columns starting at `col`. 0 or
 * MN_ENOMEM / MN_EINTERNAL (a value that does not parse); on failure *out
 * may be half-built and is released by the caller. */
int mn_sql_function(const PGresult *r, int row, int col, struct mn_function *out);
int mn_sql_execution(const PGresult *r, int row, int col, struct mn_execution *out);
/* The invocation columns at `col` and the parent columns at `parent_col`. */
int mn_sql_invocation(const PGresult *r, int row, int col, int parent_col,
                      struct mn_invocation *out);
/* A whole standard result: function, invocation, parent and the executions
 * of every row (those with a non-NULL execution_id). */
int mn_sql_invocation_info(const PGresult *r, struct mn_invocation *out);
/* The same for row `row` alone (a batch returns one invocation per row):
 * what mn_sql_invocation_info gives for a result of that one row. */
int mn_sql_invocation_info_row(const PGresult *r, int row, struct mn_invocation *out);

/* The statement of mn_store_get_invocation ($1 project, $2 version or NULL
 * for latest, $3 function, $4 invocation), for tests that EXPLAIN it. */
const char *mn_store_invocation_get_sql(void);

/* Single values. */
char *mn_sql_text(const PGresult *r, int row, int col, bool *oom);
int64_t mn_sql_int64(const PGresult *r, int row, int col); /* NULL: MN_TIME_NULL */
bool mn_sql_is_null(const PGresult *r, int row, int col);

#endif
