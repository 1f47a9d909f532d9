/* local_conf.h — the providers.<name> section of the local provider:
 *
 *   worker: multinode-worker      # the worker executable; a bare name is
 *                                 # looked up in the child's PATH
 *   bin_dir: /usr/local/bin       # put FIRST on the child's PATH; default:
 *                                 # the directory of the daemon executable
 *   cgroup_parent: /sys/fs/cgroup/multinode   # optional: where per-execution
 *                                 # cgroups go (cgroup v2)
 *   spawner: true                 # fork workers from a pre-started
 *                                 # `multinode-worker --spawner` (zygote.h)
 *                                 # when the worker is multinode-worker
 *   retention: 7d                 # the record and log of a released worker
 *                                 # are deleted this long after; 0: kept
 */
#ifndef MN_LOCAL_CONF_H
#define MN_LOCAL_CONF_H

#include <limits.h>
#include <stdint.h>

#include "multinode/provider.h"

struct mn_local_conf {
  char worker[PATH_MAX];
  char bin_dir[PATH_MAX];
  char cgroup_parent[PATH_MAX]; /* "" when not configured */
  int spawner;                  /* default 1 */
  int64_t retention_seconds;    /* default 7 days; 0: keep forever */
};

int mn_local_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                       struct mn_local_conf *out, struct mn_provider_error *err);

#endif
