/* The daemon's metrics (docs/observability.md), served by GET /metrics in
 * the Prometheus text format. Every counter is a C11 atomic: recording is a
 * few relaxed atomic adds, never a lock, on the request and scheduler paths.
 * Labelled families (per function, per provider operation) find their entry
 * without a lock; only the first sighting of a label set takes one. Labels
 * never carry ids: routes are templates, functions are (project, function)
 * and the tables are bounded (past MN_METRICS_MAX_SERIES label sets, new
 * ones are counted under the label value "_other"). Process-wide: one
 * daemon per process. */
#ifndef MN_METRICS_METRICS_H
#define MN_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/model.h"

#define MN_METRICS_MAX_SERIES 1024

/* Derived statuses an invocation ends with (reference §6.4). */
enum mn_metrics_end {
  MN_END_SUCCEEDED = 0,
  MN_END_FAILED,
  MN_END_CANCELLED,
  MN_END_TIMED_OUT,
  MN_END_N
};
const char *mn_metrics_end_name(enum mn_metrics_end e); /* "SUCCEEDED", "TIMED OUT", ... */

/* The derived status of an invocation that has just been terminated at
 * `now` (its executions as the scheduler read them); queue_timeout: it
 * ended because it did not start within its queue timeout. */
enum mn_metrics_end mn_metrics_end_of(const struct mn_invocation *inv, int timeout_seconds,
                                      int max_retries, bool queue_timeout, int64_t now);

/* HTTP: route is an index into mn_api_routes, or one of the extra routes
 * below (not in the table); status is the HTTP status sent. */
enum {
  MN_METRICS_ROUTE_OPENAPI = -1,
  MN_METRICS_ROUTE_METRICS = -2,
  MN_METRICS_ROUTE_UI = -3,
  MN_METRICS_ROUTE_NONE = -4 /* no route matched */
};
void mn_metrics_http(int route, int status, int64_t duration_us);

void mn_metrics_invocation_created(const char *project, const char *function);
void mn_metrics_invocation_ended(const char *project, const char *function,
                                 enum mn_metrics_end status);
/* An attempt's worker started (/start): creation of its invocation -> now. */
void mn_metrics_dispatch_latency(int64_t us);
/* An attempt ended with /finish: its start -> its finish. */
void mn_metrics_attempt_duration(int64_t us);
void mn_metrics_scheduler_pass(int64_t us);
/* One provider operation as core/plugin's wrapper saw it; code is the
 * normalized provider code (0: ok). */
void mn_metrics_provider_call(const char *provider, const char *operation, int code);

/* Gauges read at scrape time. */
struct mn_metrics_queue_row {
  const char *project, *version, *function;
  long long queued, running;
};
struct mn_metrics_gauges {
  const struct mn_metrics_queue_row *queues; /* NULL with queues_ok false: not read */
  size_t n_queues;
  bool queues_ok;
  size_t pool_size, pool_in_use;
  uint64_t pool_waits;
  int64_t pool_wait_us;
  bool has_event_streams; /* false: no event streams in this build */
  size_t event_streams;
  unsigned long long event_reads; /* the event listener's reads of the events table */
};

/* The whole exposition; a heap string (NULL when out of memory). */
char *mn_metrics_render(const struct mn_metrics_gauges *g, size_t *len);

/* Open event streams: the events module (api/events.h) defines it; weak
 * here, so that a build without it links and leaves the gauge out. */
size_t mn_events_open_streams(void) __attribute__((weak));
unsigned long long mn_events_listener_reads(void) __attribute__((weak));

/* For tests: every counter back to zero. */
void mn_metrics_reset(void);

#endif
