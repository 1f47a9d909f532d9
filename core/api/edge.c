#include "api/edge.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <netinet/in.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"
#include "util/thread_name.h"

#define SUMMARY_INTERVAL_US (10 * MN_US_PER_S)
#define WATCH_INTERVAL_MS 100

struct edge_conn {
  struct edge_conn *prev, *next;
  int fd;
  struct sockaddr_storage addr; /* the client; only the address counts, not the port */
  int64_t since_us;             /* when the current wait for a request began */
  bool waiting;                 /* a request is owed: the deadline runs */
  bool trusted;                 /* an authenticated request was made */
  bool served;                  /* at least one request was answered */
  bool closing;                 /* shutdown() sent */
  bool stream;                  /* an event stream: not counted in open */
};

struct mn_edge {
  size_t max_connections, soft_limit, per_client;
  int64_t timeout_us;
  pthread_mutex_t mu; /* guards everything below */
  pthread_cond_t wake;
  struct edge_conn *head, *tail;
  size_t open;
  bool stopping;
  pthread_t watchdog;
  bool watchdog_started;
  struct mn_edge_stats stats;
  uint64_t reported_timed_out, reported_client, reported_full;
  int64_t last_summary_us;
};

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family)
    return false;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  if (a->ss_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
  return true; /* unix sockets: one client */
}

/* Closes c's socket for reading and writing; libmicrohttpd sees the end of
 * the stream and closes the connection (and tells us). Under mu. */
static void shut(struct mn_edge *e, struct edge_conn *c, uint64_t *counter) {
  if (c->closing)
    return;
  c->closing = true;
  e->open--;
  (*counter)++;
  shutdown(c->fd, SHUT_RDWR);
}

/* A new connection: make room for it among the untrusted ones. Under mu. */
static void admit(struct mn_edge *e, struct edge_conn *fresh) {
  size_t same = 1;
  struct edge_conn *oldest_same = NULL, *oldest_any = NULL;
  for (struct edge_conn *c = e->head; c; c = c->next) {
    if (c == fresh || c->closing || c->trusted || !c->waiting)
      continue;
    if (!oldest_any || c->since_us < oldest_any->since_us)
      oldest_any = c;
    if (same_address(&c->addr, &fresh->addr)) {
      same++;
      if (!oldest_same || c->since_us < oldest_same->since_us)
        oldest_same = c;
    }
  }
  if (same > e->per_client && oldest_same)
    shut(e, oldest_same, &e->stats.evicted_client);
  else if (e->open > e->soft_limit && oldest_any)
    shut(e, oldest_any, &e->stats.evicted_full);
}

static struct edge_conn *conn_record(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

void mn_edge_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                               enum MHD_ConnectionNotificationCode code) {
  struct mn_edge *e = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    struct edge_conn *c = calloc(1, sizeof *c);
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *socket_context = c;
    if (!c)
      return; /* untracked: served, but never timed out nor evicted */
    c->fd = fd ? fd->connect_fd : -1;
    if (addr && addr->client_addr) {
      socklen_t len = addr->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                : sizeof(struct sockaddr_in);
      memcpy(&c->addr, addr->client_addr, len);
    }
    c->since_us = mn_monotonic_us();
    c->waiting = c->fd >= 0;
    pthread_mutex_lock(&e->mu);
    c->prev = e->tail;
    if (e->tail)
      e->tail->next = c;
    else
      e->head = c;
    e->tail = c;
    e->open++;
    admit(e, c);
    pthread_mutex_unlock(&e->mu);
    return;
  }
  struct edge_conn *c = *socket_context;
  *socket_context = NULL;
  if (!c)
    return;
  pthread_mutex_lock(&e->mu);
  if (c->prev)
    c->prev->next = c->next;
  else
    e->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    e->tail = c->prev;
  if (!c->closing && !c->stream)
    e->open--;
  pthread_mutex_unlock(&e->mu);
  free(c);
}

void mn_edge_request_received(struct mn_edge *e, struct MHD_Connection *conn) {
  struct edge_conn *c = conn_record(conn);
  if (!c)
    return;
  pthread_mutex_lock(&e->mu);
  c->waiting = false;
  pthread_mutex_unlock(&e->mu);
}

