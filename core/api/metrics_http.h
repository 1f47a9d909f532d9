/* GET /metrics (docs/observability.md): the counters of metrics/metrics.h
 * plus the gauges read at scrape time (the store's pool, the queues, the
 * open event streams), in the Prometheus text format. */
#ifndef MN_API_METRICS_HTTP_H
#define MN_API_METRICS_HTTP_H

#include "api/dispatch.h"

#define MN_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* How long one read of the queue counts serves later scrapes. */
#define MN_METRICS_QUEUE_CACHE_US 2000000

/* Fills out (200 with the exposition, or an error); blocks on the store
 * at most once per MN_METRICS_QUEUE_CACHE_US. */
void mn_api_metrics_output(struct mn_store *store, struct mn_api_output *out);

#endif
