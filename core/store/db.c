#include "store/db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

#define WARN_INTERVAL_US (5 * MN_US_PER_S)
/* How long past statement_timeout the client waits before it gives up on
 * a server that does not answer at all (a stopped one cannot cancel). */
#define DEADLINE_GRACE_MS 2000

enum run_result { RUN_OK = 0, RUN_SQL_ERROR, RUN_LOST, RUN_RETRY, RUN_TIMEOUT };

/* Waits until PG's socket is ready for events or deadline_us (monotonic; 0:
 * none) passes: 1 ready, 0 deadline passed, -1 no socket or poll failed. */
static int wait_socket(PGconn *pg, short events, int64_t deadline_us) {
  struct pollfd pfd = {.fd = PQsocket(pg), .events = events};
  if (pfd.fd < 0)
    return -1;
  for (;;) {
    int timeout_ms = -1;
    if (deadline_us) {
      int64_t left = deadline_us - mn_monotonic_us();
      if (left <= 0)
        return 0;
      timeout_ms = (int)((left + 999) / 1000);
    }
    int n = poll(&pfd, 1, timeout_ms);
    if (n > 0)
      return 1;
    if (n < 0 && errno != EINTR)
      return -1;
  }
}

/* Collects the results of the command just sent on a non-blocking
 * connection, waiting at most until deadline_us (0: no deadline). Returns
 * the last result (an error result wins), or NULL when the connection broke
 * or the deadline passed first (*timed_out; the connection is then busy and
 * must be dropped). */
static PGresult *await_result(PGconn *pg, int64_t deadline_us, bool *timed_out) {
  PGresult *kept = NULL, *r;
  int flushed, w = -1;
  *timed_out = false;
  while ((flushed = PQflush(pg)) == 1) {
    if ((w = wait_socket(pg, POLLOUT | POLLIN, deadline_us)) <= 0)
      goto stop;
    if (!PQconsumeInput(pg))
      return NULL;
  }
  if (flushed < 0)
    return NULL;
  for (;;) {
    while (PQisBusy(pg)) {
      if ((w = wait_socket(pg, POLLIN, deadline_us)) <= 0)
        goto stop;
      if (!PQconsumeInput(pg))
        break; /* the connection broke: PQgetResult reports it */
    }
    if (!(r = PQgetResult(pg)))
      return kept;
    ExecStatusType st = PQresultStatus(r);
    bool failed = st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE;
    if (kept && PQresultStatus(kept) == PGRES_FATAL_ERROR && !failed) {
      PQclear(r);
      continue;
    }
    PQclear(kept);
    kept = r;
    if (PQstatus(pg) == CONNECTION_BAD)
      return kept;
  }
stop:
  PQclear(kept);
  *timed_out = w == 0;
  return NULL;
}

static int64_t statement_deadline(const struct mn_store *s) {
  if (s->statement_timeout_ms <= 0)
    return 0;
  return mn_monotonic_us() + (int64_t)(s->statement_timeout_ms + DEADLINE_GRACE_MS) * 1000;
}

/* Server notices ("relation already exists, skipping") go to the debug log,
 * not to stderr. */
static void on_notice(void *arg, const char *message) {
  (void)arg;
  mn_log_debug("store", "postgres: %.*s", (int)strcspn(message, "\n"), message);
}

int mn_db_connect(const char *dsn, const char *connect_timeout, PGconn **out,
                  struct mn_error *err) {
  /* Defaults first: with expand_dbname the DSN (last) overrides them. TCP
   * keepalives and a user timeout notice a server that vanished from the
   * network instead of waiting on it forever (unix sockets ignore them).
   * No JIT: every statement here is short, and a plan whose estimate
   * passes jit_above_cost (a never-run branch over a large table is
   * enough) was compiled anew at each run: the scheduler's working set
   * took 190-200 ms instead of a few ms with 100,000 queued, 135 ms of it
   * LLVM emitting code (EXPLAIN ANALYZE, bench/README.md "Queue depth"). */
  const char *const keys[] = {"connect_timeout", "application_name", "client_encoding",
                              "keepalives", "keepalives_idle", "keepalives_interval",
                              "keepalives_count", "tcp_user_timeout", "options", "dbname",
                              NULL};
  const char *const values[] = {connect_timeout, "multinoded", "UTF8", "1", "30", "10", "3",
                                "60000", "-c jit=off", dsn, NULL};
  PGconn *pg = PQconnectdbParams(keys, values, 1);
  if (!pg)
    return mn_fail(err, MN_ENOMEM, "cannot allocate a postgres connection");
  if (PQstatus(pg) != CONNECTION_OK) {
    const char *msg = PQerrorMessage(pg);
    size_t len = strcspn(msg, "\n");
    mn_fail(err, MN_EUNAVAILABLE, "cannot connect to postgres: %.*s", (int)len, msg);
    PQfinish(pg);
    return MN_EUNAVAILABLE;
  }
  PQsetNoticeProcessor(pg, on_notice, NULL);
  *out = pg;
  return 0;
}

