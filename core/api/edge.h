/* The HTTP edge: what keeps a flood of connections from starving workers
 * and clients that hold a key.
 *
 * Every connection is tracked from accept to close (libmicrohttpd's
 * connection notifications). While a connection owes a request (since it
 * was accepted, or since its previous answer was sent) a deadline runs: a
 * connection that has not delivered a whole request, headers and body,
 * within request_timeout is closed by a watchdog thread (shutdown() of its
 * socket; libmicrohttpd then closes it) however slowly it trickles bytes.
 *
 * A connection that has made an authenticated request is trusted. A new
 * connection always gets in: when its client address already has
 * max_unauthenticated_per_client untrusted connections owing a request, or
 * the server is near max_connections, the oldest such connection (of that
 * address, else of any) is closed to make room. Trusted connections are
 * never closed to make room, so a keep-alive worker keeps its connection
 * under any flood of connections without a key. */
#ifndef MN_API_EDGE_H
#define MN_API_EDGE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct mn_edge_options {
  size_t max_connections;                /* libmicrohttpd's limit; 0: 1000 */
  size_t max_unauthenticated_per_client; /* 0: 64 */
  int64_t request_timeout_ms;            /* 0: 30 s */
};

struct mn_edge;

int mn_edge_new(const struct mn_edge_options *opt, struct mn_edge **out, struct mn_error *err);
/* Stops the watchdog and frees; after MHD_stop_daemon. NULL-safe. */
void mn_edge_free(struct mn_edge *e);

/* MHD_OPTION_NOTIFY_CONNECTION's callback, with the edge as cls. */
void mn_edge_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                               enum MHD_ConnectionNotificationCode code);
/* The request on conn has arrived whole: its deadline stops. */
void mn_edge_request_received(struct mn_edge *e, struct MHD_Connection *conn);
/* Its answer has been sent (or the request ended): the next request's
 * deadline starts. authenticated: the request passed the key check. */
void mn_edge_request_done(struct mn_edge *e, struct MHD_Connection *conn, bool authenticated);

/* conn now carries an event stream: it leaves the count of connections
 * for requests (streams have their own limit) and is never timed out. */
void mn_edge_stream_begun(struct mn_edge *e, struct MHD_Connection *conn);

/* Counters, for logs and tests. */
struct mn_edge_stats {
  size_t open;                /* tracked and not being closed */
  uint64_t timed_out;         /* closed: no whole request within the deadline */
  uint64_t evicted_client;    /* closed: too many untrusted from one address */
  uint64_t evicted_full;      /* closed: the server near its limit */
};
void mn_edge_get_stats(struct mn_edge *e, struct mn_edge_stats *out);

#endif
