/* Shared between events.c (streams, waits, fan-out) and events_listener.c
 * (the thread that reads the store). Internal to core/api. */
#ifndef MN_API_EVENTS_INTERNAL_H
#define MN_API_EVENTS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "api/events.h"

/* One event's SSE text, shared by every stream it goes to. */
struct ev_chunk {
  atomic_size_t refs;
  bool finishing; /* an invocation event whose invocation has ended */
  size_t len;
  char text[];
};

/* An event read from the store, ready to fan out. */
struct ev_item {
  int64_t id;
  struct ev_chunk *chunk;
  bool invocation; /* kind "invocation" */
  const char *project, *version, *function, *invocation_id; /* borrowed from the result */
};

struct mn_events {
  struct mn_store *store;
  char *dsn;
  size_t max_streams, buffer_bytes;
  int64_t keepalive_us, retention_us;
  pthread_mutex_t mu; /* guards everything below, and every stream and wait */
  struct mn_event_stream *streams;
  struct mn_events_wait *waits;
  int64_t position; /* the last event id fanned out (or passed over: stale below) */
  /* Streams and waits registered. With none, the listener does not read
   * the events table at a NOTIFY: it only marks the position stale, and the
   * first consumer to register waits (settled) until the listener has moved
   * the position past what was committed before it registered. */
  size_t consumers;
  bool stale;
  pthread_cond_t settled; /* stale became false, or stopping */
  int64_t next_keepalive_us;
  bool stopping;
  struct ev_chunk *keepalive;
  int wake_fd; /* eventfd: a new wait's deadline, or stop */
  pthread_t thread;
  bool thread_started;
  PGconn *pg; /* the listener's connection (its thread's only) */
};

/* events.c */
struct ev_chunk *mn_ev_chunk_from_row(PGresult *r, int row, int64_t id);
void mn_ev_chunk_unref(struct ev_chunk *c);
/* Fans a batch out (takes mu) and then finishes what that started: the
 * `end` of invocation streams, the callbacks of waits. */
void mn_ev_fan_out(struct mn_events *ev, struct ev_item *items, size_t n);
/* Keep-alives, stalled streams, wait deadlines; returns the next time (monotonic
 * microseconds) it needs to run. */
int64_t mn_ev_tick(struct mn_events *ev, int64_t now);

/* events_listener.c */
/* Under mu, after a consumer was added: waits until the position is no
 * longer stale (the listener settled it, docs/events.md). false when that
 * did not happen within a few seconds (no database) or the daemon stops. */
bool mn_ev_await_settled(struct mn_events *ev);
int mn_ev_listener_connect(struct mn_events *ev, struct mn_error *err);
void *mn_ev_listener_main(void *arg);

#endif