static void conn_drop(struct mn_db_conn *c) {
  if (c->pg)
    PQfinish(c->pg);
  c->pg = NULL;
  c->n_prepared = 0;
  c->configured = false;
  c->commit_async = false;
  c->generic_plan = false;
}

/* An idle connection whose server went away has a readable socket: maybe a
 * FATAL message (libpq takes it as a notice), then EOF. Find that out with
 * poll() instead of a round trip: read what is there until the socket is
 * quiet or the read hits EOF. */
static bool conn_alive(struct mn_db_conn *c) {
  if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
    return false;
  struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
  if (pfd.fd < 0)
    return false;
  for (int i = 0; i < 8 && poll(&pfd, 1, 0) > 0; i++) {
    if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) || !PQconsumeInput(c->pg))
      return false;
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL)
      PQfreemem(n);
    if (PQstatus(c->pg) != CONNECTION_OK || PQisBusy(c->pg))
      return false;
  }
  return true;
}

/* Logs a connection problem at most once per WARN_INTERVAL_US. */
static void warn_outage(struct mn_store *s, const char *what, const char *detail) {
  int64_t now = mn_monotonic_us();
  pthread_mutex_lock(&s->mu);
  bool emit = s->last_warn_us == 0 || now - s->last_warn_us >= WARN_INTERVAL_US;
  unsigned suppressed = s->suppressed;
  s->down = true;
  if (emit) {
    s->last_warn_us = now;
    s->suppressed = 0;
  } else {
    s->suppressed++;
  }
  pthread_mutex_unlock(&s->mu);
  if (emit && suppressed)
    mn_log_warn("store", "%s: %s (%u more since the last report)", what, detail, suppressed);
  else if (emit)
    mn_log_warn("store", "%s: %s", what, detail);
}

/* A reconnect worked: report the end of an outage (once per interval). */
static void note_connected(struct mn_store *s) {
  int64_t now = mn_monotonic_us();
  pthread_mutex_lock(&s->mu);
  bool emit = s->down && (s->last_up_us == 0 || now - s->last_up_us >= WARN_INTERVAL_US);
  s->down = false;
  if (emit)
    s->last_up_us = now;
  pthread_mutex_unlock(&s->mu);
  if (emit)
    mn_log_info("store", "connected to postgres again");
}

/* A pooled session: non-blocking (so that no send waits on a stalled
 * server) and with the store's statement_timeout. */
static int configure(struct mn_store *s, struct mn_db_conn *c, struct mn_error *err) {
  if (PQsetnonblocking(c->pg, 1) != 0)
    return mn_fail(err, MN_EUNAVAILABLE, "cannot make the postgres connection non-blocking");
  if (s->statement_timeout_ms > 0) {
    char sql[64];
    bool timed_out;
    snprintf(sql, sizeof sql, "SET statement_timeout = %d", s->statement_timeout_ms);
    PGresult *r = PQsendQuery(c->pg, sql) ? await_result(c->pg, statement_deadline(s), &timed_out)
                                           : NULL;
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
      return mn_fail(err, MN_EUNAVAILABLE, "cannot set statement_timeout: %s",
                     r ? "refused" : "no answer");
  }
  c->configured = true;
  return 0;
}

/* connect_timeout for a reconnect: the store's, but no longer than a
 * statement may take (libpq counts at least 2 s). */
static const char *reconnect_timeout(const struct mn_store *s, char *buf, size_t size) {
  int t = atoi(s->connect_timeout);
  if (s->statement_timeout_ms > 0) {
    int limit = (s->statement_timeout_ms + 999) / 1000;
    if (limit < 2)
      limit = 2;
    if (t <= 0 || t > limit)
      t = limit;
  }
  snprintf(buf, size, "%d", t);
  return buf;
}

