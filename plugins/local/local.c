/* local.c — the local provider: every execution is a fresh process running
 * `multinode-worker <command...>`, forked by the worker spawner (zygote.h)
 * or by the daemon itself, as the workers' user (worker_user.h) in a
 * private working directory (workdir.h). This file holds the provider
 * table, init, shutdown and prepare; one file per other operation.
 *
 * On disk, under <data_dir>/<provider_name>/: <execution_id>.log (the
 * worker's stdout and stderr, 0600), which carries the record (pid + start
 * time, status, pending kill) as an extended attribute (state_file.h);
 * work/<execution_id>/ (the working directory); .spawner.log holds what the worker spawner itself
 * has to say. When the workers run as another user, data_dir, this folder
 * and work/ are 0711: that user passes through to its working directory
 * and can list or read nothing else. */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void local_free(struct mn_local *l) {
  if (!l)
    return;
  mn_local_monitor_stop(l);
  mn_local_zygote_release(l);
  for (size_t i = 0; i < l->n_watches; i++)
    if (l->watches[i].pidfd >= 0)
      close(l->watches[i].pidfd);
  for (size_t i = 0; i < l->n_launching; i++)
    free(l->launching[i]);
  free(l->launching);
  free(l->watches);
  free(l->closing);
  mn_local_daemon_env_release(&l->daemon_env);
  mn_local_limits_release(&l->limits);
  pthread_mutex_destroy(&l->lock);
  pthread_cond_destroy(&l->launch_done);
  free(l);
}

/* A folder of ours: created with mode, or brought to it. */
static int own_dir(const struct mn_host *host, const char *path, mode_t mode,
                   struct mn_provider_error *err) {
  struct stat st;
  if (mkdir(path, mode) != 0 && errno != EEXIST)
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot create \"%s\": %s", path,
                       strerror(errno));
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return host->error(err, MN_PROVIDER_E_INVALID, "\"%s\" is not a directory", path);
  if ((st.st_mode & 07777) != mode && chmod(path, mode) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot chmod \"%s\": %s", path,
                       strerror(errno));
  return 0;
}

static int in_groups(const struct mn_local_identity *idn, gid_t gid) {
  if (idn->gid == gid)
    return 1;
  for (size_t i = 0; i < idn->n_groups; i++)
    if (idn->groups[i] == gid)
      return 1;
  return 0;
}

/* data_dir holds the Postgres cluster, the records and logs of every
 * execution: the workers' user may pass through it to its working
 * directories (x), never list it or write there (r, w). */
static int contain_data_dir(struct mn_local *l, struct mn_provider_error *err) {
  const struct mn_host *host = l->host;
  const struct mn_local_identity *idn = &l->conf.identity;
  struct stat st;
  if (stat(host->data_dir, &st) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot stat data_dir \"%s\": %s",
                       host->data_dir, strerror(errno));
  if (st.st_uid == idn->uid)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "data_dir \"%s\" belongs to \"%s\", the user the workers run as: "
                       "give it to the daemon's user",
                       host->data_dir, idn->name);
  mode_t mode = st.st_mode & 07777;
  mode_t want = (mode & ~(mode_t)(S_IROTH | S_IWOTH)) | S_IXOTH;
  if (in_groups(idn, st.st_gid))
    want = (want & ~(mode_t)(S_IRGRP | S_IWGRP)) | S_IXGRP;
  if (want == mode)
    return 0;
  if (chmod(host->data_dir, want) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot chmod data_dir \"%s\": %s",
                       host->data_dir, strerror(errno));
  host->log(host, MN_HOST_LOG_INFO,
            "made data_dir \"%s\" mode %04o (was %04o): \"%s\", the workers' user, may pass "
            "through it to its working directories, not list or change it",
            host->data_dir, (unsigned)want, (unsigned)mode, idn->name);
  return 0;
}

/* The empty file that covers what workers must not see: root's, mode 0. */
static int make_mask_source(struct mn_local *l, struct mn_provider_error *err) {
  int n = snprintf(l->mask_source, sizeof l->mask_source, "%s/.mask", l->dir);
  int fd = n < 0 || (size_t)n >= sizeof l->mask_source
               ? -1
               : open(l->mask_source, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0);
  int ok = fd >= 0 && ftruncate(fd, 0) == 0 && fchmod(fd, 0) == 0;
  int e = errno;
  if (fd >= 0)
    close(fd);
  if (!ok)
    return l->host->error(err, MN_PROVIDER_E_INVALID, "cannot create \"%s\": %s",
                          l->mask_source, strerror(e));
  return 0;
}

