/* Test plugin: struct_size too small to hold the mandatory operations. */
#include <stddef.h>

#include "stub_ops.h"

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = offsetof(struct mn_provider, launch),
    .name = "small",
    .init = stub_init,
    .shutdown = stub_shutdown,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
