/* Listing a function's invocations: newest first, then id ascending, in
 * pages of max_results with a keyset offset.
 *
 * Each combination of filters (status: none / RUNNING / TERMINATED, parent,
 * offset) is its own prepared statement, so that every one has a plan that
 * uses its index: the status is a literal (the partial index
 * invocations_running needs it), and absent filters are not in the SQL. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"
#include "store/store.h"

enum { N_STATUS = 3, N_VARIANTS = N_STATUS * 2 * 2, SQL_MAX = 2048 };

static char variant_sql[N_VARIANTS][SQL_MAX];
static char variant_name[N_VARIANTS][40];
static struct mn_db_stmt variants[N_VARIANTS];
static pthread_once_t variants_once = PTHREAD_ONCE_INIT;

static int variant_index(int status, bool parent, bool offset) {
  return status * 4 + (parent ? 2 : 0) + (offset ? 1 : 0);
}

/* Parameters: $1 project, $2 version (NULL: latest), $3 function, then in
 * this order the ones present: parent function, parent invocation, offset
 * time, offset id; last the row limit. */
static void build_variant(int status, bool parent, bool offset) {
  static const char *const status_clause[N_STATUS] = {
      "", " AND i0.invocation_status = 'RUNNING'", " AND i0.invocation_status = 'TERMINATED'"};
  int k = variant_index(status, parent, offset);
  int n = 3;
  char parent_clause[128] = "", offset_clause[192] = "";
  if (parent) {
    snprintf(parent_clause, sizeof parent_clause,
             " AND i0.parent_function_name = $%d AND i0.parent_invocation_id = $%d", n + 1,
             n + 2);
    n += 2;
  }
  if (offset) {
    snprintf(offset_clause, sizeof offset_clause,
             " AND i0.creation_time <= $%d::bigint AND (i0.creation_time < $%d::bigint"
             " OR i0.invocation_id >= $%d)",
             n + 1, n + 1, n + 2);
    n += 2;
  }
  n += 1; /* the limit */
  snprintf(variant_name[k], sizeof variant_name[k], "mn_invocation_list_%d", k);
  snprintf(variant_sql[k], sizeof variant_sql[k],
           "WITH " MN_SQL_VE " SELECT pr.project_name, " MN_SQL_VID ", f.function_name,"
           " i.invocation_id, i.parent_function_name, i.parent_invocation_id,"
           " i.cancellation_request_time, i.invocation_status, i.creation_time,"
           " i.last_update_time" MN_SQL_PATH_FUNCTION
           " LEFT JOIN LATERAL (SELECT i0.* FROM invocations i0"
           "  WHERE i0.project_name = $1 AND i0.version_id = " MN_SQL_VID
           "  AND i0.function_name = $3%s%s%s"
           "  ORDER BY i0.creation_time DESC, i0.invocation_id LIMIT $%d::integer) i ON true"
           " ORDER BY i.creation_time DESC, i.invocation_id",
           status_clause[status], parent_clause, offset_clause, n);
  variants[k] = (struct mn_db_stmt){variant_name[k], variant_sql[k], n, true, 0};
}

static void build_variants(void) {
  for (int status = 0; status < N_STATUS; status++)
    for (int parent = 0; parent < 2; parent++)
      for (int offset = 0; offset < 2; offset++)
        build_variant(status, parent, offset);
}

static int path_error(const PGresult *r) {
  if (PQgetisnull(r, 0, 0))
    return MN_EPROJECT_NOT_FOUND;
  if (PQgetisnull(r, 0, 1))
    return MN_EVERSION_NOT_FOUND;
  if (PQgetisnull(r, 0, 2))
    return MN_EFUNCTION_NOT_FOUND;
  return 0;
}

static int decode_brief(const PGresult *r, int row, struct mn_invocation_brief *b) {
  bool oom = false;
  b->invocation_id = mn_sql_text(r, row, 3, &oom);
  b->parent_function_name = mn_sql_text(r, row, 4, &oom);
  b->parent_invocation_id = mn_sql_text(r, row, 5, &oom);
  b->cancellation_request_time = mn_sql_int64(r, row, 6);
  if (mn_invocation_status_parse(PQgetvalue(r, row, 7), &b->invocation_status) < 0)
    return MN_EINTERNAL;
  b->creation_time = mn_sql_int64(r, row, 8);
  b->last_update_time = mn_sql_int64(r, row, 9);
  return oom ? MN_ENOMEM : 0;
}

static int decode_page(const PGresult *r, int max_results, struct mn_invocation_page *page) {
  int rows = PQntuples(r);
  if (rows == 1 && PQgetisnull(r, 0, 3))
    rows = 0;
  int n = rows > max_results ? max_results : rows;
  if (n > 0) {
    page->items = calloc((size_t)n, sizeof *page->items);
    if (!page->items)
      return MN_ENOMEM;
  }
  for (int i = 0; i < n; i++) {
    int rc = decode_brief(r, i, &page->items[page->n_items++]);
    if (rc < 0)
      return rc;
  }
  if (rows > max_results) {
    page->next_offset = mn_page_offset_format(mn_sql_int64(r, max_results, 8),
                                              PQgetvalue(r, max_results, 3));
    if (!page->next_offset)
      return MN_ENOMEM;
  }
  return 0;
}

int mn_store_list_invocations(struct mn_store *s, const struct mn_function_key *fk,
                              const struct mn_invocation_query *q,
                              struct mn_invocation_page *out) {
  return mn_store_list_invocations_with_version(s, fk, q, out, NULL);
}

int mn_store_list_invocations_with_version(struct mn_store *s,
                                           const struct mn_function_key *fk,
                                           const struct mn_invocation_query *q,
                                           struct mn_invocation_page *out,
                                           char **version_id_out) {
  if (!fk || !fk->project_name || !fk->version_ref || !fk->function_name || !q ||
      q->max_results < 1 ||
      (q->parent && (!q->parent->function_name || !q->parent->invocation_id)))
    return MN_EINVAL;
  pthread_once(&variants_once, build_variants);
  int status = q->filter_status ? (q->status == MN_INVOCATION_RUNNING ? 1 : 2) : 0;
  const struct mn_db_stmt *stmt = &variants[variant_index(status, q->parent, q->offset)];

  char t[24], limit[16];
  const char *params[9];
  int n = 0;
  params[n++] = fk->project_name;
  params[n++] = mn_sql_version_param(fk->version_ref);
  params[n++] = fk->function_name;
  if (q->parent) {
    params[n++] = q->parent->function_name;
    params[n++] = q->parent->invocation_id;
  }
  if (q->offset) {
    params[n++] = mn_sql_time(t, q->offset->creation_time);
    params[n++] = q->offset->invocation_id;
  }
  snprintf(limit, sizeof limit, "%d", q->max_results + 1);
  params[n++] = limit;

  PGresult *r;
  int rc = mn_db_query(s, stmt, params, &r);
  if (rc == 0)
    rc = path_error(r);
  if (rc == 0) {
    struct mn_invocation_page page = {0};
    char *version_id = NULL;
    rc = decode_page(r, q->max_results, &page);
    if (rc == 0 && version_id_out && !(version_id = strdup(PQgetvalue(r, 0, 1))))
      rc = MN_ENOMEM;
    if (rc < 0) {
      mn_invocation_page_release(&page);
    } else {
      *out = page;
      if (version_id_out)
        *version_id_out = version_id;
    }
  }
  PQclear(r);
  return rc;
}
