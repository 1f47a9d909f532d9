/* docker_conf.c — validate the Docker provider's configuration section. */
#include "docker_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byte_size.h"
#include "registry_ref.h"

/* api_url is the daemon's (provider.h, "What runs in the worker") */
static const char *const known_keys[] = {
    "socket",    "network",       "pull",
    "binds",     "retention",     "max_log_bytes", "registry",
    "registry_username", "registry_password"};

/* "/host/path:/container/path" or with ":ro" / ":rw" after it. */
static int bind_valid(const char *b) {
  const char *colon = strchr(b, ':');
  if (b[0] != '/' || !colon || colon[1] != '/')
    return 0;
  const char *mode = strchr(colon + 1, ':');
  return !mode || strcmp(mode, ":ro") == 0 || strcmp(mode, ":rw") == 0;
}

int mn_docker_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                        struct mn_docker_conf *out, struct mn_provider_error *err) {
  const char *socket = "/var/run/docker.sock";
  const char *network = "host";
  int rc;

  memset(out, 0, sizeof *out);
  rc = host->config_check_keys(config, known_keys, sizeof known_keys / sizeof known_keys[0], err);
  if (rc != 0)
    return rc;
  if ((rc = host->config_string(config, "socket", 0, &socket, err)) != 0 ||
      (rc = host->config_string(config, "network", 0, &network, err)) != 0 ||
      (rc = host->config_bool(config, "pull", 0, &out->pull, err)) != 0 ||
      (rc = host->config_strings(config, "binds", 0, &out->binds, &out->n_binds, err)) != 0 ||
      (rc = host->config_string(config, "registry", 0, &out->registry, err)) != 0 ||
      (rc = host->config_string(config, "registry_username", 0, &out->registry_username, err)) !=
          0 ||
      (rc = host->config_string(config, "registry_password", 0, &out->registry_password, err)) !=
          0)
    return rc;
  if (out->registry) {
    if (!mn_support_registry_valid(out->registry))
      return host->config_error(config, "registry", err, MN_SUPPORT_REGISTRY_HINT, out->registry);
    out->pull = 1; /* the images live there */
  }
  out->retention_seconds = 7 * 86400;
  if ((rc = host->config_duration(config, "retention", 0, &out->retention_seconds, err)) != 0)
    return rc;
  const char *max_log = NULL;
  out->max_log_bytes = UINT64_C(64) << 20;
  if ((rc = host->config_string(config, "max_log_bytes", 0, &max_log, err)) != 0)
    return rc;
  if (max_log && mn_support_parse_bytes(max_log, &out->max_log_bytes) != 0)
    return host->config_error(config, "max_log_bytes", err,
                              "expected a size in bytes, e.g. 67108864, 64MiB or 0 (no cap)");

  if (socket[0] != '/')
    return host->config_error(config, "socket", err, "\"%s\" is not an absolute path", socket);
  if (strlen(socket) >= sizeof out->socket)
    return host->config_error(config, "socket", err, "longer than %zu bytes",
                              sizeof out->socket - 1);
  memcpy(out->socket, socket, strlen(socket) + 1);
  if (network[0] == '\0')
    return host->config_error(config, "network", err, "must not be empty");
  out->network = network;
  for (size_t i = 0; i < out->n_binds; i++)
    if (!bind_valid(out->binds[i]))
      return host->config_error(config, "binds", err,
                                "\"%s\" is not /HOST/PATH:/CONTAINER/PATH[:ro|:rw]",
                                out->binds[i]);
  return 0;
}
