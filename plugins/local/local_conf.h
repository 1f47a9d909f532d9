/* local_conf.h — the providers.<name> section of the local provider: its
 * keys are the table mn_local_conf_keys (local_conf.c; printed by
 * `multinoded --print-config-reference=local` and in docs/local.md). */
#ifndef MN_LOCAL_CONF_H
#define MN_LOCAL_CONF_H

#include <limits.h>
#include <stdint.h>

#include "multinode/provider.h"
#include "worker_user.h"

struct mn_local_conf {
  char worker[PATH_MAX];
  char bin_dir[PATH_MAX];
  char cgroup_parent[PATH_MAX]; /* "" when not configured */
  int spawner;                  /* default 1 */
  int64_t retention_seconds;    /* default 7 days; 0: keep forever */
  char user[64];                /* "" when not configured */
  int allow_root;               /* default 0 */
  uint64_t max_log_bytes;       /* default 64 MiB; 0: no cap */
  int cgroups;                  /* default 1 */
  struct mn_local_identity identity; /* `user` resolved for this process */
};

#define MN_LOCAL_DEFAULT_MAX_LOG_BYTES (UINT64_C(64) << 20)

/* The configuration file the daemon read (from where the host's
 * config_error places a problem: "FILE:LINE:COL: ..."), made absolute; 0,
 * or -1 when the host cannot tell (a host without config_error). */
int mn_local_config_file(const struct mn_cfg_node *config, const struct mn_host *host, char *out,
                         size_t size);

extern const struct mn_config_key mn_local_conf_keys[];

/* Reads the section (the daemon has checked it against the table) and
 * resolves what needs the machine: bin_dir, user. */
int mn_local_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                       struct mn_local_conf *out, struct mn_provider_error *err);

#endif
