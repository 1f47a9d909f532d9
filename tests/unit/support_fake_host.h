/* support_fake_host.h — a small, real struct mn_host for provider tests:
 * a flat key/value configuration section, captured log lines, the wall
 * clock; plus loading a built provider with dlopen from $MN_PLUGIN_DIR.
 *
 * tests/CMakeLists.txt builds every test_*.c as its own program, so a test
 * that uses this does `#include "unit/support_fake_host.c"` once. */
#ifndef MN_TEST_SUPPORT_FAKE_HOST_H
#define MN_TEST_SUPPORT_FAKE_HOST_H

#include <pthread.h>
#include <stddef.h>

#include "multinode/provider.h"

#define MN_FAKE_CFG_MAX 16
#define MN_FAKE_LOG_MAX 256

/* The opaque config node, as this fake host sees it: scalars only. */
struct mn_cfg_node {
  size_t n;
  struct {
    char key[64];
    char value[512];
  } kv[MN_FAKE_CFG_MAX];
};

struct mn_fake_host {
  struct mn_host host; /* first: the callbacks find the fake from it */
  struct mn_cfg_node config;
  char provider_name[64];
  char data_dir[4096];
  char cluster_id[128];
  pthread_mutex_t lock;
  char logs[MN_FAKE_LOG_MAX][600];
  size_t n_logs;
};

void mn_fake_host_init(struct mn_fake_host *fh, const char *provider_name, const char *data_dir,
                       const char *cluster_id);
void mn_fake_host_release(struct mn_fake_host *fh);
/* Adds (or replaces) a key of the provider's section. */
void mn_fake_host_set(struct mn_fake_host *fh, const char *key, const char *value);
/* How many captured log lines contain needle; the first one, or NULL. */
size_t mn_fake_host_count_logs(struct mn_fake_host *fh, const char *needle);
const char *mn_fake_host_find_log(struct mn_fake_host *fh, const char *needle);

/* dlopens $MN_PLUGIN_DIR/mn_provider_<name>.so; NULL (and a message) on failure. */
const struct mn_provider *mn_fake_load_provider(const char *name, void **dl_out);

#endif
