/* local_conf.c — validate the local provider's configuration section. */
#include "local_conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte_size.h"

static const char *const known_keys[] = {"worker",    "bin_dir",    "cgroup_parent",
                                         "spawner",   "retention",  "user",
                                         "allow_root", "max_log_bytes", "cgroups"};

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

int mn_local_config_file(const struct mn_cfg_node *config, const struct mn_host *host, char *out,
                         size_t size) {
  struct mn_provider_error e = {0};
  if (host->struct_size < offsetof(struct mn_host, config_error) + sizeof host->config_error ||
      !host->config_error)
    return -1;
  host->config_error(config, "worker", &e, "-");
  /* FILE ends at the first ":LINE:COL: " */
  for (char *p = strchr(e.msg, ':'); p; p = strchr(p + 1, ':')) {
    size_t a = strspn(p + 1, "0123456789");
    if (a == 0 || p[1 + a] != ':')
      continue;
    size_t b = strspn(p + 2 + a, "0123456789");
    if (b == 0 || p[2 + a + b] != ':' || p[3 + a + b] != ' ')
      continue;
    *p = '\0';
    char *real = realpath(e.msg, NULL);
    int rc = real && strlen(real) < size ? 0 : -1;
    if (rc == 0)
      memcpy(out, real, strlen(real) + 1);
    free(real);
    return rc;
  }
  return -1;
}

/* An error at KEY's value (FILE:LINE:COL) where the host can place it. */
static int key_error(const struct mn_cfg_node *config, const struct mn_host *host, const char *key,
                     struct mn_provider_error *err, const char *problem) {
  if (host->struct_size >= offsetof(struct mn_host, config_error) + sizeof host->config_error &&
      host->config_error)
    return host->config_error(config, key, err, "%s", problem);
  return host->error(err, MN_PROVIDER_E_INVALID, "providers.%s.%s: %s", host->provider_name, key,
                     problem);
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
  const char *user = NULL, *max_log = NULL;
  out->cgroups = 1;
  out->max_log_bytes = MN_LOCAL_DEFAULT_MAX_LOG_BYTES;
  if ((rc = host->config_string(config, "user", 0, &user, err)) != 0 ||
      (rc = host->config_bool(config, "allow_root", 0, &out->allow_root, err)) != 0 ||
      (rc = host->config_bool(config, "cgroups", 0, &out->cgroups, err)) != 0 ||
      (rc = host->config_string(config, "max_log_bytes", 0, &max_log, err)) != 0)
    return rc;
  if (user && (!user[0] || strlen(user) >= sizeof out->user))
    return key_error(config, host, "user", err, "expected a user name or a numeric uid");
  if (user)
    memcpy(out->user, user, strlen(user) + 1);
  if (max_log && mn_support_parse_bytes(max_log, &out->max_log_bytes) != 0)
    return key_error(config, host, "max_log_bytes", err,
                     "expected a size in bytes, e.g. 67108864, 64MiB or 0 (no cap)");
  char why[512];
  if (mn_local_identity_resolve(user, out->allow_root, geteuid(), &out->identity, why,
                                sizeof why) != 0)
    return key_error(config, host, "user", err, why);

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