/* Whether c's session already runs stmt as it wants: its commit mode (for a
 * write) and its plan mode. */
static bool session_fits(const struct mn_db_conn *c, const struct mn_db_stmt *stmt) {
  return (stmt->read_only || c->commit_async == !!(stmt->flags & MN_DB_COMMIT_ASYNC)) &&
         c->generic_plan == !!(stmt->flags & MN_DB_GENERIC_PLAN);
}

/* Borrows a connection, preferring one whose session fits stmt (NULL: any),
 * so that a switch of mode costs a round trip only when no such one is
 * idle. */
static int acquire(struct mn_store *s, const struct mn_db_stmt *stmt, struct mn_db_conn **out,
                   struct mn_error *err) {
  struct mn_error local;
  char timeout[16];
  if (!err)
    err = &local;
  int64_t deadline = statement_deadline(s);
  struct timespec until;
  if (deadline) { /* the same bound, on the wall clock pthread_cond_timedwait uses */
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = until.tv_nsec + (deadline - mn_monotonic_us()) * 1000;
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
  }
  pthread_mutex_lock(&s->mu);
  int64_t wait_from = s->n_idle == 0 ? mn_monotonic_us() : 0;
  if (stmt)
    s->statements++;
  if (wait_from)
    s->pool_waits++;
  while (s->n_idle == 0) {
    if (!deadline) {
      pthread_cond_wait(&s->cv, &s->mu);
    } else if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT && s->n_idle == 0) {
      s->pool_wait_us += mn_monotonic_us() - wait_from;
      pthread_mutex_unlock(&s->mu);
      warn_outage(s, "postgres is slow", "no pooled connection came free in time");
      return mn_fail(err, MN_EUNAVAILABLE, "no database connection came free within %d ms",
                     s->statement_timeout_ms + DEADLINE_GRACE_MS);
    }
  }
  if (wait_from)
    s->pool_wait_us += mn_monotonic_us() - wait_from;
  for (size_t i = s->n_idle; i-- > 0;)
    if (!stmt || session_fits(s->idle[i], stmt)) {
      struct mn_db_conn *match = s->idle[i];
      s->idle[i] = s->idle[s->n_idle - 1];
      s->idle[s->n_idle - 1] = match;
      break;
    }
  struct mn_db_conn *c = s->idle[--s->n_idle];
  pthread_mutex_unlock(&s->mu);

  if (c->pg && !conn_alive(c)) {
    warn_outage(s, "postgres connection lost", "reconnecting");
    conn_drop(c);
  }
  if (!c->pg) {
    int rc = mn_db_connect(s->dsn, reconnect_timeout(s, timeout, sizeof timeout), &c->pg, err);
    if (rc < 0) {
      warn_outage(s, "postgres unavailable", err->msg);
      mn_db_release(s, c);
      return rc;
    }
    note_connected(s);
  }
  if (!c->configured) {
    int rc = configure(s, c, err);
    if (rc < 0) {
      warn_outage(s, "postgres connection unusable", err->msg);
      conn_drop(c);
      mn_db_release(s, c);
      return rc;
    }
  }
  *out = c;
  return 0;
}

int mn_db_acquire(struct mn_store *s, struct mn_db_conn **out, struct mn_error *err) {
  return acquire(s, NULL, out, err);
}

