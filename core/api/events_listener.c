/* The daemon's one event listener (api/events.h): LISTEN mn_events on a
 * connection of its own, read the new event rows in id order, fan them out.
 *
 * Ids come from a sequence, so a transaction that took a smaller id may
 * commit after one that took a larger: a reader that moved past the gap
 * would lose it for good. At a gap the listener stops and notes the
 * snapshot's xmax; the transaction that holds the missing id (if any)
 * wrote its row after taking its xid, so its xid is below that xmax. Once a
 * later snapshot's xmin passes it, every such transaction has ended: the id
 * is there (delivered in order) or was rolled back (skipped). A gap that
 * outlives GAP_GIVE_UP (a transaction held open that long) is skipped.
 *
 * With no consumer registered (no stream, no wait) a NOTIFY reads nothing:
 * the position is only marked stale. The first consumer to register then
 * waits while the listener settles it: one statement reads the ids (not the
 * events) past the position and moves it to the end of the committed run,
 * delivering nothing, since everything committed by then is visible to what
 * the consumer reads next. A gap is waited for, as above, up to
 * SETTLE_GAP_US, so that a rolled-back id of long ago does not stop a new
 * stream before events it never asked for; a gap still open then is left
 * to the ordinary reads. */
#include "api/events_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/thread_name.h"

#define BATCH 500
#define GAP_RECHECK_MS 10
#define GAP_GIVE_UP_US (5 * MN_US_PER_S)
#define RECONNECT_MS 1000
#define PRUNE_EVERY_US (60 * MN_US_PER_S)
#define SETTLE_GAP_US (50 * 1000)
#define SETTLE_WAIT_S 3

static atomic_ullong reads; /* statements that read the events table */

unsigned long long mn_events_listener_reads(void) { return atomic_load(&reads); }

struct gap {
  int64_t id;      /* the first missing id, 0: none */
  uint64_t xmax;   /* the snapshot's xmax when it was first seen */
  int64_t since_us;
};

int mn_ev_listener_connect(struct mn_events *ev, struct mn_error *err) {
  PGconn *pg;
  int rc = mn_db_connect(ev->dsn, "10", &pg, err);
  if (rc != 0)
    return rc;
  PGresult *r = PQexec(pg, "LISTEN mn_events");
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  int64_t last = 0;
  if (!ok || mn_store_events_prepare(pg, err) != 0 || mn_store_events_last(pg, &last, err) != 0) {
    if (!ok)
      mn_fail(err, MN_EUNAVAILABLE, "cannot LISTEN for events: %s", PQerrorMessage(pg));
    PQfinish(pg);
    return MN_EUNAVAILABLE;
  }
  ev->pg = pg;
  pthread_mutex_lock(&ev->mu);
  if (ev->position == 0) /* the first connection; a reconnect reads on from where it was */
    ev->position = last;
  pthread_mutex_unlock(&ev->mu);
  return 0;
}

/* Reads and delivers what is new. Returns true when it stopped at a gap
 * that may still fill (read again soon), false otherwise; *lost when the
 * connection failed. */
