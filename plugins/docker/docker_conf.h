/* docker_conf.h — the providers.<name> section of the Docker provider: its
 * keys are the table mn_docker_conf_keys (docker_conf.c; printed by
 * `multinoded --print-config-reference=docker` and in docs/docker.md). */
#ifndef MN_DOCKER_CONF_H
#define MN_DOCKER_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "multinode/provider.h"

#define MN_DOCKER_SOCKET_MAX 108 /* sun_path */

struct mn_docker_conf {
  const char *socket;              /* borrowed; shorter than MN_DOCKER_SOCKET_MAX */
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

extern const struct mn_config_key mn_docker_conf_keys[];

/* Reads the section into OUT (the daemon has checked it against the table). */
int mn_docker_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                        struct mn_docker_conf *out, struct mn_provider_error *err);

#endif
