#include "api/metrics_http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "store/metrics_reads.h"
#include "util/clock.h"
#include "util/log.h"

/* The last read of the queue counts, shared by every scrape (and so by
 * every dashboard) for MN_METRICS_QUEUE_CACHE_US. */
static struct {
  pthread_mutex_t mu;
  struct mn_store *store; /* the store it was read from */
  int64_t read_at_us;
  bool ok;
  struct mn_metrics_queue_row *rows;
  size_t n, cap;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void clear_rows(void) {
  for (size_t i = 0; i < cache.n; i++)
    free((char *)cache.rows[i].project); /* one allocation holds all three */
  cache.n = 0;
}

static int add_row(void *ctx, const char *project, const char *version, const char *function,
                   long long queued, long long running) {
  (void)ctx;
  if (cache.n == cache.cap) {
    size_t cap = cache.cap ? 2 * cache.cap : 32;
    struct mn_metrics_queue_row *grown = realloc(cache.rows, cap * sizeof *grown);
    if (!grown)
      return MN_ENOMEM;
    cache.rows = grown;
    cache.cap = cap;
  }
  size_t lp = strlen(project) + 1, lv = strlen(version) + 1, lf = strlen(function) + 1;
  char *s = malloc(lp + lv + lf);
  if (!s)
    return MN_ENOMEM;
  memcpy(s, project, lp);
  memcpy(s + lp, version, lv);
  memcpy(s + lp + lv, function, lf);
  cache.rows[cache.n++] = (struct mn_metrics_queue_row){s, s + lp, s + lp + lv, queued, running};
  return 0;
}

static void refresh_queues(struct mn_store *store) {
  int64_t now = mn_monotonic_us();
  if (cache.store == store && cache.read_at_us && now - cache.read_at_us < MN_METRICS_QUEUE_CACHE_US)
    return;
  clear_rows();
  int rc = mn_store_queue_counts(store, add_row, NULL);
  cache.ok = rc == 0;
  if (rc) {
    clear_rows();
    mn_log_warn("api", "metrics: cannot read the queue counts: %s", mn_strerror(rc));
  }
  cache.store = store;
  cache.read_at_us = mn_monotonic_us();
}

void mn_api_metrics_output(struct mn_store *store, struct mn_api_output *out) {
  struct mn_store_pool_stats pool = {0};
  mn_store_pool_stats(store, &pool);
  pthread_mutex_lock(&cache.mu);
  refresh_queues(store);
  struct mn_metrics_gauges g = {
      .queues = cache.rows,
      .n_queues = cache.n,
      .queues_ok = cache.ok,
      .pool_size = pool.size,
      .pool_in_use = pool.in_use,
      .pool_waits = pool.waits,
      .pool_wait_us = pool.wait_us,
      .has_event_streams = mn_events_open_streams != NULL,
      .event_streams = mn_events_open_streams ? mn_events_open_streams() : 0,
      .event_reads = mn_events_listener_reads ? mn_events_listener_reads() : 0,
  };
  size_t len = 0;
  char *text = mn_metrics_render(&g, &len);
  pthread_mutex_unlock(&cache.mu);
  if (!text) {
    mn_api_output_error(MN_ENOMEM, out);
    return;
  }
  out->status = 200;
  out->text = text;
  out->len = len;
}