/* The workers' user must reach its working directories, and must not list
 * data_dir (which an ACL, say, could still allow) nor read the config file
 * (covered in each worker's mount namespace where the machine allows). */
static int check_reach(struct mn_local *l, struct mn_provider_error *err) {
  const struct mn_host *host = l->host;
  const struct mn_local_identity *idn = &l->conf.identity;
  const char *paths[] = {l->work, host->data_dir, l->config_file};
  const int modes[] = {X_OK, R_OK, R_OK};
  size_t n = l->config_file[0] ? 3 : 2;
  struct mn_local_access got[3];
  char what[PATH_MAX + 64];
  int rc = -EPERM;

  if (l->config_file[0]) {
    l->masks.source = l->mask_source;
    l->masks.paths[0] = l->config_file;
    l->masks.n = 1;
    if ((rc = make_mask_source(l, err)) != 0)
      return rc;
    rc = mn_local_identity_probe(idn, &l->masks, paths, modes, n, got);
    if (rc == 0)
      host->log(host, MN_HOST_LOG_INFO,
                "the configuration file \"%s\" is hidden from the workers (covered in each "
                "worker's own mount namespace)",
                l->config_file);
  }
  if (rc == -EPERM) { /* no mount namespaces here (no CAP_SYS_ADMIN): permissions alone */
    l->masks.n = 0;
    rc = mn_local_identity_probe(idn, NULL, paths, modes, n, got);
  }
  if (rc != 0)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "cannot check what user \"%s\" can reach: %s", idn->name, strerror(-rc));
  if (got[0].err != 0) {
    mn_local_access_describe(paths[0], &got[0], what, sizeof what);
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "user \"%s\", whom the workers run as, cannot reach its working "
                       "directories in %s: choose a data_dir it can pass through, or set "
                       "providers.%s.user",
                       idn->name, what, host->provider_name);
  }
  if (got[1].err == 0)
    host->log(host, MN_HOST_LOG_WARN,
              "user \"%s\", whom the workers run as, can list data_dir \"%s\" (an ACL?): "
              "tasks could see what it holds",
              idn->name, host->data_dir);
  if (n == 3 && got[2].err == 0)
    host->log(host, MN_HOST_LOG_WARN,
              "user \"%s\", whom the workers run as, can read the configuration file \"%s\" "
              "and this machine cannot hide it from them: make it readable only by the "
              "daemon's user (chmod 600)",
              idn->name, l->config_file);
  return 0;
}

static int check_worker(struct mn_local *l, const char *spec_path, char *why, size_t size) {
  char *search = mn_local_worker_path(l->conf.bin_dir, spec_path, &l->daemon_env);
  char *found = NULL;
  int rc = search ? mn_local_worker_resolve(l->conf.worker, search, &found) : -ENOMEM;
  if (rc != 0)
    snprintf(why, size, "worker \"%s\" %s (PATH=%s)", l->conf.worker,
             rc == -EACCES ? "is not an executable file" : "not found", search ? search : "");
  free(found);
  free(search);
  return rc;
}

