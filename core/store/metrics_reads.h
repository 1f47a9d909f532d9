/* What GET /metrics reads from the store (docs/observability.md): the
 * connection pool's state, and the queue depth and running count of every
 * function version that has either, from the two partial indexes of the
 * queue model (migration 5) alone. */
#ifndef MN_STORE_METRICS_READS_H
#define MN_STORE_METRICS_READS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Counts stop at this many per function and queue (a bounded read: with
 * two functions of 100,000 queued each, counting to 100,000 took 0.93 s a
 * read, to 10,000 94 ms). */
#define MN_STORE_QUEUE_COUNT_CAP 10000
/* At most this many function versions, the first in key order. */
#define MN_STORE_QUEUE_ROWS_MAX 500

struct mn_store_pool_stats {
  size_t size, in_use;
  uint64_t waits;  /* acquisitions that found no idle connection */
  int64_t wait_us; /* time spent waiting for one */
  uint64_t statements; /* statements run, each retry counted */
};
void mn_store_pool_stats(struct mn_store *s, struct mn_store_pool_stats *out);

typedef int mn_store_queue_count_fn(void *ctx, const char *project, const char *version,
                                    const char *function, long long queued, long long running);
/* Calls cb once per function version with queued or running invocations:
 * a skip scan of invocations_queue and invocations_live (one descent per
 * function), then per function an index-only count bounded by
 * MN_STORE_QUEUE_COUNT_CAP. 0, MN_EUNAVAILABLE, or cb's non-zero. */
int mn_store_queue_counts(struct mn_store *s, mn_store_queue_count_fn *cb, void *ctx);

#endif
