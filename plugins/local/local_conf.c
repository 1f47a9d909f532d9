/* local_conf.c — the local provider's section: its keys, declared once
 * (provider.h, "Declarative configuration"; docs/local.md's table is
 * printed from them), and what needs the machine (paths, users). */
#include "local_conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* The section as the table reads it; copied into struct mn_local_conf. */
struct local_keys {
  const char *worker, *bin_dir, *cgroup_parent, *user;
  int spawner, allow_root, cgroups;
  int64_t retention_seconds;
  uint64_t max_log_bytes;
};

#define AT(T, field) MN_CONFIG_AT(struct local_keys, T, field)
#define LIST_AT(field, count) MN_CONFIG_LIST_AT(struct local_keys, field, count)
#define WHY(...) (snprintf(why, size, __VA_ARGS__), -1)

static int absolute_check(const char *s, char *why, size_t size) {
  return s[0] == '/' ? 0 : WHY("is not an absolute path");
}
static int user_check(const char *s, char *why, size_t size) {
  return s[0] && strlen(s) < sizeof(((struct mn_local_conf *)0)->user)
             ? 0
             : WHY("is not a user name or a numeric uid");
}

/* api_url is the daemon's key of every section (provider.h). */
const struct mn_config_key mn_local_conf_keys[] = {
    {.name = "worker", AT(STRING, worker), .flags = MN_CONFIG_NONEMPTY,
     .def = "multinode-worker",
     .doc = "The worker executable; a bare name is looked up in the child's PATH."},
    {.name = "bin_dir", AT(STRING, bin_dir),
     .doc = "A directory put FIRST on the child's PATH; default the daemon executable's."},
    {.name = "cgroup_parent", AT(STRING, cgroup_parent),
     .check = absolute_check, .doc = "Where per-execution cgroups (v2) go."},
    {.name = "spawner", AT(BOOL, spawner), .def = "true",
     .doc = "Fork workers from a pre-started `multinode-worker --spawner` when the worker is "
            "multinode-worker."},
    {.name = "retention", AT(DURATION, retention_seconds), .def = "7d",
     .doc = "The record, log and working directory of a released worker are deleted this long "
            "after; 0: kept."},
    {.name = "user", AT(STRING, user), .check = user_check,
     .doc = "Who workers run as; default `nobody` when the daemon runs as root, else the "
            "daemon's own user (docs/security.md)."},
    {.name = "allow_root", AT(BOOL, allow_root), .def = "false",
     .doc = "Let `user` be root."},
    {.name = "max_log_bytes", AT(BYTES, max_log_bytes), .def = "64MiB",
     .doc = "Per execution: the worker's log keeps its head and tail around a marker line "
            "past this; 0: no cap."},
    {.name = "cgroups", AT(BOOL, cgroups), .def = "true",
     .doc = "Per-execution cgroups (v2) where the machine offers them; false: rlimits, and "
            "cleanup by subreaper and process group."},
    {0},
};

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

int mn_local_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                       struct mn_local_conf *out, struct mn_provider_error *err) {
  struct local_keys k = {0};
  struct stat st;
  int rc;

  memset(out, 0, sizeof *out);
  if (!MN_HOST_HAS(host, config_load) || !host->config_load)
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon is too old (ABI 1.2 needed)");
  if ((rc = host->config_load(config, mn_local_conf_keys, &k, err)) != 0)
    return rc;
  const char *worker = k.worker, *bin_dir = k.bin_dir, *cgroup_parent = k.cgroup_parent;
  const char *user = k.user;
  out->spawner = k.spawner;
  out->allow_root = k.allow_root;
  out->cgroups = k.cgroups;
  out->retention_seconds = k.retention_seconds;
  out->max_log_bytes = k.max_log_bytes;
  if (user)
    memcpy(out->user, user, strlen(user) + 1);
  char why[512];
  if (mn_local_identity_resolve(user, out->allow_root, geteuid(), &out->identity, why,
                                sizeof why) != 0)
    return host->config_error(config, "user", err, "%s", why);

  if ((rc = copy_value(host, "worker", worker, out->worker, sizeof out->worker, err)) != 0)
    return rc;

  if (bin_dir) {
    char *real = realpath(bin_dir, NULL);
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      rc = host->config_error(config, "bin_dir", err, "\"%s\" is not a directory", bin_dir);
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
    rc = copy_value(host, "cgroup_parent", cgroup_parent, out->cgroup_parent,
                    sizeof out->cgroup_parent, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}
