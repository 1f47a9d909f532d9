/* multinoded: the Multinode control-plane daemon.
 *
 *   multinoded --config FILE        run
 *   multinoded --check-config FILE  validate FILE and exit
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"
#include "config/config.h"
#include "config/config_schema.h"
#include "plugin/host.h"
#include "scheduler/scheduler.h"
#include "store/sched_snapshot.h"
#include "store/embedded_pg.h"
#include "store/store.h"
#include "util/error.h"
#include "util/log.h"

#ifndef MN_VERSION_STRING
#define MN_VERSION_STRING "0"
#endif

static void usage(FILE *out) {
  fprintf(out,
          "usage: multinoded --config FILE\n"
          "       multinoded --check-config FILE\n"
          "       multinoded --print-config-reference\n"
          "       multinoded --version\n"
          "\n"
          "Runs the Multinode control plane: the REST API, the scheduler and the\n"
          "compute providers named in FILE (YAML). With an empty store.postgres.dsn\n"
          "it runs its own Postgres cluster under data_dir.\n");
}

struct daemon {
  struct mn_config cfg;
  struct mn_pg_embedded *pg;
  struct mn_store *store;
  struct mn_plugins *plugins;
  struct mn_api *api;
  struct mn_scheduler *scheduler;
  char *cluster_id;
};

static void daemon_stop(struct daemon *d) {
  mn_scheduler_stop(d->scheduler); /* waits for its provider calls */
  mn_api_stop(d->api);
  mn_plugins_free(d->plugins);
  mn_store_free(d->store);
  mn_pg_embedded_stop(d->pg);
  free(d->cluster_id);
  mn_config_release(&d->cfg);
}

static int daemon_start(struct daemon *d, struct mn_error *err) {
  const char *dsn = d->cfg.store.dsn;
  int rc;

  if (!dsn || !*dsn) {
    rc = mn_pg_embedded_start(d->cfg.data_dir, &d->pg, err);
    if (rc)
      return rc;
    dsn = mn_pg_embedded_dsn(d->pg);
  }

  struct mn_store_options sopt = {.dsn = dsn, .pool_size = d->cfg.store.pool_size};
  rc = mn_store_open(&sopt, &d->store, err);
  if (rc)
    return rc;

  if ((rc = mn_store_cluster_id(d->store, &d->cluster_id)) != 0)
    return mn_fail(err, rc, "cannot read the cluster id: %s", mn_strerror(rc));
  struct mn_plugin_env penv = {
      .public_url = d->cfg.server.public_url,
      .api_key = d->cfg.server.api_key,
      .data_dir = d->cfg.data_dir,
      .cluster_id = d->cluster_id,
  };
  rc = mn_plugins_load(&d->cfg, &penv, &d->plugins, err);
  if (rc)
    return rc;

  struct mn_api_options aopt = {
      .listen_host = d->cfg.server.listen_host,
      .listen_port = d->cfg.server.listen_port,
      .api_key = d->cfg.server.api_key,
      .threads = d->cfg.server.threads,
      .logs = mn_plugins_api_logs,
      .logs_ctx = d->plugins,
      .credentials = mn_plugins_api_credentials,
      .credentials_ctx = d->plugins,
      .providers = mn_plugins_api_providers,
      .providers_ctx = d->plugins,
  };
  rc = mn_api_start(&aopt, d->store, &d->api, err);
  if (rc)
    return rc;
  if (d->cfg.scheduler.enabled) {
    struct mn_scheduler_options sched = {
        .termination_grace_seconds = d->cfg.scheduler.termination_grace_seconds,
        .provision_timeout_seconds = d->cfg.scheduler.provision_timeout_seconds,
        .retention_seconds = d->cfg.scheduler.retention_seconds,
        .inspect_interval_ms = d->cfg.scheduler.inspect_interval_ms,
    };
    if ((rc = mn_scheduler_start(&sched, d->store, d->plugins, &d->scheduler, err)) != 0)
      return rc;
  } else {
    mn_log_info("main", "scheduler disabled (scheduler.enabled: false): serving the API only");
  }
  mn_log_info("main", "listening on http://%s:%d (public url %s)", d->cfg.server.listen_host,
              mn_api_port(d->api), d->cfg.server.public_url);
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"check-config", required_argument, NULL, 'k'},
      {"version", no_argument, NULL, 'V'},
      {"print-config-reference", no_argument, NULL, 'R'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *config_path = NULL;
  int check_only = 0, c;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_path = optarg; break;
    case 'k': config_path = optarg; check_only = 1; break;
    case 'V': printf("multinoded %s\n", MN_VERSION_STRING); return 0;
    case 'R': mn_config_print_reference(stdout); return 0;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!config_path || optind != argc) {
    usage(stderr);
    return 2;
  }

  struct daemon d = {0};
  struct mn_error err = {0};
  char *report = NULL;
  if (mn_config_load_report(config_path, &d.cfg, &report, &err) != 0) {
    /* every problem of the file, one per line */
    fprintf(stderr, "%s\n", report ? report : err.msg);
    free(report);
    return 1;
  }
  free(report);
  if (check_only) { /* the provider sections too, by their plugins */
    struct mn_plugin_env penv = {.public_url = d.cfg.server.public_url,
                                 .api_key = d.cfg.server.api_key,
                                 .data_dir = d.cfg.data_dir,
                                 .check_only = 1};
    int rc = mn_plugins_load(&d.cfg, &penv, &d.plugins, &err);
    mn_plugins_free(d.plugins);
    if (rc)
      fprintf(stderr, "%s\n", err.msg);
    else
      printf("%s: ok\n", config_path);
    mn_config_release(&d.cfg);
    return rc ? 1 : 0;
  }
  mn_log_set_level(d.cfg.log_level);

  /* Signals are taken synchronously by this thread; every thread created
   * from here on inherits the blocked mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (daemon_start(&d, &err) != 0) {
    mn_log_error("main", "cannot start: %s", err.msg[0] ? err.msg : mn_strerror(err.code));
    daemon_stop(&d);
    return 1;
  }

  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
    mn_log_info("main", "SIGHUP ignored (restart to reload the configuration)");
  mn_log_info("main", "received signal %d, stopping", sig);
  daemon_stop(&d);
  return 0;
}
