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
 *   retention: 7d                 # the record, log and working directory
 *                                 # of a released worker are deleted this
 *                                 # long after; 0: kept
 *   user: nobody                  # who workers run as; default: nobody when
 *                                 # the daemon runs as root, else the
 *                                 # daemon's own user (worker_user.h)
 *   allow_root: false             # let `user` be root
 *   max_log_bytes: 64MiB          # per execution: the worker's log keeps
 *                                 # its head and tail around a marker line
 *                                 # past this (worker/logcap.h); 0: no cap
 *   cgroups: true                 # per-execution cgroups (v2) where the
 *                                 # machine offers them; false: rlimits,
 *                                 # and cleanup by subreaper + process group
 */
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

/* Parses a byte count: digits with an optional unit (k/K/KiB, M/MiB,
 * G/GiB: powers of 1024; B). 0, or -1 when it is not one. */

int mn_local_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                       struct mn_local_conf *out, struct mn_provider_error *err);

#endif
