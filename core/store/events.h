/* The store's side of live events and progress history (migration 8,
 * docs/events.md): rows that triggers write in the transaction of each
 * change, read back by the daemon's one listener and by resuming streams. */
#ifndef MN_STORE_EVENTS_H
#define MN_STORE_EVENTS_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store/store.h"

/* The columns of an event row, in this order, for every reader below. */
enum { MN_EV_ID, MN_EV_KIND, MN_EV_PROJECT, MN_EV_VERSION, MN_EV_FUNCTION, MN_EV_INVOCATION,
       MN_EV_DATA, MN_EV_XMIN, MN_EV_XMAX };

/* Which events: NULL fields match anything. */
struct mn_event_filter {
  const char *project_name;
  const char *version_id;
  const char *function_name;
  const char *invocation_id;
};

/* Prepares the read below on the listener's connection (once per
 * connection: it runs at every batch of events while streams are open). */
int mn_store_events_prepare(PGconn *pg, struct mn_error *err);
/* On the listener's own connection, prepared: up to `limit` events with id > after,
 * in id order, each row also carrying its snapshot's xmin and xmax (text),
 * which tell whether a gap in the ids may still fill. PQclear *out. */
int mn_store_events_fetch(PGconn *pg, int64_t after, int limit, PGresult **out,
                          struct mn_error *err);
/* On the listener's connection, without reading any event's data: the
 * run of consecutive ids after `after` (end: its last id, `after` when
 * after + 1 is missing), the first id past the run's break (0: none) and
 * the statement's snapshot's xmin and xmax. */
struct mn_events_run {
  int64_t end, next;
  uint64_t xmin, xmax;
};
int mn_store_events_settle(PGconn *pg, int64_t after, struct mn_events_run *out,
                           struct mn_error *err);
/* The highest event id (0: none); on the listener's connection. */
int mn_store_events_last(PGconn *pg, int64_t *out, struct mn_error *err);

/* Events with after < id <= upto that match, in id order, at most `limit`
 * (through the pool; for a stream resuming with Last-Event-ID). */
int mn_store_events_between(struct mn_store *s, int64_t after, int64_t upto,
                            const struct mn_event_filter *f, int limit, PGresult **out);
/* Deletes events older than `before` (microseconds); *n_deleted may be NULL. */
int mn_store_prune_events(struct mn_store *s, int64_t before, int *n_deleted);

/* One page of an execution's progress history, oldest first, from update
 * number `after` + 1; the execution's path is checked first (its *_NOT_FOUND
 * codes). outputs/times get max_results entries at most (heap arrays of heap
 * strings; free with mn_progress_page_release); *next is the number to
 * pass as `after` for the next page, or -1 on the last page. */
struct mn_progress_page {
  char **outputs;
  int64_t *times;
  int64_t *numbers;
  size_t n;
  int64_t next_after; /* -1: no more */
};
int mn_store_list_progress(struct mn_store *s, const struct mn_function_key *fk,
                           const char *invocation_id, const char *execution_id, int64_t after,
                           int max_results, struct mn_progress_page *out);
void mn_progress_page_release(struct mn_progress_page *p);

#endif
