/* Event rows and progress history (store/events.h). */
#include "store/events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/sql.h"

#define EVENT_COLS "e.id, e.kind, e.project_name, e.version_id, e.function_name," \
                   " e.invocation_id, e.data"

static int pq_fail(PGconn *pg, PGresult *r, const char *what, struct mn_error *err) {
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(pg);
  int rc = mn_fail(err, PQstatus(pg) == CONNECTION_OK ? MN_EINTERNAL : MN_EUNAVAILABLE,
                   "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
  PQclear(r);
  return rc;
}

/* pg_current_snapshot() is the statement's own snapshot: the rows and the
 * horizon agree */
#define FETCH_SQL                                                                  \
  "SELECT " EVENT_COLS ", pg_snapshot_xmin(pg_current_snapshot())::text,"          \
  " pg_snapshot_xmax(pg_current_snapshot())::text"                                 \
  " FROM events e WHERE e.id > $1::bigint ORDER BY e.id LIMIT $2::integer"
#define FETCH_NAME "mn_events_fetch"

int mn_store_events_prepare(PGconn *pg, struct mn_error *err) {
  PGresult *r = PQprepare(pg, FETCH_NAME, FETCH_SQL, 2, NULL);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    return pq_fail(pg, r, "cannot prepare the read of events", err);
  PQclear(r);
  return 0;
}

int mn_store_events_fetch(PGconn *pg, int64_t after, int limit, PGresult **out,
                          struct mn_error *err) {
  char a[24], l[16];
  snprintf(a, sizeof a, "%" PRId64, after);
  snprintf(l, sizeof l, "%d", limit);
  const char *params[] = {a, l};
  PGresult *r = PQexecPrepared(pg, FETCH_NAME, 2, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK)
    return pq_fail(pg, r, "cannot read events", err);
  *out = r;
  return 0;
}

int mn_store_events_settle(PGconn *pg, int64_t after, struct mn_events_run *out,
                           struct mn_error *err) {
  char a[24];
  snprintf(a, sizeof a, "%" PRId64, after);
  const char *params[] = {a};
  /* the ids only, and only the first row where the run starting at $1
   * breaks: one short answer however many events there are */
  PGresult *r = PQexecParams(pg,
                             "SELECT g.id, g.next, pg_snapshot_xmin(pg_current_snapshot())::text,"
                             " pg_snapshot_xmax(pg_current_snapshot())::text"
                             " FROM (SELECT a.id, lead(a.id) OVER (ORDER BY a.id) AS next"
                             "  FROM (SELECT $1::bigint AS id UNION ALL"
                             "   SELECT e.id FROM events e WHERE e.id > $1::bigint) a) g"
                             " WHERE g.next IS NULL OR g.next <> g.id + 1 ORDER BY g.id LIMIT 1",
                             1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
    return pq_fail(pg, r, "cannot read the event ids", err);
  out->end = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  out->next = PQgetisnull(r, 0, 1) ? 0 : strtoll(PQgetvalue(r, 0, 1), NULL, 10);
  out->xmin = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
  out->xmax = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
  PQclear(r);
  return 0;
}

int mn_store_events_last(PGconn *pg, int64_t *out, struct mn_error *err) {
  PGresult *r = PQexec(pg, "SELECT coalesce(max(id), 0) FROM events");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
    return pq_fail(pg, r, "cannot read the last event", err);
  *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return 0;
}

static const struct mn_db_stmt stmt_between = {
    "mn_events_between",
    "SELECT " EVENT_COLS " FROM events e WHERE e.id > $1::bigint AND e.id <= $2::bigint"
    " AND ($3::text IS NULL OR e.project_name = $3)"
    " AND ($4::text IS NULL OR e.version_id = $4)"
    " AND ($5::text IS NULL OR e.function_name = $5)"
    " AND ($6::text IS NULL OR e.invocation_id = $6)"
    " ORDER BY e.id LIMIT $7::integer",
    7, true, 0};

int mn_store_events_between(struct mn_store *s, int64_t after, int64_t upto,
                            const struct mn_event_filter *f, int limit, PGresult **out) {
  char a[24], u[24], l[16];
  snprintf(a, sizeof a, "%" PRId64, after);
  snprintf(u, sizeof u, "%" PRId64, upto);
  snprintf(l, sizeof l, "%d", limit);
  const char *params[] = {a, u, f->project_name, f->version_id, f->function_name,
                          f->invocation_id, l};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_between, params, &r);
  if (rc != 0) {
    PQclear(r);
    return rc;
  }
  *out = r;
  return 0;
}

static const struct mn_db_stmt stmt_prune = {
    "mn_events_prune", "DELETE FROM events WHERE time < $1::bigint", 1, false, 0};

int mn_store_prune_events(struct mn_store *s, int64_t before, int *n_deleted) {
  char t[24];
  const char *params[] = {mn_sql_time(t, before)};
  PGresult *r;
  int rc = mn_db_query(s, &stmt_prune, params, &r);
  if (rc == 0 && n_deleted)
    *n_deleted = atoi(PQcmdTuples(r));
  PQclear(r);
  return rc;
}

/* $1 execution id, $2 after, $3 limit (one more than the page, to know
 * whether another follows) */
static const struct mn_db_stmt stmt_progress = {
    "mn_progress_page",
    "SELECT seq, output, time FROM execution_progress WHERE execution_id = $1"
    " AND seq > $2::bigint ORDER BY seq LIMIT $3::integer",
    3, true, 0};

void mn_progress_page_release(struct mn_progress_page *p) {
  for (size_t i = 0; p->outputs && i < p->n; i++)
    free(p->outputs[i]);
  free(p->outputs);
  free(p->times);
  free(p->numbers);
  memset(p, 0, sizeof *p);
}

int mn_store_list_progress(struct mn_store *s, const struct mn_function_key *fk,
                           const char *invocation_id, const char *execution_id, int64_t after,
                           int max_results, struct mn_progress_page *out) {
  if (max_results < 1)
    return MN_EINVAL;
  struct mn_invocation inv = {0};
  int rc = mn_store_get_execution(s, fk, invocation_id, execution_id, &inv);
  mn_invocation_release(&inv);
  if (rc != 0)
    return rc;
  char a[24], l[16];
  snprintf(a, sizeof a, "%" PRId64, after);
  snprintf(l, sizeof l, "%d", max_results + 1);
  const char *params[] = {execution_id, a, l};
  PGresult *r;
  rc = mn_db_query(s, &stmt_progress, params, &r);
  if (rc != 0) {
    PQclear(r);
    return rc;
  }
  size_t rows = (size_t)PQntuples(r), n = rows > (size_t)max_results ? (size_t)max_results : rows;
  memset(out, 0, sizeof *out);
  out->outputs = calloc(n + 1, sizeof *out->outputs);
  out->times = calloc(n + 1, sizeof *out->times);
  out->numbers = calloc(n + 1, sizeof *out->numbers);
  if (!out->outputs || !out->times || !out->numbers) {
    mn_progress_page_release(out);
    PQclear(r);
    return MN_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    out->numbers[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
    out->times[i] = strtoll(PQgetvalue(r, (int)i, 2), NULL, 10);
    if (!(out->outputs[i] = strdup(PQgetvalue(r, (int)i, 1)))) {
      out->n = i;
      mn_progress_page_release(out);
      PQclear(r);
      return MN_ENOMEM;
    }
    out->n = i + 1;
  }
  out->next_after = rows > n ? out->numbers[n - 1] : -1;
  PQclear(r);
  return 0;
}
