/* Test plugin: a shared object that does not export mn_provider_entry. */
#include <multinode/provider.h>

MN_PROVIDER_EXPORT int mn_provider_entry_misspelled(void);

int mn_provider_entry_misspelled(void) { return 42; }
