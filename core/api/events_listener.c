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
 * outlives GAP_GIVE_UP (a transaction held open that long) is skipped. */
#include "api/events_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "util/clock.h"
#include "util/log.h"

#define BATCH 500
#define GAP_RECHECK_MS 10
#define GAP_GIVE_UP_US (5 * MN_US_PER_S)
#define RECONNECT_MS 1000
#define PRUNE_EVERY_US (60 * MN_US_PER_S)

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
  if (!ok || mn_store_events_last(pg, &last, err) != 0) {
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

static void drain(int fd) {
  uint64_t v;
  while (read(fd, &v, sizeof v) > 0) {
  }
}

void *mn_ev_listener_main(void *arg) {
  struct mn_events *ev = arg;
  struct gap gap = {0};
  int64_t next_prune = mn_monotonic_us() + PRUNE_EVERY_US;
  bool stopping = false, gap_pending = false;
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
      gap_pending = true; /* read what happened meanwhile */
    }
    if (gap_pending)
      gap_pending = fetch(ev, &gap, &lost);
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
    if (gap_pending && timeout > GAP_RECHECK_MS)
      timeout = GAP_RECHECK_MS;
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
          gap_pending = true;
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
