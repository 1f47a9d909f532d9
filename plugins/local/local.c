/* local.c — the local provider: every execution is a fresh process running
 * `multinode-worker <command...>`, forked by the worker spawner (zygote.h)
 * or by the daemon itself. This file holds the provider table, init,
 * shutdown and prepare; one file per other operation.
 *
 * On disk, under <data_dir>/<provider_name>/: <execution_id>.json (the
 * record: pid + start time, status, pending kill) and <execution_id>.log
 * (the worker's stdout and stderr); .spawner.log holds what the worker
 * spawner itself has to say. */
#include "local.h"

#include <errno.h>
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
  pthread_mutex_destroy(&l->lock);
  pthread_cond_destroy(&l->launch_done);
  free(l);
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
  if (mkdir(l->dir, 0700) != 0 && errno != EEXIST) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "cannot create \"%s\": %s", l->dir,
                     strerror(errno));
    goto fail;
  }
  if (mn_local_daemon_env_init(&l->daemon_env) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto fail;
  }
  if (mn_local_limits_init(&l->limits, l->conf.cgroup_parent, host->provider_name, why,
                           sizeof why) != 0) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "providers.%s.%s", host->provider_name, why);
    goto fail;
  }
  host->log(host, MN_HOST_LOG_INFO, "%s", l->limits.description);
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
