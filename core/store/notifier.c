/* The notifier: one thread with its own connection that turns the events
 * of committed statements into NOTIFY multinode '<kind>'.
 *
 * Why not pg_notify() inside each writing transaction: Postgres serialises
 * the commits of every transaction that notifies (a global lock held until
 * the commit record is flushed), which halves the rate of invocation
 * creation. Sent from here, right after the commit, notifications of the
 * same kind that pile up while one is in flight go out as one. A listener
 * re-reads the state when woken, so one wake-up per burst is all it needs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/db.h"
#include "util/log.h"

static const char *const kinds[] = {"project", "version", "function", "invocation",
                                    "execution"};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

void mn_db_notify(struct mn_store *s, unsigned events) {
  if (!s->notifier_started || !events)
    return;
  pthread_mutex_lock(&s->notify_mu);
  s->notify_pending |= events;
  pthread_cond_signal(&s->notify_cv);
  pthread_mutex_unlock(&s->notify_mu);
}

/* One statement, one short transaction, for every kind in `events`. */
static bool send_events(struct mn_store *s, PGconn **pg, unsigned events) {
  char sql[512] = "SELECT 1";
  for (size_t i = 0; i < N_KINDS; i++)
    if (events & (1u << i))
      snprintf(sql + strlen(sql), sizeof sql - strlen(sql), ", pg_notify('multinode', '%s')",
               kinds[i]);
  if (*pg && PQstatus(*pg) != CONNECTION_OK) {
    PQfinish(*pg);
    *pg = NULL;
  }
  if (!*pg && mn_db_connect(s->dsn, s->connect_timeout, pg, NULL) < 0)
    return false;
  PGresult *r = PQexec(*pg, sql);
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) {
    const char *m = PQresultErrorMessage(r);
    mn_log_debug("store", "notify failed: %.*s", (int)strcspn(m, "\n"), m);
    PQfinish(*pg);
    *pg = NULL;
  }
  PQclear(r);
  return ok;
}

static void *notifier_main(void *arg) {
  struct mn_store *s = arg;
  PGconn *pg = NULL;
  pthread_mutex_lock(&s->notify_mu);
  for (;;) {
    while (!s->notify_pending && !s->notify_stop)
      pthread_cond_wait(&s->notify_cv, &s->notify_mu);
    if (!s->notify_pending)
      break;
    unsigned events = s->notify_pending;
    s->notify_pending = 0;
    pthread_mutex_unlock(&s->notify_mu);
    bool ok = send_events(s, &pg, events);
    pthread_mutex_lock(&s->notify_mu);
    if (ok)
      continue;
    /* Postgres is away: keep the events and try again shortly */
    s->notify_pending |= events;
    if (s->notify_stop)
      break;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 200 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    while (!s->notify_stop &&
           pthread_cond_timedwait(&s->notify_cv, &s->notify_mu, &until) != ETIMEDOUT)
      ;
  }
  pthread_mutex_unlock(&s->notify_mu);
  if (pg)
    PQfinish(pg);
  return NULL;
}

int mn_notifier_start(struct mn_store *s, struct mn_error *err) {
  int rc = pthread_create(&s->notifier, NULL, notifier_main, s);
  if (rc != 0)
    return mn_fail(err, MN_EINTERNAL, "store: cannot start the notifier thread: %s",
                   strerror(rc));
  s->notifier_started = true;
  return 0;
}

void mn_notifier_stop(struct mn_store *s) {
  if (!s->notifier_started)
    return;
  pthread_mutex_lock(&s->notify_mu);
  s->notify_stop = true;
  pthread_cond_signal(&s->notify_cv);
  pthread_mutex_unlock(&s->notify_mu);
  pthread_join(s->notifier, NULL);
  s->notifier_started = false;
}
