/* mn_provider_memory.c — an in-memory provider for the plugin host's tests
 * (tests/unit/test_plugin_host.c): launch records the execution, whose
 * worker has "exited" at once with the configured exit code, and its log is
 * `log_lines` synthetic lines. It needs no backend, so the host's wrappers,
 * paging and concurrency are checked exactly. Not a model to copy: that is
 * plugins/template.
 *
 *   providers:
 *     memory:
 *       exit_code: 0       # what every worker "exits" with (0..255)
 *       log_lines: 3       # how many log lines each worker "writes" (0..1000)
 */
#include <multinode/provider.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One worker this provider started. A real provider keeps nothing of this
 * kind in memory: its backend (Docker, ECS, ...) is the source of truth, so
 * that a restarted daemon finds its workers again. */
struct worker {
  char execution_id[128];
  struct mn_worker_ref ref;
  struct mn_worker_state state;
  int released;
};

/* The state init builds and every operation gets back. */
struct memory_state {
  const struct mn_host *host; /* valid until shutdown */
  int64_t exit_code;
  int64_t log_lines;
  pthread_mutex_t lock; /* operations run concurrently */
  struct worker *workers;
  size_t n_workers, cap_workers;
};

/* The keys this provider understands, for config_check_keys. */
static const char *const known_keys[] = {"exit_code", "log_lines"};

/* ----------------------------------------------------------------------
 * init / shutdown
 */

static int memory_init(const struct mn_cfg_node *config, const struct mn_host *host,
                         void **state_out, struct mn_provider_error *err) {
  struct memory_state *st;
  int rc;

  /* First reject keys we do not know (the message lists every one of them,
   * with file:line:col), then read each known key with its type and range.
   * Set the default before reading: an absent key leaves the value alone. */
  rc = host->config_check_keys(config, known_keys, sizeof known_keys / sizeof known_keys[0], err);
  if (rc)
    return rc;
  st = calloc(1, sizeof *st);
  if (!st)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  st->host = host;
  st->exit_code = 0;
  st->log_lines = 3;
  if ((rc = host->config_int(config, "exit_code", 0, 0, 255, &st->exit_code, err)) ||
      (rc = host->config_int(config, "log_lines", 0, 0, 1000, &st->log_lines, err))) {
    free(st);
    return rc;
  }
  pthread_mutex_init(&st->lock, NULL);
  host->log(host, MN_HOST_LOG_INFO, "memory provider ready (exit_code %d)", (int)st->exit_code);
  *state_out = st;
  return 0;
}

static void memory_shutdown(void *state) {
  struct memory_state *st = state;
  pthread_mutex_destroy(&st->lock);
  free(st->workers);
  free(st);
}

/* ----------------------------------------------------------------------
 * prepare: nothing to register; we remember that we saw the function.
 */

static int memory_prepare(void *state, const struct mn_function_desc *fn,
                            struct mn_prepared *out, struct mn_provider_error *err) {
  (void)state;
  (void)fn;
  (void)err;
  /* A real provider registers the function with its backend here (ECS:
   * RegisterTaskDefinition) and returns what launch needs as JSON. */
  snprintf(out->details_json, sizeof out->details_json, "{\"type\":\"memory\"}");
  return 0;
}

/* ----------------------------------------------------------------------
 * launch: idempotent on the execution id.
 */

/* Called with the lock held. */
static struct worker *find_by_execution(struct memory_state *st, const char *execution_id) {
  for (size_t i = 0; i < st->n_workers; i++)
    if (strcmp(st->workers[i].execution_id, execution_id) == 0)
      return &st->workers[i];
  return NULL;
}

static struct worker *find_by_ref(struct memory_state *st, const struct mn_worker_ref *ref) {
  for (size_t i = 0; i < st->n_workers; i++)
    if (strcmp(st->workers[i].ref.identifier, ref->identifier) == 0)
      return &st->workers[i];
  return NULL;
}

static int memory_launch(void *state, const struct mn_launch_spec *spec,
                           struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
  struct memory_state *st = state;
  const struct mn_host *host = st->host;
  struct worker *w;
  int rc = 0;

  if (!spec->execution_id || strlen(spec->execution_id) >= sizeof w->execution_id)
    return host->error(err, MN_PROVIDER_E_INVALID, "bad execution id");

  pthread_mutex_lock(&st->lock);
  /* Idempotency: the same execution id gives the same worker. A real
   * provider asks its backend (a deterministic container name, an ECS
   * clientToken) rather than its memory. */
  w = find_by_execution(st, spec->execution_id);
  if (!w) {
    if (st->n_workers == st->cap_workers) {
      size_t cap = st->cap_workers ? st->cap_workers * 2 : 16;
      struct worker *grown = realloc(st->workers, cap * sizeof *grown);
      if (!grown) {
        rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
        goto done;
      }
      st->workers = grown;
      st->cap_workers = cap;
    }
    w = &st->workers[st->n_workers++];
    memset(w, 0, sizeof *w);
    snprintf(w->execution_id, sizeof w->execution_id, "%s", spec->execution_id);
    snprintf(w->ref.identifier, sizeof w->ref.identifier, "memory-%s", spec->execution_id);
    snprintf(w->ref.logs_identifier, sizeof w->ref.logs_identifier, "%s", w->ref.identifier);
    /* The "worker" has finished as soon as it started. */
    w->state.phase = MN_WORKER_PHASE_EXITED;
    w->state.exit_code = (int)st->exit_code;
    host->log(host, MN_HOST_LOG_DEBUG, "launched %s for execution %s", w->ref.identifier,
              spec->execution_id);
  }
  *ref_out = w->ref;
done:
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ----------------------------------------------------------------------
 * inspect_many: unknown workers are MISSING, which is not an error.
 */

static int memory_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                                 struct mn_worker_state *states_out,
                                 struct mn_provider_error *err) {
  struct memory_state *st = state;
  (void)err;
  pthread_mutex_lock(&st->lock);
  for (size_t i = 0; i < n; i++) {
    struct worker *w = find_by_ref(st, &refs[i]);
    if (w) {
      states_out[i] = w->state;
    } else {
      memset(&states_out[i], 0, sizeof states_out[i]);
      states_out[i].phase = MN_WORKER_PHASE_MISSING;
      states_out[i].exit_code = -1;
      snprintf(states_out[i].reason, sizeof states_out[i].reason, "no such worker");
    }
  }
  pthread_mutex_unlock(&st->lock);
  return 0;
}

