/* Test plugin: a mandatory operation (launch) is NULL. */
#include "stub_ops.h"

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "nolaunch",
    .init = stub_init,
    .shutdown = stub_shutdown,
    .inspect_many = stub_inspect_many,
    .terminate = stub_terminate,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
