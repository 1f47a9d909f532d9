/* The counters of metrics.h and their exposition (Prometheus text format
 * 0.0.4). Histograms keep one atomic count per bucket (not cumulative; the
 * exposition sums them) and their sum in microseconds. */
#include "metrics/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "metrics/buf.h"
#include "plugin/host.h"

#define MAX_BUCKETS 16

struct hist {
  const char *name, *help;
  const int64_t *bounds_us; /* upper bounds, increasing */
  size_t n;
  atomic_uint_fast64_t counts[MAX_BUCKETS + 1]; /* the last: +Inf */
  atomic_uint_fast64_t sum_us;
};

static void hist_observe(struct hist *h, int64_t us) {
  if (us < 0)
    us = 0;
  size_t i = 0;
  while (i < h->n && us > h->bounds_us[i])
    i++;
  atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

static const int64_t http_bounds[] = {1000,   5000,   10000,   25000,   50000,   100000,
                                      250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const int64_t dispatch_bounds[] = {10000,   50000,   100000,   250000,   500000,
                                          1000000, 2500000, 5000000,  10000000, 30000000,
                                          60000000, 300000000};
static const int64_t attempt_bounds[] = {100000,    500000,    1000000,    5000000,
                                         10000000,  30000000,  60000000,   300000000,
                                         900000000, 3600000000, 14400000000};
static const int64_t pass_bounds[] = {500,   1000,   2500,   5000,   10000,  25000,
                                      50000, 100000, 250000, 500000, 1000000, 5000000};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static struct hist dispatch_hist = {
    .name = "multinode_dispatch_latency_seconds",
    .help = "Time from an invocation's creation to the start (/start) of each of its "
            "attempts' workers.",
    .bounds_us = dispatch_bounds,
    .n = N_OF(dispatch_bounds)};
static struct hist attempt_hist = {.name = "multinode_attempt_duration_seconds",
                                   .help = "Time from an attempt's start to its /finish.",
                                   .bounds_us = attempt_bounds,
                                   .n = N_OF(attempt_bounds)};
static struct hist pass_hist = {.name = "multinode_scheduler_pass_duration_seconds",
                                .help = "Time one scheduler pass took.",
                                .bounds_us = pass_bounds,
                                .n = N_OF(pass_bounds)};

/* ---- HTTP ----------------------------------------------------------------- */

#define MAX_ROUTES 64
#define N_EXTRA 4 /* the negative route numbers of metrics.h */
static const int status_codes[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                   409, 413, 422, 429, 500, 503, 504};
#define N_STATUS (N_OF(status_codes) + 1) /* + other */

static atomic_uint_fast64_t http_count[MAX_ROUTES + N_EXTRA][N_STATUS];
static atomic_uint_fast64_t http_buckets[MAX_ROUTES + N_EXTRA][N_OF(http_bounds) + 1];
static atomic_uint_fast64_t http_sum_us[MAX_ROUTES + N_EXTRA];

static int route_slot(int route) {
  if (route < 0)
    return route < -N_EXTRA ? MAX_ROUTES + N_EXTRA - 1 : MAX_ROUTES + (-route - 1);
  return (size_t)route < mn_api_n_routes && route < MAX_ROUTES ? route
                                                               : MAX_ROUTES + N_EXTRA - 1;
}

void mn_metrics_http(int route, int status, int64_t duration_us) {
  int r = route_slot(route);
  size_t s = 0;
  while (s < N_OF(status_codes) && status_codes[s] != status)
    s++;
  atomic_fetch_add_explicit(&http_count[r][s], 1, memory_order_relaxed);
  if (duration_us < 0)
    duration_us = 0;
  size_t b = 0;
  while (b < N_OF(http_bounds) && duration_us > http_bounds[b])
    b++;
  atomic_fetch_add_explicit(&http_buckets[r][b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&http_sum_us[r], (uint_fast64_t)duration_us, memory_order_relaxed);
}

/* ---- labelled families ---------------------------------------------------- */

#define SEP '\x1f'
#define N_VALUES 8

struct series {
  _Atomic(char *) key; /* "a\x1fb", published once; NULL: free */
  atomic_uint_fast64_t v[N_VALUES];
};

struct family {
  pthread_mutex_t mu; /* taken only to add a label set */
  size_t n;           /* under mu */
  struct series slots[MN_METRICS_MAX_SERIES];
  struct series other; /* label sets past the bound */
};

static struct family functions = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct family providers = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t fnv1a(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

/* The series of labels (a, b): lock-free when it exists already. */
static struct series *series_of(struct family *f, const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char small[512];
  char *key = la + lb + 2 <= sizeof small ? small : malloc(la + lb + 2);
  if (!key)
    return &f->other;
  memcpy(key, a, la);
  key[la] = SEP;
  memcpy(key + la + 1, b, lb + 1);
  size_t len = la + lb + 1;
  size_t i = (size_t)(fnv1a(key, len) % MN_METRICS_MAX_SERIES);
  struct series *found = NULL;
  bool locked = false;
  for (size_t probes = 0; probes < MN_METRICS_MAX_SERIES && !found; probes++) {
    struct series *s = &f->slots[(i + probes) % MN_METRICS_MAX_SERIES];
    char *k = atomic_load_explicit(&s->key, memory_order_acquire);
    if (k && strcmp(k, key) == 0) {
      found = s;
    } else if (!k) {
      if (!locked) { /* look again from here under the lock */
        pthread_mutex_lock(&f->mu);
        locked = true;
        probes--;
        continue;
      }
      /* keep one slot in eight free so that probes stay short */
      char *copy = f->n < MN_METRICS_MAX_SERIES - MN_METRICS_MAX_SERIES / 8 ? strdup(key) : NULL;
      if (copy) {
        atomic_store_explicit(&s->key, copy, memory_order_release);
        f->n++;
      }
      found = copy ? s : &f->other;
    }
  }
  if (locked)
    pthread_mutex_unlock(&f->mu);
  if (key != small)
    free(key);
  return found ? found : &f->other;
}

void mn_metrics_invocation_created(const char *project, const char *function) {
  struct series *s = series_of(&functions, project ? project : "", function ? function : "");
  atomic_fetch_add_explicit(&s->v[MN_END_N], 1, memory_order_relaxed);
}

void mn_metrics_invocation_ended(const char *project, const char *function,
                                 enum mn_metrics_end status) {
  if ((unsigned)status >= MN_END_N)
    return;
  struct series *s = series_of(&functions, project ? project : "", function ? function : "");
  atomic_fetch_add_explicit(&s->v[status], 1, memory_order_relaxed);
}

void mn_metrics_provider_call(const char *provider, const char *operation, int code) {
  int k = -code; /* 0 ok, 1..6 the MN_PROVIDER_E_* codes */
  if (k < 0 || k >= N_VALUES)
    k = N_VALUES - 1;
  struct series *s = series_of(&providers, provider ? provider : "", operation ? operation : "");
  atomic_fetch_add_explicit(&s->v[k], 1, memory_order_relaxed);
}

void mn_metrics_dispatch_latency(int64_t us) { hist_observe(&dispatch_hist, us); }
void mn_metrics_attempt_duration(int64_t us) { hist_observe(&attempt_hist, us); }
void mn_metrics_scheduler_pass(int64_t us) { hist_observe(&pass_hist, us); }

const char *mn_metrics_end_name(enum mn_metrics_end e) {
  static const char *const names[] = {"SUCCEEDED", "FAILED", "CANCELLED", "TIMED OUT"};
  return (unsigned)e < MN_END_N ? names[e] : "";
}

static void reset_family(struct family *f) {
  pthread_mutex_lock(&f->mu);
  for (size_t i = 0; i < MN_METRICS_MAX_SERIES; i++) {
    free(atomic_exchange(&f->slots[i].key, NULL));
    for (size_t k = 0; k < N_VALUES; k++)
      atomic_store(&f->slots[i].v[k], 0);
  }
  for (size_t k = 0; k < N_VALUES; k++)
    atomic_store(&f->other.v[k], 0);
  f->n = 0;
  pthread_mutex_unlock(&f->mu);
}

static void reset_hist(struct hist *h) {
  for (size_t i = 0; i <= MAX_BUCKETS; i++)
    atomic_store(&h->counts[i], 0);
  atomic_store(&h->sum_us, 0);
}

void mn_metrics_reset(void) {
  reset_family(&functions);
  reset_family(&providers);
  reset_hist(&dispatch_hist);
  reset_hist(&attempt_hist);
  reset_hist(&pass_hist);
  memset(http_count, 0, sizeof http_count);
  memset(http_buckets, 0, sizeof http_buckets);
  memset(http_sum_us, 0, sizeof http_sum_us);
}

/* ---- exposition ----------------------------------------------------------- */

static void header(struct mn_buf *b, const char *name, const char *type, const char *help) {
  mn_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The seconds of a microsecond count, exactly (no float rounding). */
static void seconds(struct mn_buf *b, uint64_t us) {
  mn_buf_printf(b, "%llu.%06llu", (unsigned long long)(us / 1000000),
                 (unsigned long long)(us % 1000000));
}

/* Histogram lines; labels is "" or `k="v",` (with the trailing comma). */
static void hist_lines(struct mn_buf *b, const char *name, const char *labels,
                       const int64_t *bounds, size_t n, atomic_uint_fast64_t *counts,
                       uint64_t sum_us) {
  uint64_t cum = 0;
  for (size_t i = 0; i <= n; i++) {
    cum += atomic_load_explicit(&counts[i], memory_order_relaxed);
    mn_buf_printf(b, "%s_bucket{%sle=\"", name, labels);
    if (i < n)
      seconds(b, (uint64_t)bounds[i]);
    else
      mn_mbuf_puts(b, "+Inf");
    mn_buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
  }
  size_t ll = strlen(labels);
  /* the labels without their trailing comma */
  mn_buf_printf(b, "%s_sum%s%.*s%s ", name, ll ? "{" : "", (int)(ll ? ll - 1 : 0), labels,
                 ll ? "}" : "");
  seconds(b, sum_us);
  mn_buf_printf(b, "\n%s_count%s%.*s%s %llu\n", name, ll ? "{" : "", (int)(ll ? ll - 1 : 0),
                 labels, ll ? "}" : "", (unsigned long long)cum);
}

static void hist_render(struct mn_buf *b, struct hist *h) {
  header(b, h->name, "histogram", h->help);
  hist_lines(b, h->name, "", h->bounds_us, h->n, h->counts,
             atomic_load_explicit(&h->sum_us, memory_order_relaxed));
}

static void route_labels(struct mn_buf *b, int slot) {
  static const char *const extra[] = {"/openapi.json", "/metrics", "/ui/", "other"};
  if (slot < MAX_ROUTES) {
    const struct mn_route *r = &mn_api_routes[slot];
    static const char *const methods[] = {"GET", "PUT", "POST", "DELETE", "OTHER"};
    mn_buf_printf(b, "method=\"%s\",route=\"", methods[r->method]);
    mn_mbuf_label(b, r->pattern);
    mn_mbuf_puts(b, "\",");
  } else {
    mn_buf_printf(b, "method=\"%s\",route=\"%s\",", slot == MAX_ROUTES + N_EXTRA - 1 ? "any" : "GET",
                   extra[slot - MAX_ROUTES]);
  }
}

static bool http_slot_used(int slot) {
  if (slot < MAX_ROUTES)
    return (size_t)slot < mn_api_n_routes;
  return true;
}

static void render_http(struct mn_buf *b) {
  header(b, "multinode_http_requests_total", "counter",
         "HTTP requests answered, by method, route template and status code.");
  for (int r = 0; r < MAX_ROUTES + N_EXTRA; r++) {
    if (!http_slot_used(r))
      continue;
    for (size_t s = 0; s < N_STATUS; s++) {
      uint64_t v = atomic_load_explicit(&http_count[r][s], memory_order_relaxed);
      if (!v)
        continue;
      mn_mbuf_puts(b, "multinode_http_requests_total{");
      route_labels(b, r);
      if (s < N_OF(status_codes))
        mn_buf_printf(b, "code=\"%d\"} %llu\n", status_codes[s], (unsigned long long)v);
      else
        mn_buf_printf(b, "code=\"other\"} %llu\n", (unsigned long long)v);
    }
  }
  header(b, "multinode_http_request_duration_seconds", "histogram",
         "Time from a request's first line to its answer being queued, by route template.");
  for (int r = 0; r < MAX_ROUTES + N_EXTRA; r++) {
    uint64_t total = 0;
    for (size_t i = 0; i <= N_OF(http_bounds); i++)
      total += atomic_load_explicit(&http_buckets[r][i], memory_order_relaxed);
    if (!http_slot_used(r) || total == 0)
      continue;
    struct mn_buf labels = {0};
    route_labels(&labels, r);
    hist_lines(b, "multinode_http_request_duration_seconds", labels.data ? labels.data : "",
               http_bounds, N_OF(http_bounds), http_buckets[r],
               atomic_load_explicit(&http_sum_us[r], memory_order_relaxed));
    mn_buf_release(&labels);
  }
}

/* Labels "k1=\"a\",k2=\"b\"" of a family key. */
static void key_labels(struct mn_buf *b, const char *key, const char *k1, const char *k2) {
  const char *sep = strchr(key, SEP);
  size_t la = sep ? (size_t)(sep - key) : strlen(key);
  mn_buf_printf(b, "%s=\"", k1);
  mn_mbuf_label_n(b, key, la);
  mn_buf_printf(b, "\",%s=\"", k2);
  mn_mbuf_label(b, sep ? sep + 1 : "");
  mn_mbuf_puts(b, "\"");
}

typedef void row_fn(struct mn_buf *b, const char *key, atomic_uint_fast64_t *v, void *ctx);

static void each_series(struct family *f, struct mn_buf *b, row_fn *fn, void *ctx) {
  for (size_t i = 0; i < MN_METRICS_MAX_SERIES; i++) {
    char *k = atomic_load_explicit(&f->slots[i].key, memory_order_acquire);
    if (k)
      fn(b, k, f->slots[i].v, ctx);
  }
  bool any = false;
  for (size_t k = 0; k < N_VALUES; k++)
    any |= atomic_load_explicit(&f->other.v[k], memory_order_relaxed) != 0;
  if (any)
    fn(b, "_other\x1f_other", f->other.v, ctx);
}

static void row_created(struct mn_buf *b, const char *key, atomic_uint_fast64_t *v,
                        void *ctx) {
  (void)ctx;
  mn_mbuf_puts(b, "multinode_invocations_created_total{");
  key_labels(b, key, "project", "function");
  mn_buf_printf(b, "} %llu\n",
                 (unsigned long long)atomic_load_explicit(&v[MN_END_N], memory_order_relaxed));
}

static void row_ended(struct mn_buf *b, const char *key, atomic_uint_fast64_t *v, void *ctx) {
  (void)ctx;
  for (int e = 0; e < MN_END_N; e++) {
    uint64_t n = atomic_load_explicit(&v[e], memory_order_relaxed);
    if (!n)
      continue;
    mn_mbuf_puts(b, "multinode_invocations_ended_total{");
    key_labels(b, key, "project", "function");
    mn_buf_printf(b, ",status=\"%s\"} %llu\n", mn_metrics_end_name((enum mn_metrics_end)e),
                   (unsigned long long)n);
  }
}

static void row_calls(struct mn_buf *b, const char *key, atomic_uint_fast64_t *v, void *ctx) {
  (void)ctx;
  uint64_t n = 0;
  for (size_t k = 0; k < N_VALUES; k++)
    n += atomic_load_explicit(&v[k], memory_order_relaxed);
  mn_mbuf_puts(b, "multinode_provider_calls_total{");
  key_labels(b, key, "provider", "operation");
  mn_buf_printf(b, "} %llu\n", (unsigned long long)n);
}

static void row_errors(struct mn_buf *b, const char *key, atomic_uint_fast64_t *v,
                       void *ctx) {
  (void)ctx;
  for (int k = 1; k < N_VALUES; k++) {
    uint64_t n = atomic_load_explicit(&v[k], memory_order_relaxed);
    if (!n)
      continue;
    mn_mbuf_puts(b, "multinode_provider_errors_total{");
    key_labels(b, key, "provider", "operation");
    mn_mbuf_puts(b, ",kind=\"");
    mn_mbuf_label(b, k == N_VALUES - 1 ? "unknown" : mn_provider_strerror(-k));
    mn_buf_printf(b, "\"} %llu\n", (unsigned long long)n);
  }
}

static void render_queues(struct mn_buf *b, const struct mn_metrics_gauges *g) {
  static const char *const names[] = {"multinode_invocations_queued",
                                      "multinode_invocations_running"};
  static const char *const helps[] = {
      "RUNNING invocations waiting for a worker (the queue), per function version.",
      "RUNNING invocations that hold a worker, per function version."};
  for (int w = 0; w < 2; w++) {
    header(b, names[w], "gauge", helps[w]);
    for (size_t i = 0; i < g->n_queues; i++) {
      const struct mn_metrics_queue_row *q = &g->queues[i];
      mn_buf_printf(b, "%s{project=\"", names[w]);
      mn_mbuf_label(b, q->project);
      mn_mbuf_puts(b, "\",version=\"");
      mn_mbuf_label(b, q->version);
      mn_mbuf_puts(b, "\",function=\"");
      mn_mbuf_label(b, q->function);
      mn_buf_printf(b, "\"} %lld\n", w == 0 ? q->queued : q->running);
    }
  }
}

char *mn_metrics_render(const struct mn_metrics_gauges *g, size_t *len) {
  struct mn_buf b = {0};
  header(&b, "multinode_invocations_created_total", "counter",
         "Invocations created through the API, per function.");
  each_series(&functions, &b, row_created, NULL);
  header(&b, "multinode_invocations_ended_total", "counter",
         "Invocations terminated by the scheduler, per function and derived status.");
  each_series(&functions, &b, row_ended, NULL);
  if (g->queues_ok)
    render_queues(&b, g);
  hist_render(&b, &dispatch_hist);
  hist_render(&b, &attempt_hist);
  hist_render(&b, &pass_hist);
  header(&b, "multinode_provider_calls_total", "counter",
         "Provider operations called, per provider and operation.");
  each_series(&providers, &b, row_calls, NULL);
  header(&b, "multinode_provider_errors_total", "counter",
         "Provider operations that failed, per provider, operation and kind of error.");
  each_series(&providers, &b, row_errors, NULL);
  render_http(&b);
  header(&b, "multinode_store_pool_connections", "gauge",
         "Postgres connections of the pool, by state.");
  mn_buf_printf(&b, "multinode_store_pool_connections{state=\"in_use\"} %zu\n",
                 g->pool_in_use);
  mn_buf_printf(&b, "multinode_store_pool_connections{state=\"idle\"} %zu\n",
                 g->pool_size - g->pool_in_use);
  header(&b, "multinode_store_pool_waits_total", "counter",
         "Times a thread found every pooled Postgres connection busy and waited.");
  mn_buf_printf(&b, "multinode_store_pool_waits_total %llu\n",
                 (unsigned long long)g->pool_waits);
  header(&b, "multinode_store_pool_wait_seconds_total", "counter",
         "Time threads spent waiting for a pooled Postgres connection.");
  mn_mbuf_puts(&b, "multinode_store_pool_wait_seconds_total ");
  seconds(&b, (uint64_t)(g->pool_wait_us > 0 ? g->pool_wait_us : 0));
  mn_mbuf_puts(&b, "\n");
  if (g->has_event_streams) {
    header(&b, "multinode_event_streams_open", "gauge", "Server-Sent Event streams open.");
    mn_buf_printf(&b, "multinode_event_streams_open %zu\n", g->event_streams);
    header(&b, "multinode_event_listener_reads_total", "counter",
           "Statements the event listener ran to read the events table.");
    mn_buf_printf(&b, "multinode_event_listener_reads_total %llu\n", g->event_reads);
  }
  return mn_buf_take(&b, len);
}
