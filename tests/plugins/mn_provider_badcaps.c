/* Test plugin: declares the logs capability without a logs operation. */
#include "stub_ops.h"

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "badcaps",
    .caps = MN_PROVIDER_CAP_LOGS,
    .init = stub_init,
    .shutdown = stub_shutdown,
    .launch = stub_launch,
    .inspect_many = stub_inspect_many,
    .terminate = stub_terminate,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