void mn_db_release(struct mn_store *s, struct mn_db_conn *c) {
  pthread_mutex_lock(&s->mu);
  s->idle[s->n_idle++] = c;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

const char *mn_db_sqlstate(const PGresult *r) {
  const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  return s ? s : "";
}

const char *mn_db_constraint(const PGresult *r) {
  const char *s = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
  return s ? s : "";
}

bool mn_db_is_unique_violation(const PGresult *r) {
  return strcmp(mn_db_sqlstate(r), "23505") == 0;
}

bool mn_db_is_fk_violation(const PGresult *r) {
  return strcmp(mn_db_sqlstate(r), "23503") == 0;
}

int mn_db_unexpected(const char *what, const PGresult *r) {
  const char *msg = r ? PQresultErrorMessage(r) : "no result";
  mn_log_error("store", "%s failed: %.*s", what, (int)strcspn(msg, "\n"), msg);
  return MN_EINTERNAL;
}

int mn_db_query(struct mn_store *s, const struct mn_db_stmt *stmt, const char *const *params,
                PGresult **out) {
  int rc = mn_db_exec(s, stmt, params, out);
  return rc == MN_EINTERNAL ? mn_db_unexpected(stmt->name, *out) : rc;
}

/* Classifies a failed result: the connection is gone, the statement may be
 * run again as is, or it is an SQL error for the caller. */
static enum run_result classify(PGconn *pg, const PGresult *r) {
  const char *state = mn_db_sqlstate(r);
  if (PQstatus(pg) != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
      strncmp(state, "57P", 3) == 0 || state[0] == '\0')
    return RUN_LOST;
  if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
    return RUN_RETRY;
  if (strcmp(state, "26000") == 0) /* prepared statement vanished (pooler) */
    return RUN_RETRY;
  return RUN_SQL_ERROR;
}

static bool is_prepared(const struct mn_db_conn *c, const struct mn_db_stmt *stmt) {
  for (size_t i = 0; i < c->n_prepared; i++)
    if (c->prepared[i] == stmt)
      return true;
  return false;
}

/* Waits for the answer to a command sent ahead of a statement (a SET, a
 * prepare): RUN_OK, or why not with the failed result in *out. */
static enum run_result await_command(PGconn *pg, int sent, int64_t deadline, PGresult **out) {
  bool timed_out = false;
  PGresult *r = sent ? await_result(pg, deadline, &timed_out) : NULL;
  if (timed_out)
    return RUN_TIMEOUT;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    *out = r;
    return classify(pg, r);
  }
  PQclear(r);
  return RUN_OK;
}

/* Puts one of the session's modes (*have) where a statement wants it, with
 * the SET for each side; nothing when it is there already. */
static enum run_result set_mode(PGconn *pg, bool *have, bool want, const char *set_true,
                                const char *set_false, int64_t deadline, PGresult **out) {
  if (*have == want)
    return RUN_OK;
  enum run_result rr = await_command(pg, PQsendQuery(pg, want ? set_true : set_false),
                                     deadline, out);
  if (rr == RUN_OK)
    *have = want;
  return rr;
}

static enum run_result run(struct mn_store *s, struct mn_db_conn *c,
                           const struct mn_db_stmt *stmt, const char *const *params,
                           PGresult **out) {
  int64_t deadline = statement_deadline(s);
  bool timed_out = false;
  PGresult *r;
  bool prepared = is_prepared(c, stmt);
  *out = NULL;
  enum run_result rr =
      stmt->read_only ? RUN_OK
                      : set_mode(c->pg, &c->commit_async, stmt->flags & MN_DB_COMMIT_ASYNC,
                                 "SET synchronous_commit = off", "SET synchronous_commit = on",
                                 deadline, out);
  if (rr == RUN_OK)
    rr = set_mode(c->pg, &c->generic_plan, stmt->flags & MN_DB_GENERIC_PLAN,
                  "SET plan_cache_mode = force_generic_plan", "SET plan_cache_mode = auto",
                  deadline, out);
  if (rr != RUN_OK)
    return rr;
  if (!prepared && c->n_prepared < MN_DB_MAX_PREPARED) {
    rr = await_command(c->pg, PQsendPrepare(c->pg, stmt->name, stmt->sql, stmt->n_params, NULL),
                       deadline, out);
    if (rr != RUN_OK)
      return rr;
    c->prepared[c->n_prepared++] = stmt;
    prepared = true;
  }
  int sent = prepared ? PQsendQueryPrepared(c->pg, stmt->name, stmt->n_params, params, NULL,
                                            NULL, 0)
                      : PQsendQueryParams(c->pg, stmt->sql, stmt->n_params, NULL, params, NULL,
                                          NULL, 0);
  r = sent ? await_result(c->pg, deadline, &timed_out) : NULL;
  if (timed_out)
    return RUN_TIMEOUT;
  *out = r;
  ExecStatusType st = PQresultStatus(r);
  if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
    return RUN_OK;
  return classify(c->pg, r);
}

