#include "store/db.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

#define WARN_INTERVAL_US (5 * MN_US_PER_S)

enum run_result { RUN_OK = 0, RUN_SQL_ERROR, RUN_LOST, RUN_RETRY };

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
   * network instead of waiting on it forever (unix sockets ignore them). */
  const char *const keys[] = {"connect_timeout", "application_name", "client_encoding",
                              "keepalives", "keepalives_idle", "keepalives_interval",
                              "keepalives_count", "tcp_user_timeout", "dbname", NULL};
  const char *const values[] = {connect_timeout, "multinoded", "UTF8", "1", "30", "10", "3",
                                "60000", dsn, NULL};
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

int mn_db_acquire(struct mn_store *s, struct mn_db_conn **out, struct mn_error *err) {
  struct mn_error local;
  if (!err)
    err = &local;
  pthread_mutex_lock(&s->mu);
  while (s->n_idle == 0)
    pthread_cond_wait(&s->cv, &s->mu);
  struct mn_db_conn *c = s->idle[--s->n_idle];
  pthread_mutex_unlock(&s->mu);

  if (c->pg && !conn_alive(c)) {
    warn_outage(s, "postgres connection lost", "reconnecting");
    conn_drop(c);
  }
  if (!c->pg) {
    int rc = mn_db_connect(s->dsn, s->connect_timeout, &c->pg, err);
    if (rc < 0) {
      warn_outage(s, "postgres unavailable", err->msg);
      mn_db_release(s, c);
      return rc;
    }
    note_connected(s);
  }
  *out = c;
  return 0;
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

static enum run_result run(struct mn_db_conn *c, const struct mn_db_stmt *stmt,
                           const char *const *params, PGresult **out) {
  PGresult *r;
  bool prepared = is_prepared(c, stmt);
  if (!prepared && c->n_prepared < MN_DB_MAX_PREPARED) {
    r = PQprepare(c->pg, stmt->name, stmt->sql, stmt->n_params, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      enum run_result rr = classify(c->pg, r);
      *out = r;
      return rr;
    }
    PQclear(r);
    c->prepared[c->n_prepared++] = stmt;
    prepared = true;
  }
  if (prepared)
    r = PQexecPrepared(c->pg, stmt->name, stmt->n_params, params, NULL, NULL, 0);
  else
    r = PQexecParams(c->pg, stmt->sql, stmt->n_params, NULL, params, NULL, NULL, 0);
  *out = r;
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
    return RUN_OK;
  return classify(c->pg, r);
}

int mn_db_exec(struct mn_store *s, const struct mn_db_stmt *stmt,
               const char *const *params, PGresult **out) {
  *out = NULL;
  for (int attempt = 0;; attempt++) {
    struct mn_db_conn *c;
    struct mn_error err;
    if (mn_db_acquire(s, &c, &err) < 0)
      return MN_EUNAVAILABLE;
    PGresult *r = NULL;
    enum run_result rr = run(c, stmt, params, &r);
    if (rr == RUN_LOST) {
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
    default:
      PQclear(r);
      return MN_EUNAVAILABLE;
    }
  }
}
