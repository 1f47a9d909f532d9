/* Test plugin: init validates its section through the host's accessors and
 * fails on a bad key; with `fail_message: TEXT` it fails with TEXT instead
 * (a non-config init failure). */
#include "stub_ops.h"

static int initfail_init(const struct mn_cfg_node *config, const struct mn_host *host,
                         void **state_out, struct mn_provider_error *err) {
  static const char *const known[] = {"size", "fail_message"};
  const char *message = NULL;
  int64_t size = 1;
  int rc = host->config_check_keys(config, known, 2, err);
  if (rc)
    return rc;
  if ((rc = host->config_int(config, "size", 1, 1, 10, &size, err)))
    return rc;
  if ((rc = host->config_string(config, "fail_message", 0, &message, err)))
    return rc;
  if (message)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "%s", message);
  *state_out = NULL;
  return 0;
}

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "initfail",
    .init = initfail_init,
    .shutdown = stub_shutdown,
    .launch = stub_launch,
    .inspect_many = stub_inspect_many,
    .terminate = stub_terminate,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
