/* Test plugin: built for a future major ABI (2.0); the host must refuse it
 * with a message naming the path and both versions. */
#include "stub_ops.h"

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI(2, 0),
    .struct_size = sizeof(struct mn_provider),
    .name = "wrongabi",
    .init = stub_init,
    .shutdown = stub_shutdown,
    .launch = stub_launch,
    .inspect_many = stub_inspect_many,
    .terminate = stub_terminate,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
