#include "store/metrics_reads.h"

#include <stdlib.h>

#include "store/db.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* every function key of the partial index whose predicate is PRED (IPRED:
 * the same on the alias i), one descent each */
#define SKIP(name, pred, ipred)                                                        \
  name " AS ("                                                                  \
  " (SELECT project_name, version_id, function_name FROM invocations"           \
  "  WHERE invocation_status = 'RUNNING' AND " pred                             \
  "  ORDER BY project_name, version_id, function_name LIMIT 1)"                \
  " UNION ALL"                                                                  \
  " SELECT n.project_name, n.version_id, n.function_name FROM " name            \
  "  q CROSS JOIN LATERAL"                                                      \
  "  (SELECT i.project_name, i.version_id, i.function_name FROM invocations i" \
  "   WHERE i.invocation_status = 'RUNNING' AND " ipred                        \
  "   AND (i.project_name, i.version_id, i.function_name)"                      \
  "    > (q.project_name, q.version_id, q.function_name)"                       \
  "   ORDER BY i.project_name, i.version_id, i.function_name LIMIT 1) n)"

#define COUNT(pred)                                                             \
  "(SELECT count(*) FROM (SELECT 1 FROM invocations i"                          \
  "  WHERE i.project_name = k.project_name AND i.version_id = k.version_id"     \
  "  AND i.function_name = k.function_name AND i.invocation_status = 'RUNNING'" \
  "  AND " pred " LIMIT " STR(MN_STORE_QUEUE_COUNT_CAP) ") c)"

static const struct mn_db_stmt stmt_queue_counts = {
    "mn_metrics_queue_counts",
    "WITH RECURSIVE " SKIP("queued", "NOT live", "NOT i.live") ", " SKIP("held", "live", "i.live") ","
    " k AS (SELECT * FROM queued UNION SELECT * FROM held)"
    " SELECT k.project_name, k.version_id, k.function_name, " COUNT("NOT i.live") ", "
    COUNT("i.live") " FROM k ORDER BY 1, 2, 3 LIMIT " STR(MN_STORE_QUEUE_ROWS_MAX),
    0, true, 0};

int mn_store_queue_counts(struct mn_store *s, mn_store_queue_count_fn *cb, void *ctx) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_queue_counts, NULL, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("queue counts", r);
  for (int row = 0; rc == 0 && row < PQntuples(r); row++)
    rc = cb(ctx, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), PQgetvalue(r, row, 2),
            atoll(PQgetvalue(r, row, 3)), atoll(PQgetvalue(r, row, 4)));
  PQclear(r);
  return rc;
}

void mn_store_pool_stats(struct mn_store *s, struct mn_store_pool_stats *out) {
  pthread_mutex_lock(&s->mu);
  out->size = s->n_conns;
  out->in_use = s->n_conns - s->n_idle;
  out->waits = s->pool_waits;
  out->wait_us = s->pool_wait_us;
  out->statements = s->statements;
  pthread_mutex_unlock(&s->mu);
}
