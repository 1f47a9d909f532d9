/* Shared by the test plugins: trivial operations that do nothing useful.
 * Each test plugin is built alone (one .c = one module), so these are
 * static and each plugin includes this header once. */
#ifndef MN_TEST_STUB_OPS_H
#define MN_TEST_STUB_OPS_H

#include <multinode/provider.h>

#include <stdio.h>
#include <stdlib.h>

/* not every plugin uses every stub */
#pragma GCC diagnostic ignored "-Wunused-function"

static int stub_init(const struct mn_cfg_node *config, const struct mn_host *host,
                     void **state_out, struct mn_provider_error *err) {
  (void)config;
  (void)host;
  (void)err;
  *state_out = NULL;
  return 0;
}

static void stub_shutdown(void *state) { (void)state; }

static int stub_launch(void *state, const struct mn_launch_spec *spec,
                       struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
  (void)state;
  (void)err;
  snprintf(ref_out->identifier, sizeof ref_out->identifier, "stub-%s", spec->execution_id);
  return 0;
}

static int stub_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                             struct mn_worker_state *states_out, struct mn_provider_error *err) {
  (void)state;
  (void)refs;
  (void)err;
  for (size_t i = 0; i < n; i++)
    states_out[i].phase = MN_WORKER_PHASE_RUNNING;
  return 0;
}

static int stub_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                          struct mn_provider_error *err) {
  (void)state;
  (void)ref;
  (void)grace_seconds;
  (void)err;
  return 0;
}

#endif
