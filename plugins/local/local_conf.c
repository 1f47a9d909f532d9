/* local_conf.c — validate the local provider's configuration section. */
#include "local_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const known_keys[] = {"worker", "bin_dir", "cgroup_parent", "spawner",
                                         "retention"};

static int copy_value(const struct mn_host *host, const char *key, const char *value, char *out,
                      size_t size, struct mn_provider_error *err) {
  if (strlen(value) >= size)
    return host->error(err, MN_PROVIDER_E_INVALID, "providers.%s.%s: value is too long",
                       host->provider_name, key);
  memcpy(out, value, strlen(value) + 1);
  return 0;
}

/* The directory holding the daemon executable. */
static int default_bin_dir(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n <= 0)
    return -1;
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (!slash)
    return -1;
  if (slash == out)
    slash[1] = '\0';
  else
    *slash = '\0';
  return 0;
}

int mn_local_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                       struct mn_local_conf *out, struct mn_provider_error *err) {
  const char *worker = "multinode-worker";
  const char *bin_dir = NULL;
  const char *cgroup_parent = NULL;
  struct stat st;
  int rc;

  memset(out, 0, sizeof *out);
  rc = host->config_check_keys(config, known_keys, sizeof known_keys / sizeof known_keys[0], err);
  if (rc != 0)
    return rc;
  if ((rc = host->config_string(config, "worker", 0, &worker, err)) != 0 ||
      (rc = host->config_string(config, "bin_dir", 0, &bin_dir, err)) != 0 ||
      (rc = host->config_string(config, "cgroup_parent", 0, &cgroup_parent, err)) != 0)
    return rc;
  out->spawner = 1;
  if ((rc = host->config_bool(config, "spawner", 0, &out->spawner, err)) != 0)
    return rc;
  out->retention_seconds = 7 * 86400;
  if ((rc = host->config_duration(config, "retention", 0, &out->retention_seconds, err)) != 0)
    return rc;

  if (worker[0] == '\0')
    return host->error(err, MN_PROVIDER_E_INVALID, "providers.%s.worker: must not be empty",
                       host->provider_name);
  if ((rc = copy_value(host, "worker", worker, out->worker, sizeof out->worker, err)) != 0)
    return rc;

  if (bin_dir) {
    char *real = realpath(bin_dir, NULL);
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      rc =
          host->error(err, MN_PROVIDER_E_INVALID, "providers.%s.bin_dir: \"%s\" is not a directory",
                      host->provider_name, bin_dir);
      free(real);
      return rc;
    }
    rc = copy_value(host, "bin_dir", real, out->bin_dir, sizeof out->bin_dir, err);
    free(real);
    if (rc != 0)
      return rc;
  } else if (default_bin_dir(out->bin_dir, sizeof out->bin_dir) != 0) {
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "providers.%s.bin_dir: cannot find the daemon's directory (%s); set it",
                       host->provider_name, strerror(errno));
  }

  if (cgroup_parent) {
    if (cgroup_parent[0] != '/')
      return host->error(err, MN_PROVIDER_E_INVALID,
                         "providers.%s.cgroup_parent: \"%s\" is not an absolute path",
                         host->provider_name, cgroup_parent);
    rc = copy_value(host, "cgroup_parent", cgroup_parent, out->cgroup_parent,
                    sizeof out->cgroup_parent, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}
