/* A provider whose launches fail TRANSIENT: the first `transient_launches`
 * launches of each execution, or all of them with `always_transient: true`.
 * A launch that succeeds starts no process: its worker is reported EXITED
 * (code 0) at the next inspect. The end-to-end tests use it to show that
 * transient failures cost no attempt and that provision_timeout ends an
 * execution that never gets a worker. */
#include <multinode/provider.h>

#include "stub_ops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXECUTIONS 256

struct flaky {
  const struct mn_host *host;
  int64_t transient_launches;
  int always;
  pthread_mutex_t mu;
  struct {
    char id[128];
    int attempts;
    int launched;
  } seen[MAX_EXECUTIONS];
  size_t n_seen;
};

static int flaky_init(const struct mn_cfg_node *config, const struct mn_host *host,
                      void **state_out, struct mn_provider_error *err) {
  static const char *const known[] = {"transient_launches", "always_transient"};
  struct flaky *f = calloc(1, sizeof *f);
  if (!f)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  f->host = host;
  pthread_mutex_init(&f->mu, NULL);
  int rc;
  if ((rc = host->config_check_keys(config, known, 2, err)) != 0 ||
      (rc = host->config_int(config, "transient_launches", 0, 0, 1000, &f->transient_launches,
                             err)) != 0 ||
      (rc = host->config_bool(config, "always_transient", 0, &f->always, err)) != 0) {
    pthread_mutex_destroy(&f->mu);
    free(f);
    return rc;
  }
  *state_out = f;
  return 0;
}

static void flaky_shutdown(void *state) {
  struct flaky *f = state;
  pthread_mutex_destroy(&f->mu);
  free(f);
}

/* The entry of an execution, created on first sight; NULL when full. */
static size_t entry(struct flaky *f, const char *id) {
  for (size_t i = 0; i < f->n_seen; i++)
    if (strcmp(f->seen[i].id, id) == 0)
      return i;
  if (f->n_seen == MAX_EXECUTIONS)
    return MAX_EXECUTIONS;
  snprintf(f->seen[f->n_seen].id, sizeof f->seen[0].id, "%s", id);
  return f->n_seen++;
}

static int flaky_launch(void *state, const struct mn_launch_spec *spec,
                        struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
  struct flaky *f = state;
  pthread_mutex_lock(&f->mu);
  size_t i = entry(f, spec->execution_id);
  int fail = i == MAX_EXECUTIONS || f->always || f->seen[i].attempts < f->transient_launches;
  int attempt = i == MAX_EXECUTIONS ? 0 : ++f->seen[i].attempts;
  if (!fail)
    f->seen[i].launched = 1;
  pthread_mutex_unlock(&f->mu);
  if (fail)
    return f->host->error(err, MN_PROVIDER_E_TRANSIENT, "flaky: simulated outage (attempt %d)",
                          attempt);
  snprintf(ref_out->identifier, sizeof ref_out->identifier, "%s", spec->execution_id);
  snprintf(ref_out->logs_identifier, sizeof ref_out->logs_identifier, "%s", spec->execution_id);
  return 0;
}

static int flaky_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                              struct mn_worker_state *states_out, struct mn_provider_error *err) {
  struct flaky *f = state;
  (void)err;
  pthread_mutex_lock(&f->mu);
  for (size_t k = 0; k < n; k++) {
    memset(&states_out[k], 0, sizeof states_out[k]);
    size_t i = entry(f, refs[k].identifier);
    int launched = i < MAX_EXECUTIONS && f->seen[i].launched;
    states_out[k].phase = launched ? MN_WORKER_PHASE_EXITED : MN_WORKER_PHASE_MISSING;
    states_out[k].exit_code = launched ? 0 : -1;
    snprintf(states_out[k].reason, sizeof states_out[k].reason, "%s",
             launched ? "flaky worker" : "never launched");
  }
  pthread_mutex_unlock(&f->mu);
  return 0;
}

static const struct mn_provider flaky_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "flaky",
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT,
    .init = flaky_init,
    .shutdown = flaky_shutdown,
    .launch = flaky_launch,
    .inspect_many = flaky_inspect_many,
    .terminate = stub_terminate, /* nothing runs: nothing to stop */
};

MN_PROVIDER_EXPORT const struct mn_provider *mn_provider_entry(void) { return &flaky_provider; }