int mn_db_exec(struct mn_store *s, const struct mn_db_stmt *stmt,
               const char *const *params, PGresult **out) {
  *out = NULL;
  for (int attempt = 0;; attempt++) {
    struct mn_db_conn *c;
    struct mn_error err;
    if (acquire(s, stmt, &c, &err) < 0)
      return MN_EUNAVAILABLE;
    PGresult *r = NULL;
    enum run_result rr = run(s, c, stmt, params, &r);
    if (rr == RUN_TIMEOUT) {
      char detail[256];
      snprintf(detail, sizeof detail, "%s: no answer within %d ms, connection dropped",
               stmt->name, s->statement_timeout_ms + DEADLINE_GRACE_MS);
      warn_outage(s, "postgres does not answer", detail);
      conn_drop(c);
    } else if (rr == RUN_LOST) {
      char detail[256];
      const char *msg = PQerrorMessage(c->pg);
      snprintf(detail, sizeof detail, "%s: %.*s", stmt->name, (int)strcspn(msg, "\n"), msg);
      warn_outage(s, "postgres connection lost", detail);
      conn_drop(c);
    } else if (rr == RUN_RETRY && strcmp(mn_db_sqlstate(r), "26000") == 0) {
      c->n_prepared = 0;
    }
    mn_db_release(s, c);
    bool again = attempt == 0 && (rr == RUN_RETRY || (rr == RUN_LOST && stmt->read_only));
    if (again) {
      PQclear(r);
      continue;
    }
    switch (rr) {
    case RUN_OK:
      *out = r;
      return 0;
    case RUN_SQL_ERROR:
    case RUN_RETRY:
      *out = r;
      return MN_EINTERNAL;
    case RUN_LOST:
    case RUN_TIMEOUT:
    default:
      PQclear(r);
      return MN_EUNAVAILABLE;
    }
  }
}

/* Connects without blocking: PQconnectPoll driven by poll() up to the
 * deadline. */
static PGconn *connect_by(const char *dsn, int64_t deadline_us, struct mn_error *err) {
  const char *const keys[] = {"application_name", "client_encoding", "dbname", NULL};
  const char *const values[] = {"multinoded-readiness", "UTF8", dsn, NULL};
  PGconn *pg = PQconnectStartParams(keys, values, 1);
  if (!pg) {
    mn_fail(err, MN_EUNAVAILABLE, "cannot allocate a postgres connection");
    return NULL;
  }
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (PQstatus(pg) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
         st != PGRES_POLLING_FAILED) {
    int w = wait_socket(pg, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline_us);
    if (w <= 0) {
      mn_fail(err, MN_EUNAVAILABLE, "%s", w == 0 ? "no answer to the connection attempt in time"
                                                 : "cannot wait on the connection");
      PQfinish(pg);
      return NULL;
    }
    st = PQconnectPoll(pg);
  }
  if (PQstatus(pg) != CONNECTION_OK) {
    const char *msg = PQerrorMessage(pg);
    mn_fail(err, MN_EUNAVAILABLE, "cannot connect: %.*s", (int)strcspn(msg, "\n"), msg);
    PQfinish(pg);
    return NULL;
  }
  PQsetNoticeProcessor(pg, on_notice, NULL);
  if (PQsetnonblocking(pg, 1) != 0) {
    mn_fail(err, MN_EUNAVAILABLE, "cannot make the connection non-blocking");
    PQfinish(pg);
    return NULL;
  }
  return pg;
}

int mn_db_probe(const char *dsn, PGconn **conn, int timeout_ms, int *schema_version,
                int64_t *latency_us, struct mn_error *err) {
  int64_t deadline = mn_monotonic_us() + (int64_t)timeout_ms * 1000;
  bool timed_out = false;
  if (*conn && PQstatus(*conn) != CONNECTION_OK) {
    PQfinish(*conn);
    *conn = NULL;
  }
  if (!*conn && !(*conn = connect_by(dsn, deadline, err)))
    return MN_EUNAVAILABLE;
  int64_t start = mn_monotonic_us();
  PGresult *r = PQsendQuery(*conn, "SELECT coalesce(max(number), 0) FROM schema_migrations")
                    ? await_result(*conn, deadline, &timed_out)
                    : NULL;
  int rc = 0;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    *schema_version = atoi(PQgetvalue(r, 0, 0));
    *latency_us = mn_monotonic_us() - start;
  } else if (timed_out) {
    rc = mn_fail(err, MN_EUNAVAILABLE, "no answer within %d ms", timeout_ms);
  } else {
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(*conn);
    rc = mn_fail(err, MN_EUNAVAILABLE, "%.*s", (int)strcspn(msg, "\n"), msg);
  }
  PQclear(r);
  if (rc != 0) {
    PQfinish(*conn);
    *conn = NULL;
  }
  return rc;
}
