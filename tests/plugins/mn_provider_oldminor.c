/* Test plugin: built against an older, smaller struct mn_provider that ends
 * after `release` (struct_size says so). The bytes after it in memory hold
 * pointers to functions that abort: the host must copy only struct_size
 * bytes, so list_owned and logs read as NULL and their wrappers report
 * "not supported" without calling anything. No batch-inspect capability:
 * the host must call inspect_many one ref at a time. */
#include <stddef.h>

#include "stub_ops.h"

static int must_not_list(void *state, mn_owned_worker_fn *cb, void *ctx,
                         struct mn_provider_error *err) {
  (void)state;
  (void)cb;
  (void)ctx;
  (void)err;
  abort();
}

static int must_not_log(void *state, const struct mn_worker_ref *ref, const char *offset,
                        int max_lines, struct mn_log_page *page, struct mn_provider_error *err) {
  (void)state;
  (void)ref;
  (void)offset;
  (void)max_lines;
  (void)page;
  (void)err;
  abort();
}

/* Fails when called with more than one ref (we declare no batch inspect). */
static int one_at_a_time(void *state, const struct mn_worker_ref *refs, size_t n,
                         struct mn_worker_state *states_out, struct mn_provider_error *err) {
  (void)state;
  if (n != 1) {
    err->code = MN_PROVIDER_E_INVALID;
    snprintf(err->msg, sizeof err->msg, "inspect_many got %zu refs without the batch cap", n);
    return MN_PROVIDER_E_INVALID;
  }
  states_out[0].phase = refs[0].identifier[0] == 'x' ? MN_WORKER_PHASE_MISSING
                                                     : MN_WORKER_PHASE_RUNNING;
  return 0;
}

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI(MN_PROVIDER_ABI_MAJOR, 0),
    .struct_size = offsetof(struct mn_provider, list_owned),
    .name = "oldminor",
    .init = stub_init,
    .shutdown = stub_shutdown,
    .launch = stub_launch,
    .inspect_many = one_at_a_time,
    .terminate = stub_terminate,
    .list_owned = must_not_list,
    .logs = must_not_log,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
