/* docker_conf.h — the providers.<name> section of the Docker provider
 * (api_url, the URL containers call the daemon at, is the daemon's key of
 * every section: provider.h):
 *
 *   socket: /var/run/docker.sock   # the engine's unix socket
 *   network: host                  # "host", or the name of a Docker network
 *   pull: false                    # prepare pulls a missing image
 *   binds: ["/src:/dst[:ro]"]      # LOCAL DEVELOPMENT ONLY: host paths
 *                                  # mounted into every worker container
 *   retention: 7d                  # saved logs of removed containers are
 *                                  # deleted this long after; 0: kept
 *   registry: HOST[:PORT]/REPO     # where `multinode deploy` pushes the
 *                                  # images (GET /container_repository_
 *                                  # credentials names it); implies pull
 *   registry_username: NAME        # the login prepare pulls with (the
 *   registry_password_env: VAR     # pushers use their own); like any key,
 *                                  # either may be KEY_env: VAR
 *   max_log_bytes: 64MiB           # a saved log keeps its head and tail
 *                                  # around a marker line past this
 *                                  # (log_cap.h); 0: no cap
 */
#ifndef MN_DOCKER_CONF_H
#define MN_DOCKER_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "multinode/provider.h"

#define MN_DOCKER_SOCKET_MAX 108 /* sun_path */

struct mn_docker_conf {
  char socket[MN_DOCKER_SOCKET_MAX];
  const char *network;            /* borrowed from the daemon's config */
  const char *const *binds;       /* borrowed */
  size_t n_binds;
  int pull;
  const char *registry;              /* NULL: none */
  const char *registry_username;     /* NULL: pull without a login */
  const char *registry_password;
  int64_t retention_seconds; /* saved logs kept this long; 0: forever (default 7 days) */
  uint64_t max_log_bytes;    /* a saved log's cap; 0: none (default 64 MiB) */
};

int mn_docker_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                        struct mn_docker_conf *out, struct mn_provider_error *err);

#endif