static bool fetch(struct mn_events *ev, struct gap *gap, bool *lost) {
  for (;;) {
    pthread_mutex_lock(&ev->mu);
    int64_t last = ev->position;
    pthread_mutex_unlock(&ev->mu);
    PGresult *r;
    struct mn_error err;
    atomic_fetch_add(&reads, 1);
    if (mn_store_events_fetch(ev->pg, last, BATCH, &r, &err) != 0) {
      mn_log_warn("events", "%s", err.msg);
      *lost = PQstatus(ev->pg) != CONNECTION_OK;
      return false;
    }
    int rows = PQntuples(r);
    struct ev_item *items = rows ? calloc((size_t)rows, sizeof *items) : NULL;
    size_t n = 0;
    bool waiting = false;
    int64_t expected = last + 1, now = mn_monotonic_us();
    for (int i = 0; i < rows && (items || rows == 0); i++) {
      int64_t id = strtoll(PQgetvalue(r, i, MN_EV_ID), NULL, 10);
      if (id != expected) {
        uint64_t xmin = strtoull(PQgetvalue(r, i, MN_EV_XMIN), NULL, 10);
        if (gap->id != expected) {
          gap->id = expected;
          gap->xmax = strtoull(PQgetvalue(r, i, MN_EV_XMAX), NULL, 10);
          gap->since_us = now;
          waiting = true;
          break;
        }
        if (xmin < gap->xmax && now - gap->since_us < GAP_GIVE_UP_US) {
          waiting = true;
          break;
        }
        if (xmin < gap->xmax)
          mn_log_warn("events", "skipped events %lld to %lld: a transaction held them %llds",
                      (long long)expected, (long long)id - 1,
                      (long long)(GAP_GIVE_UP_US / MN_US_PER_S));
      }
      gap->id = 0;
      items[n] = (struct ev_item){id,
                                  mn_ev_chunk_from_row(r, i, id),
                                  strcmp(PQgetvalue(r, i, MN_EV_KIND), "invocation") == 0,
                                  PQgetvalue(r, i, MN_EV_PROJECT),
                                  PQgetvalue(r, i, MN_EV_VERSION),
                                  PQgetvalue(r, i, MN_EV_FUNCTION),
                                  PQgetvalue(r, i, MN_EV_INVOCATION)};
      if (!items[n].chunk)
        mn_log_error("events", "event %lld could not be encoded", (long long)id);
      n++;
      expected = id + 1;
    }
    if (n > 0)
      mn_ev_fan_out(ev, items, n);
    for (size_t k = 0; k < n; k++)
      mn_ev_chunk_unref(items[k].chunk);
    free(items);
    PQclear(r);
    if (waiting || rows < BATCH || n == 0)
      return waiting;
  }
}

static void set_position(struct mn_events *ev, int64_t id) {
  pthread_mutex_lock(&ev->mu);
  ev->position = id;
  pthread_mutex_unlock(&ev->mu);
}

enum settle { SETTLED, AT_GAP, FAILED };

/* Moves a stale position past what is committed, delivering nothing. */
static enum settle settle(struct mn_events *ev, struct gap *gap, bool *lost) {
  for (;;) {
    pthread_mutex_lock(&ev->mu);
    int64_t last = ev->position;
    pthread_mutex_unlock(&ev->mu);
    struct mn_events_run run;
    struct mn_error err;
    atomic_fetch_add(&reads, 1);
    if (mn_store_events_settle(ev->pg, last, &run, &err) != 0) {
      mn_log_warn("events", "%s", err.msg);
      *lost = PQstatus(ev->pg) != CONNECTION_OK;
      return FAILED;
    }
    set_position(ev, run.end);
    if (run.next == 0)
      return SETTLED;
    int64_t missing = run.end + 1, now = mn_monotonic_us();
    if (gap->id != missing) {
      *gap = (struct gap){missing, run.xmax, now};
      return AT_GAP;
    }
    if (run.xmin < gap->xmax && now - gap->since_us < GAP_GIVE_UP_US)
      return AT_GAP;
    if (run.xmin < gap->xmax)
      mn_log_warn("events", "skipped events %lld to %lld: a transaction held them %llds",
                  (long long)missing, (long long)run.next - 1,
                  (long long)(GAP_GIVE_UP_US / MN_US_PER_S));
    gap->id = 0;
    set_position(ev, run.next - 1);
  }
}

static void poke_fd(int fd) {
  uint64_t one = 1;
  if (write(fd, &one, sizeof one) < 0) {
    /* the counter is saturated: the thread is awake anyway */
  }
}

bool mn_ev_await_settled(struct mn_events *ev) {
  if (!ev->stale)
    return true;
  poke_fd(ev->wake_fd);
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += SETTLE_WAIT_S;
  while (ev->stale && !ev->stopping)
    if (pthread_cond_timedwait(&ev->settled, &ev->mu, &until) == ETIMEDOUT)
      break;
  return !ev->stale && !ev->stopping;
}

static void drain(int fd) {
  uint64_t v;
  while (read(fd, &v, sizeof v) > 0) {
  }
}