void mn_edge_request_done(struct mn_edge *e, struct MHD_Connection *conn, bool authenticated) {
  struct edge_conn *c = conn_record(conn);
  if (!c)
    return;
  pthread_mutex_lock(&e->mu);
  c->trusted = c->trusted || authenticated;
  c->served = true;
  c->since_us = mn_monotonic_us();
  c->waiting = c->fd >= 0;
  pthread_mutex_unlock(&e->mu);
}

void mn_edge_stream_begun(struct mn_edge *e, struct MHD_Connection *conn) {
  struct edge_conn *c = conn_record(conn);
  if (!c)
    return;
  pthread_mutex_lock(&e->mu);
  if (!c->stream && !c->closing)
    e->open--;
  c->stream = true;
  c->trusted = true;
  c->waiting = false;
  pthread_mutex_unlock(&e->mu);
}

void mn_edge_get_stats(struct mn_edge *e, struct mn_edge_stats *out) {
  pthread_mutex_lock(&e->mu);
  *out = e->stats;
  out->open = e->open;
  pthread_mutex_unlock(&e->mu);
}

/* One line per interval while connections are being closed, not one per
 * connection: a flood must not become a flood of log lines. Under mu. */
static void summarise(struct mn_edge *e, int64_t now) {
  uint64_t slow = e->stats.timed_out - e->reported_timed_out;
  uint64_t client = e->stats.evicted_client - e->reported_client;
  uint64_t full = e->stats.evicted_full - e->reported_full;
  if ((!slow && !client && !full) || now - e->last_summary_us < SUMMARY_INTERVAL_US)
    return;
  e->last_summary_us = now;
  e->reported_timed_out = e->stats.timed_out;
  e->reported_client = e->stats.evicted_client;
  e->reported_full = e->stats.evicted_full;
  mn_log_warn("api",
              "closed %llu connections that sent no whole request within %llds, %llu past the "
              "limit of untrusted connections per client address and %llu to make room "
              "(%zu open)",
              (unsigned long long)slow, (long long)(e->timeout_us / MN_US_PER_S),
              (unsigned long long)client, (unsigned long long)full, e->open);
}

static void *watch(void *arg) {
  struct mn_edge *e = arg;
  mn_thread_name("mn-edge");
  uint64_t idle_closed = 0; /* keep-alive connections that went quiet: normal */
  pthread_mutex_lock(&e->mu);
  while (!e->stopping) {
    int64_t now = mn_monotonic_us();
    for (struct edge_conn *c = e->head; c; c = c->next) {
      if (c->closing || !c->waiting || now - c->since_us < e->timeout_us)
        continue;
      /* a connection that was served and then went quiet is a keep-alive
       * one at its end; one that never finished a request is the attack */
      shut(e, c, c->served ? &idle_closed : &e->stats.timed_out);
    }
    summarise(e, now);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&e->wake, &e->mu, &until);
  }
  pthread_mutex_unlock(&e->mu);
  return NULL;
}

int mn_edge_new(const struct mn_edge_options *opt, struct mn_edge **out, struct mn_error *err) {
  struct mn_edge *e = calloc(1, sizeof *e);
  *out = NULL;
  if (!e)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  e->max_connections = opt->max_connections ? opt->max_connections : 1000;
  e->per_client = opt->max_unauthenticated_per_client ? opt->max_unauthenticated_per_client : 64;
  e->timeout_us = (opt->request_timeout_ms > 0 ? opt->request_timeout_ms : 30000) * 1000;
  /* room to close one and accept the next before libmicrohttpd's hard limit */
  size_t headroom = e->max_connections / 16;
  if (headroom < 1)
    headroom = 1;
  e->soft_limit = e->max_connections > headroom ? e->max_connections - headroom : 1;
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->wake, NULL);
  if (pthread_create(&e->watchdog, NULL, watch, e) != 0) {
    mn_edge_free(e);
    return mn_fail(err, MN_EINTERNAL, "cannot start the connection watchdog");
  }
  e->watchdog_started = true;
  *out = e;
  return 0;
}

void mn_edge_free(struct mn_edge *e) {
  if (!e)
    return;
  mn_signal_stop(&e->mu, &e->stopping, &e->wake);
  if (e->watchdog_started)
    pthread_join(e->watchdog, NULL);
  while (e->head) { /* none once MHD has stopped; be safe */
    struct edge_conn *c = e->head;
    e->head = c->next;
    free(c);
  }
  pthread_cond_destroy(&e->wake);
  pthread_mutex_destroy(&e->mu);
  free(e);
}
