/* docker_conf.c — the Docker provider's section: its keys, declared once
 * (provider.h, "Declarative configuration"); the daemon checks them all
 * and prints them (docs/docker.md's table is generated from this one). */
#include "docker_conf.h"

#include <stdio.h>
#include <string.h>

#include "registry_ref.h"

#define AT(T, field) MN_CONFIG_AT(struct mn_docker_conf, T, field)
#define LIST_AT(field, count) MN_CONFIG_LIST_AT(struct mn_docker_conf, field, count)

static int socket_check(const char *s, char *why, size_t size) {
  if (s[0] != '/')
    return snprintf(why, size, "is not an absolute path"), -1;
  if (strlen(s) >= MN_DOCKER_SOCKET_MAX)
    return snprintf(why, size, "is longer than %d bytes", MN_DOCKER_SOCKET_MAX - 1), -1;
  return 0;
}

/* "/host/path:/container/path" or with ":ro" / ":rw" after it. */
static int bind_check(const char *b, char *why, size_t size) {
  const char *colon = strchr(b, ':');
  const char *mode = colon ? strchr(colon + 1, ':') : NULL;
  if (b[0] == '/' && colon && colon[1] == '/' &&
      (!mode || strcmp(mode, ":ro") == 0 || strcmp(mode, ":rw") == 0))
    return 0;
  snprintf(why, size, "is not /HOST/PATH:/CONTAINER/PATH[:ro|:rw]");
  return -1;
}

/* api_url is the daemon's key of every section (provider.h). */
const struct mn_config_key mn_docker_conf_keys[] = {
    {.name = "socket", AT(STRING, socket), .def = "/var/run/docker.sock", .check = socket_check,
     .doc = "The Engine's unix socket (an absolute path)."},
    {.name = "network", AT(STRING, network), .flags = MN_CONFIG_NONEMPTY, .def = "host",
     .doc = "`host`, or the name of a Docker network the workers join."},
    {.name = "pull", AT(BOOL, pull), .def = "false",
     .doc = "prepare pulls an image the Engine does not have."},
    {.name = "binds", LIST_AT(binds, n_binds), .check = bind_check,
     .doc = "LOCAL DEVELOPMENT ONLY: `/HOST/PATH:/CONTAINER/PATH[:ro\\|:rw]` mounted into every "
            "worker container."},
    {.name = "retention", AT(DURATION, retention_seconds), .def = "7d",
     .doc = "Saved logs of removed containers are deleted this long after; 0: kept."},
    {.name = "max_log_bytes", AT(BYTES, max_log_bytes), .def = "64MiB",
     .doc = "A saved log keeps its head and tail around a marker line past this; 0: no cap."},
    {.name = "registry", AT(STRING, registry),
     .check = mn_support_registry_check,
     .doc = "`HOST[:PORT]/REPOSITORY` where `multinode deploy` pushes images (GET "
            "/container_repository_credentials names it); implies `pull`."},
    {.name = "registry_username", AT(STRING, registry_username),
     .doc = "The login prepare pulls with (pushers use their own)."},
    {.name = "registry_password", AT(STRING, registry_password),
     .doc = "Its password; better `registry_password_env: VAR`."},
    {0},
};

int mn_docker_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                        struct mn_docker_conf *out, struct mn_provider_error *err) {
  memset(out, 0, sizeof *out);
  if (!MN_HOST_HAS(host, config_load) || !host->config_load)
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon is too old (ABI 1.2 needed)");
  int rc = host->config_load(config, mn_docker_conf_keys, out, err);
  if (rc == 0 && out->registry)
    out->pull = 1; /* the images live there */
  return rc;
}