void *mn_ev_listener_main(void *arg) {
  struct mn_events *ev = arg;
  mn_thread_name("mn-events");
  struct gap gap = {0};
  int64_t next_prune = mn_monotonic_us() + PRUNE_EVERY_US;
  bool stopping = false, read_soon = false; /* a NOTIFY came, or a gap may fill */
  while (!stopping) {
    bool lost = false;
    if (!ev->pg) {
      struct mn_error err;
      if (mn_ev_listener_connect(ev, &err) != 0) {
        struct pollfd p = {ev->wake_fd, POLLIN, 0};
        poll(&p, 1, RECONNECT_MS);
        drain(ev->wake_fd);
        pthread_mutex_lock(&ev->mu);
        stopping = ev->stopping;
        pthread_mutex_unlock(&ev->mu);
        mn_ev_tick(ev, mn_monotonic_us());
        continue;
      }
      mn_log_info("events", "listening for events again");
      read_soon = true; /* read what happened meanwhile */
    }
    /* what to do, decided under mu: a consumer registers either before
     * (and is read for) or after (and sees the position stale) */
    pthread_mutex_lock(&ev->mu);
    bool stale = ev->stale, consumers = ev->consumers > 0;
    if (!consumers && read_soon) {
      ev->stale = stale = true;
      read_soon = false;
    }
    pthread_mutex_unlock(&ev->mu);
    int soon_ms = -1; /* when to run again at the latest, -1: no hurry */
    if (stale && consumers) {
      enum settle st = settle(ev, &gap, &lost);
      bool done = st == SETTLED ||
                  (st == AT_GAP && mn_monotonic_us() - gap.since_us >= SETTLE_GAP_US);
      if (done) {
        pthread_mutex_lock(&ev->mu);
        ev->stale = false;
        pthread_cond_broadcast(&ev->settled);
        pthread_mutex_unlock(&ev->mu);
      }
      read_soon = st == AT_GAP && done;
      soon_ms = st == FAILED ? RECONNECT_MS : GAP_RECHECK_MS; /* a consumer waits */
    } else if (read_soon) {
      read_soon = fetch(ev, &gap, &lost);
    }
    if (read_soon)
      soon_ms = GAP_RECHECK_MS;
    /* notifications libpq took in while a statement ran: the socket will
     * not show them again */
    PGnotify *queued;
    while (!lost && ev->pg && (queued = PQnotifies(ev->pg)) != NULL) {
      read_soon = true;
      soon_ms = 0;
      PQfreemem(queued);
    }
    int64_t now = mn_monotonic_us();
    int64_t next = mn_ev_tick(ev, now);
    if (now >= next_prune) {
      int n = 0;
      mn_store_prune_events(ev->store, mn_now_us() - ev->retention_us, &n);
      if (n > 0)
        mn_log_info("events", "pruned %d event(s) past retention", n);
      next_prune = now + PRUNE_EVERY_US;
    }
    if (next > next_prune)
      next = next_prune;
    int timeout = (int)((next - now + 999) / 1000);
    if (timeout < 0)
      timeout = 0;
    if (soon_ms >= 0 && timeout > soon_ms)
      timeout = soon_ms;
    struct pollfd p[2] = {{ev->wake_fd, POLLIN, 0}, {lost ? -1 : PQsocket(ev->pg), POLLIN, 0}};
    if (poll(p, 2, timeout) < 0 && errno != EINTR)
      lost = true;
    if (p[0].revents)
      drain(ev->wake_fd);
    if (p[1].revents) {
      if (!PQconsumeInput(ev->pg)) {
        lost = true;
      } else {
        PGnotify *nt;
        while ((nt = PQnotifies(ev->pg)) != NULL) {
          read_soon = true;
          PQfreemem(nt);
        }
      }
    }
    if (lost || PQstatus(ev->pg) != CONNECTION_OK) {
      mn_log_warn("events", "lost the event listener's connection; reconnecting");
      PQfinish(ev->pg);
      ev->pg = NULL;
    }
    pthread_mutex_lock(&ev->mu);
    stopping = ev->stopping;
    pthread_mutex_unlock(&ev->mu);
  }
  return NULL;
}
