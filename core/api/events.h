/* Live events (docs/events.md): one listener per daemon (LISTEN mn_events on
 * a connection of its own) reads the rows the store's triggers write, turns
 * each into Server-Sent Event text once, and fans it out to the open
 * streams whose filter it matches and to the GETs waiting for an
 * invocation's end (?wait_seconds=N). No stream ever queries Postgres on its
 * own after it opens.
 *
 * A stream is a bounded queue of shared, reference-counted event texts; the
 * HTTP server reads it from libmicrohttpd's content callback and suspends
 * the connection while it is empty (an idle stream costs its queue node,
 * this struct and the connection: no thread, no poll). A stream whose queue
 * passes its bound (a client that stopped reading) is dropped: its socket is
 * shut down. Every open stream gets a `: keep-alive` comment each
 * keepalive interval. */
#ifndef MN_API_EVENTS_H
#define MN_API_EVENTS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/events.h"
#include "store/store.h"
#include "util/error.h"

struct mn_events;
struct mn_event_stream;
struct mn_events_wait;

struct mn_events_options {
  size_t max_streams;         /* open at once; 0: 1000 */
  size_t stream_buffer_bytes; /* queued per stream before it is dropped; 0: 1 MiB */
  int64_t keepalive_ms;       /* 0: 15 s */
  int64_t retention_s;        /* events kept for resuming; 0: 3600 */
};

int mn_events_start(const struct mn_events_options *opt, struct mn_store *store,
                    struct mn_events **out, struct mn_error *err);
/* Ends every stream and wakes every waiter (before the HTTP server stops:
 * no connection may stay suspended), and refuses new ones. NULL-safe. */
void mn_events_shutdown(struct mn_events *ev);
/* Stops the listener and frees; after the HTTP server has stopped. */
void mn_events_free(struct mn_events *ev);

/* Event streams open in this process (for /metrics). */
size_t mn_events_open_streams(void);
/* Statements the listener has run to read the events table (for /metrics):
 * none while no stream or wait is registered (docs/events.md). */
unsigned long long mn_events_listener_reads(void);

/* ---- streams (handlers_events.c, server.c) ---- */
/* Registers a stream for the events matching f (copied); it holds events
 * that arrive from now on behind what the opener pushes first. invocation
 * streams (f->invocation_id set) end after the invocation's `end` event.
 * *position: the id of the last event already delivered when it
 * registered (a resume reads from the store up to it). MN_EUNAVAILABLE when
 * max_streams are open or the daemon is stopping, or (*position -1) when
 * the listener could not catch up for it (docs/events.md: no database). */
int mn_events_stream_open(struct mn_events *ev, const struct mn_event_filter *f,
                          struct mn_event_stream **out, int64_t *position);
/* Pushes one stored event (a row of store/events.h's columns) or, with
 * id 0, the invocation's current state (InvocationInfo) as an `invocation`
 * event without an id. */
void mn_events_stream_push_row(struct mn_event_stream *s, PGresult *r, int row);
void mn_events_stream_push_state(struct mn_event_stream *s, const struct mn_invocation *inv);
/* Done pushing: the events held since registration follow. */
void mn_events_stream_go_live(struct mn_event_stream *s);
/* A stream that was never handed to the HTTP server. */
void mn_events_stream_discard(struct mn_event_stream *s);
/* The HTTP server's side: the connection that carries it (its socket is
 * shut down when the stream is dropped), the content callback, and the
 * response's free callback. */
void mn_events_stream_attach(struct mn_event_stream *s, struct MHD_Connection *conn);
ssize_t mn_events_stream_read(void *stream, uint64_t pos, char *buf, size_t max);
void mn_events_stream_release(void *stream);

/* ---- waits (GET ...?wait_seconds=N) ---- */
/* Registers interest in the end of one invocation (finished derived status
 * or TERMINATED) before the handler reads it, so that no end is missed
 * between the read and the wait. NULL when out of memory or stopping. */
struct mn_events_wait *mn_events_wait_new(struct mn_events *ev, const char *project,
                                          const char *function, const char *invocation_id,
                                          int64_t deadline_us);
/* Calls fn(arg) once, on another thread, when the end was seen (also
 * before this call), at the deadline, or when the daemon stops. */
void mn_events_wait_arm(struct mn_events_wait *w, void (*fn)(void *), void *arg);
/* Unregisters and frees (NULL-safe); not while armed and not yet called. */
void mn_events_wait_free(struct mn_events_wait *w);

#endif
