/* docker_conf.c — the Docker provider's section: its keys, declared once
 * (provider.h, "Declarative configuration"); the daemon checks them all
 * and prints them (docs/docker.md's table is generated from this one). */
#include "docker_conf.h"

#include <stdio.h>
#include <string.h>

#include "registry_ref.h"

#define OFF(field) offsetof(struct mn_docker_conf, field)

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
    {.name = "socket", .type = MN_CONFIG_STRING, .def = "/var/run/docker.sock",
     .offset = OFF(socket), .check = socket_check,
     .doc = "The Engine's unix socket (an absolute path)."},
    {.name = "network", .type = MN_CONFIG_STRING, .flags = MN_CONFIG_NONEMPTY, .def = "host",
     .offset = OFF(network),
     .doc = "`host`, or the name of a Docker network the workers join."},
    {.name = "pull", .type = MN_CONFIG_BOOL, .def = "false", .offset = OFF(pull),
     .doc = "prepare pulls an image the Engine does not have."},
    {.name = "binds", .type = MN_CONFIG_STRINGS, .offset = OFF(binds),
     .count_offset = OFF(n_binds), .check = bind_check,
     .doc = "LOCAL DEVELOPMENT ONLY: `/HOST/PATH:/CONTAINER/PATH[:ro\\|:rw]` mounted into every "
            "worker container."},
    {.name = "retention", .type = MN_CONFIG_DURATION, .def = "7d",
     .offset = OFF(retention_seconds),
     .doc = "Saved logs of removed containers are deleted this long after; 0: kept."},
    {.name = "max_log_bytes", .type = MN_CONFIG_BYTES, .def = "64MiB",
     .offset = OFF(max_log_bytes),
     .doc = "A saved log keeps its head and tail around a marker line past this; 0: no cap."},
    {.name = "registry", .type = MN_CONFIG_STRING, .offset = OFF(registry),
     .check = mn_support_registry_check,
     .doc = "`HOST[:PORT]/REPOSITORY` where `multinode deploy` pushes images (GET "
            "/container_repository_credentials names it); implies `pull`."},
    {.name = "registry_username", .type = MN_CONFIG_STRING, .offset = OFF(registry_username),
     .doc = "The login prepare pulls with (pushers use their own)."},
    {.name = "registry_password", .type = MN_CONFIG_STRING, .offset = OFF(registry_password),
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