/* ----------------------------------------------------------------------
 * terminate / release: both succeed for workers that are already gone.
 */

static int memory_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                              struct mn_provider_error *err) {
  struct memory_state *st = state;
  (void)grace_seconds; /* a real provider: SIGTERM now, SIGKILL after the grace */
  (void)err;
  pthread_mutex_lock(&st->lock);
  struct worker *w = find_by_ref(st, ref);
  if (w && w->state.phase != MN_WORKER_PHASE_EXITED) {
    w->state.phase = MN_WORKER_PHASE_EXITED;
    w->state.exit_code = 128 + 15;
    snprintf(w->state.reason, sizeof w->state.reason, "terminated");
  }
  pthread_mutex_unlock(&st->lock);
  return 0;
}

static int memory_release(void *state, const struct mn_worker_ref *ref,
                            struct mn_provider_error *err) {
  struct memory_state *st = state;
  (void)err;
  pthread_mutex_lock(&st->lock);
  struct worker *w = find_by_ref(st, ref);
  if (w)
    w->released = 1; /* the log stays readable */
  pthread_mutex_unlock(&st->lock);
  return 0;
}

/* ----------------------------------------------------------------------
 * list_owned: every worker not yet released. A real provider lists its
 * backend by the label holding host->cluster_id.
 */

static int memory_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                               struct mn_provider_error *err) {
  struct memory_state *st = state;
  (void)err;
  pthread_mutex_lock(&st->lock);
  /* Copy before calling back, so that cb may call other operations. */
  size_t n = st->n_workers;
  struct worker *copy = n ? malloc(n * sizeof *copy) : NULL;
  if (n && !copy) {
    pthread_mutex_unlock(&st->lock);
    return st->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  }
  if (n)
    memcpy(copy, st->workers, n * sizeof *copy);
  pthread_mutex_unlock(&st->lock);
  for (size_t i = 0; i < n; i++) {
    if (copy[i].released)
      continue;
    struct mn_owned_worker ow = {.execution_id = copy[i].execution_id, .ref = copy[i].ref,
                                 .state = copy[i].state};
    if (cb(ctx, &ow))
      break;
  }
  free(copy);
  return 0;
}

/* ----------------------------------------------------------------------
 * logs: `log_lines` synthetic lines per worker; the offset is the index of
 * the next line, as decimal text (offsets are opaque to the daemon).
 */

static int memory_logs(void *state, const struct mn_worker_ref *ref, const char *offset,
                         int max_lines, struct mn_log_page *page,
                         struct mn_provider_error *err) {
  struct memory_state *st = state;
  long start = 0;
  char line[MN_WORKER_ID_MAX + 64];

  if (offset) {
    char *end;
    start = strtol(offset, &end, 10);
    if (!offset[0] || *end || start < 0)
      return st->host->error(err, MN_PROVIDER_E_INVALID, "bad log offset \"%s\"", offset);
  }
  pthread_mutex_lock(&st->lock);
  int known = find_by_ref(st, ref) != NULL;
  pthread_mutex_unlock(&st->lock);
  if (!known)
    return st->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for worker \"%s\"",
                           ref->identifier);

  long i = start;
  for (; i < st->log_lines && i - start < max_lines; i++) {
    int n = snprintf(line, sizeof line, "%s line %ld", ref->logs_identifier, i + 1);
    if (page->add_line(page, line, (size_t)n))
      break; /* the page is full: continue from line i next time */
  }
  /* "" means: no more lines for now. */
  if (i < st->log_lines)
    snprintf(page->next_offset, sizeof page->next_offset, "%ld", i);
  return 0;
}

/* ----------------------------------------------------------------------
 * The table the daemon loads. Fields in this order; struct_size tells the
 * daemon which operations this build knows.
 */

static const struct mn_provider memory_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "memory",
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_LIST_OWNED,
    .init = memory_init,
    .shutdown = memory_shutdown,
    .prepare = memory_prepare,
    .launch = memory_launch,
    .inspect_many = memory_inspect_many,
    .terminate = memory_terminate,
    .release = memory_release,
    .list_owned = memory_list_owned,
    .logs = memory_logs,
};

const struct mn_provider *mn_provider_entry(void) { return &memory_provider; }