static int local_init(const struct mn_cfg_node *config, const struct mn_host *host,
                      void **state_out, struct mn_provider_error *err) {
  char why[1024];
  int rc;

  *state_out = NULL;
  if (host->struct_size <
      offsetof(struct mn_host, config_check_keys) + sizeof host->config_check_keys)
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon's host table is too old");
  struct mn_local *l = calloc(1, sizeof *l);
  if (!l)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  l->host = host;
  l->started_us = host->now_us();
  l->wake[0] = l->wake[1] = -1;
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->launch_done, NULL);
  mn_local_zygote_init(l);

  if ((rc = mn_local_conf_load(config, host, &l->conf, err)) != 0)
    goto fail;
  int n = snprintf(l->dir, sizeof l->dir, "%s/%s", host->data_dir, host->provider_name);
  if (n < 0 || (size_t)n >= sizeof l->dir) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "data_dir \"%s\" is too long", host->data_dir);
    goto fail;
  }
  /* 0711 when another user must pass through to its working directory */
  mode_t mode = l->conf.identity.switch_user ? 0711 : 0700;
  n = snprintf(l->work, sizeof l->work, "%s/work", l->dir);
  if (n < 0 || (size_t)n >= sizeof l->work) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "data_dir \"%s\" is too long", host->data_dir);
    goto fail;
  }
  if ((rc = own_dir(host, l->dir, mode, err)) != 0 || (rc = own_dir(host, l->work, mode, err)) != 0)
    goto fail;
  if (l->conf.identity.switch_user) {
    char abs[PATH_MAX];
    if (mn_local_config_file(config, host, l->config_file, sizeof l->config_file) != 0)
      l->config_file[0] = '\0';
    /* as given on the command line: made absolute, for the workers' mount
     * namespace resolves it from another directory (issue 19) */
    else if (l->config_file[0] != '/' && realpath(l->config_file, abs))
      snprintf(l->config_file, sizeof l->config_file, "%s", abs);
    if ((rc = contain_data_dir(l, err)) != 0 || (rc = check_reach(l, err)) != 0)
      goto fail;
  }
  if (mn_local_daemon_env_init(&l->daemon_env) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto fail;
  }
  /* The folder's device and inode tell this daemon's cgroups from those
   * of another daemon beside it, and stay the same across restarts. */
  struct stat dir_st;
  char tag[160];
  if (stat(l->dir, &dir_st) != 0) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "cannot stat %s: %s", l->dir, strerror(errno));
    goto fail;
  }
  snprintf(tag, sizeof tag, "%s-%llx-%llx", host->provider_name,
           (unsigned long long)dir_st.st_dev, (unsigned long long)dir_st.st_ino);
  if (mn_local_limits_init(&l->limits, l->conf.cgroup_parent, tag, l->conf.cgroups, why,
                           sizeof why) != 0) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "providers.%s.%s", host->provider_name, why);
    goto fail;
  }
  host->log(host, MN_HOST_LOG_INFO, "%s", l->limits.description);
  if (l->conf.max_log_bytes)
    host->log(host, MN_HOST_LOG_INFO,
              "workers run as \"%s\" (uid %lu) in %s/<execution id>; logs capped at %llu bytes",
              l->conf.identity.name, (unsigned long)l->conf.identity.uid, l->work,
              (unsigned long long)l->conf.max_log_bytes);
  else
    host->log(host, MN_HOST_LOG_INFO,
              "workers run as \"%s\" (uid %lu) in %s/<execution id>; logs not capped",
              l->conf.identity.name, (unsigned long)l->conf.identity.uid, l->work);
  if ((rc = mn_local_monitor_start(l, err)) != 0)
    goto fail;
  mn_local_adopt(l);
  if (check_worker(l, NULL, why, sizeof why) != 0)
    host->log(host, MN_HOST_LOG_WARN, "%s; launches fail until it is installed", why);
  else
    mn_local_zygote_prestart(l);
  *state_out = l;
  return 0;

fail:
  local_free(l);
  return rc;
}

static void local_shutdown(void *state) { local_free(state); }

static int local_prepare(void *state, const struct mn_function_desc *function,
                         struct mn_prepared *prepared_out, struct mn_provider_error *err) {
  struct mn_local *l = state;
  const char *spec_path = NULL;
  char why[1024];

  prepared_out->details_json[0] = '\0';
  if (function->n_command == 0)
    return l->host->error(err, MN_PROVIDER_E_INVALID,
                          "function \"%s\" has no command: the local provider runs a command, "
                          "not an image",
                          function->function_name);
  for (size_t i = 0; i < function->n_env; i++)
    if (strcmp(function->env[i].key, "PATH") == 0)
      spec_path = function->env[i].value;
  if (check_worker(l, spec_path, why, sizeof why) != 0)
    return l->host->error(err, MN_PROVIDER_E_INVALID, "%s", why);
  int rc = mn_local_command_access_check(l, function, why, sizeof why);
  if (rc != 0)
    return l->host->error(err, rc, "function \"%s\": %s", function->function_name, why);
  return 0;
}

/* --check-config: the section as init reads it, no spawner, no files. */
static int local_check_config(const struct mn_cfg_node *config, const struct mn_host *host,
                              struct mn_provider_error *err) {
  struct mn_local_conf conf;
  return mn_local_conf_load(config, host, &conf, err);
}

static const struct mn_provider local_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "local",
    /* vcpus/memory_gb enforcement depends on the machine (see
     * worker_limits.h) and the table is constant, so the limit bits are not
     * claimed; init logs what is enforced. */
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_LIST_OWNED,
    .init = local_init,
    .check_config = local_check_config,
    .config_keys = mn_local_conf_keys,
    .shutdown = local_shutdown,
    .prepare = local_prepare,
    .launch = mn_local_launch,
    .inspect_many = mn_local_inspect_many,
    .terminate = mn_local_terminate,
    .release = mn_local_release,
    .list_owned = mn_local_list_owned,
    .logs = mn_local_logs,
};

MN_PROVIDER_EXPORT const struct mn_provider *mn_provider_entry(void) { return &local_provider; }
