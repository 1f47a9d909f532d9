/* multinoded: the Multinode control-plane daemon.
 *
 *   multinoded --config FILE        run
 *   multinoded --check-config FILE  validate FILE and exit
 *   multinoded --migrate --config FILE  apply the schema and exit
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/readiness.h"
#include "api/api_keys.h"
#include "api/server.h"
#include "config/config.h"
#include "config/config_api_keys.h"
#include "config/config_schema.h"
#include "migrate_cmd.h"
#include "plugin/host.h"
#include "scheduler/scheduler.h"
#include "store/sched_snapshot.h"
#include "store/embedded_pg.h"
#include "store/pg_watch.h"
#include "store/store.h"
#include "util/error.h"
#include "util/log.h"
#include "util/sd_notify.h"

#ifndef MN_VERSION_STRING
#define MN_VERSION_STRING "0"
#endif

static void usage(FILE *out) {
  fprintf(out,
          "usage: multinoded --config FILE\n"
          "       multinoded --check-config FILE\n"
          "       multinoded --migrate --config FILE\n"
          "       multinoded --print-config-reference[=daemon|PROVIDER]\n"
          "       multinoded --version\n"
          "\n"
          "Runs the Multinode control plane: the REST API, the scheduler and the\n"
          "compute providers named in FILE (YAML). With an empty store.postgres.dsn\n"
          "it runs its own Postgres cluster under data_dir.\n");
}

struct daemon {
  struct mn_config cfg;
  struct mn_pg_embedded *pg;
  struct mn_pg_watch *pg_watch;
  int listen_fd; /* bound first (mn_api_bind); -1 once the server has it */
  struct mn_store *store;
  struct mn_plugins *plugins;
  struct mn_api *api;
  struct mn_readiness *readiness;
  struct mn_scheduler *scheduler;
  char *cluster_id;
};

/* Keys too short to resist guessing are refused by --check-config, and by
 * the daemon when it listens beyond loopback; a config file that holds a
 * key in plain text and that others can read gets a warning. Returns 1 when
 * the configuration must be refused. */
static int check_keys(const struct mn_config *cfg, const char *path, int check_only) {
  const char *host = cfg->server.listen_host ? cfg->server.listen_host : "";
  int loopback = strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
                 strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0;
  size_t len = cfg->server.api_key ? strlen(cfg->server.api_key) : 0;
  struct stat st;
  if (len > 0 && len < MN_API_KEY_MIN_LENGTH) {
    if (check_only || !loopback) {
      fprintf(stderr,
              "%s: server.api_key: the key has %zu characters; at least %d are needed%s\n",
              path, len, MN_API_KEY_MIN_LENGTH,
              check_only ? "" : " when listening beyond loopback");
      return 1;
    }
    mn_log_warn("main", "server.api_key has %zu characters: fine on loopback (%s), refused on "
                        "any other address; use %d or more",
                len, host, MN_API_KEY_MIN_LENGTH);
  }
  if (stat(path, &st) == 0 && (st.st_mode & 0044) && mn_config_has_plaintext_key(path))
    fprintf(stderr,
            "warning: %s holds an API key in plain text and others can read it (mode %03o): "
            "chmod 600 it, or use api_key_env / api_keys with sha256\n",
            path, (unsigned)(st.st_mode & 0777));
  return 0;
}

/* SIGHUP: the operator keys again from the file; connections stay, and a
 * file with problems keeps the keys in force. */
static void reload_keys(struct daemon *d, const char *path) {
  struct mn_config fresh = {0};
  struct mn_error err = {0};
  char *report = NULL;
  if (mn_config_load_report(path, &fresh, &report, &err) != 0) {
    mn_log_error("main", "SIGHUP: %s has problems; the keys in force stay: %s", path,
                 report ? report : err.msg);
    free(report);
    return;
  }
  free(report);
  struct mn_api_keys *keys = mn_api_keys_new(&fresh);
  if (keys) {
    mn_api_set_keys(d->api, keys);
    mn_log_info("main", "SIGHUP: %zu API key(s) in force", keys->n);
    mn_api_keys_unref(keys);
  }
  mn_config_release(&fresh);
}

/* SIGTERM drains (docs/deploy.md): no new connection is accepted, the
 * scheduler lock is released for a standby to take at once, and the
 * requests in flight are answered before the server stops. */
static void daemon_stop(struct daemon *d) {
  mn_api_quiesce(d->api);
  if (d->readiness) /* /readyz goes on answering while the scheduler is freed */
    mn_readiness_set_scheduler(d->readiness, NULL, NULL);
  mn_scheduler_stop(d->scheduler); /* waits for its provider calls */
  mn_api_stop(d->api);
  mn_readiness_stop(d->readiness);
  mn_plugins_free(d->plugins);
  mn_store_free(d->store);
  mn_pg_watch_stop(d->pg_watch);
  mn_pg_embedded_stop(d->pg);
  if (d->listen_fd >= 0)
    close(d->listen_fd);
  free(d->cluster_id);
  mn_config_release(&d->cfg);
}

static bool scheduler_active(void *ctx) { return mn_scheduler_is_active(ctx); }

/* Every connection is a descriptor: raise the soft limit to the hard one so
 * that server.max_connections can be reached (the default soft limit, 1024,
 * would be hit first, and accept() would fail for everyone). */
static void raise_fd_limit(const struct mn_config *cfg) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  rlim_t want = (rlim_t)cfg->server.max_connections + (rlim_t)cfg->server.max_event_streams + 256;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
    mn_log_warn("main",
                "the descriptor limit (%llu) is below server.max_connections and "
                "max_event_streams plus room for the rest (%llu): raise it (ulimit -n) or "
                "lower them",
                (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

static int daemon_start(struct daemon *d, struct mn_error *err) {
  const char *dsn = d->cfg.store.dsn;
  int rc;

  /* the port first: a daemon that cannot have it touches nothing running */
  if ((rc = mn_api_bind(d->cfg.server.listen_host, d->cfg.server.listen_port, &d->listen_fd,
                        err)) != 0)
    return rc;
  if (!dsn || !*dsn) {
    rc = mn_pg_embedded_start(d->cfg.data_dir, &d->pg, err);
    if (rc)
      return rc;
    dsn = mn_pg_embedded_dsn(d->pg);
    d->pg_watch = mn_pg_watch_start(d->pg, 2000);
  }

  struct mn_store_options sopt = {
      .dsn = dsn,
      .pool_size = d->cfg.store.pool_size,
      .statement_timeout_ms = d->cfg.store.statement_timeout_seconds > 0
                                  ? (int)(d->cfg.store.statement_timeout_seconds * 1000)
                                  : -1,
  };
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

  struct mn_readiness_options ropt = {
      .dsn = dsn,
      .data_dir = d->cfg.data_dir,
      .min_free_bytes = (int64_t)d->cfg.server.min_free_disk_mb << 20,
      .scheduler_enabled = d->cfg.scheduler.enabled,
      .providers = mn_plugins_api_providers,
      .providers_ctx = d->plugins,
  };
  if ((rc = mn_readiness_start(&ropt, &d->readiness, err)) != 0)
    return rc;

  struct mn_api_keys *keys = mn_api_keys_new(&d->cfg);
  if (!keys)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  struct mn_api_options aopt = {
      .listen_host = d->cfg.server.listen_host,
      .listen_port = d->cfg.server.listen_port,
      .api_key = d->cfg.server.api_key,
      .keys = keys,
      .threads = d->cfg.server.threads,
      .logs = mn_plugins_api_logs,
      .logs_ctx = d->plugins,
      .credentials = mn_plugins_api_credentials,
      .credentials_ctx = d->plugins,
      .providers = mn_plugins_api_providers,
      .providers_ctx = d->plugins,
      .max_connections = (size_t)d->cfg.server.max_connections,
      .max_unauthenticated_per_client = (size_t)d->cfg.server.max_unauthenticated_per_client,
      .max_event_streams = (size_t)d->cfg.server.max_event_streams,
      .connection_memory_bytes = (size_t)d->cfg.server.connection_memory_kib * 1024,
      .request_timeout_ms = d->cfg.server.request_timeout_seconds * 1000,
      .tls_cert_file = d->cfg.server.tls.cert_file,
      .tls_key_file = d->cfg.server.tls.key_file,
      .readiness = d->readiness,
      .metrics_public = d->cfg.server.metrics.public,
      .bound = true,
      .listen_fd = d->listen_fd,
  };
  rc = mn_api_start(&aopt, d->store, &d->api, err);
  mn_api_keys_unref(keys); /* the server holds its own reference */
  if (rc)
    return rc;
  d->listen_fd = -1; /* the server's now */
  if (d->cfg.scheduler.enabled) {
    struct mn_scheduler_options sched = {
        .termination_grace_seconds = d->cfg.scheduler.termination_grace_seconds,
        .provision_timeout_seconds = d->cfg.scheduler.provision_timeout_seconds,
        .retention_seconds = d->cfg.scheduler.retention_seconds,
        .inspect_interval_ms = d->cfg.scheduler.inspect_interval_ms,
    };
    /* execution keys derive from the admin key, which every daemon of the
     * database has and the database never sees (docs/security.md) */
    static const char label[] = "multinode execution keys v1";
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), d->cfg.server.api_key, (int)strlen(d->cfg.server.api_key),
         (const unsigned char *)label, sizeof label - 1, sched.key_secret, &mac_len);
    if ((rc = mn_scheduler_start(&sched, d->store, d->plugins, &d->scheduler, err)) != 0)
      return rc;
    mn_readiness_set_scheduler(d->readiness, scheduler_active, d->scheduler);
  } else {
    mn_log_info("main", "scheduler disabled (scheduler.enabled: false): serving the API only");
  }
  mn_log_info("main", "listening on %s://%s:%d (public url %s)",
              d->cfg.server.tls.cert_file ? "https" : "http", d->cfg.server.listen_host,
              mn_api_port(d->api), d->cfg.server.public_url);
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"check-config", required_argument, NULL, 'k'},
      {"migrate", no_argument, NULL, 'M'},
      {"version", no_argument, NULL, 'V'},
      {"print-config-reference", optional_argument, NULL, 'R'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *config_path = NULL;
  int check_only = 0, migrate = 0, c;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_path = optarg; break;
    case 'k': config_path = optarg; check_only = 1; break;
    case 'M': migrate = 1; break;
    case 'V': printf("multinoded %s\n", MN_VERSION_STRING); return 0;
    case 'R': return mn_plugins_print_reference(stdout, optarg) ? 1 : 0;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!config_path || optind != argc || (migrate && check_only)) {
    usage(stderr);
    return 2;
  }

  struct daemon d = {.listen_fd = -1};
  struct mn_error err = {0};
  char *report = NULL;
  if (mn_config_load_report(config_path, &d.cfg, &report, &err) != 0) {
    /* every problem of the file, one per line */
    fprintf(stderr, "%s\n", report ? report : err.msg);
    free(report);
    return 1;
  }
  free(report);
  int weak = check_keys(&d.cfg, config_path, check_only);
  if (weak && !check_only) {
    mn_config_release(&d.cfg);
    return 1;
  }
  if (check_only) { /* the provider sections too, by their plugins */
    char *problems = NULL;
    struct mn_plugin_env penv = {.public_url = d.cfg.server.public_url,
                                 .api_key = d.cfg.server.api_key,
                                 .data_dir = d.cfg.data_dir,
                                 .check_only = 1,
                                 .report_out = &problems};
    int rc = mn_plugins_load(&d.cfg, &penv, &d.plugins, &err);
    mn_plugins_free(d.plugins);
    if (rc)
      fprintf(stderr, "%s\n", problems ? problems : err.msg);
    else if (!weak)
      printf("%s: ok\n", config_path);
    free(problems);
    mn_config_release(&d.cfg);
    return rc || weak ? 1 : 0;
  }
  mn_log_set_level(d.cfg.log_level);
  if (migrate) {
    int rc = mn_migrate_command(&d.cfg);
    mn_config_release(&d.cfg);
    return rc;
  }

  /* Signals are taken synchronously by this thread; every thread created
   * from here on inherits the blocked mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  raise_fd_limit(&d.cfg);
  if (daemon_start(&d, &err) != 0) {
    mn_log_error("main", "cannot start: %s", err.msg[0] ? err.msg : mn_strerror(err.code));
    daemon_stop(&d);
    return 1;
  }

  mn_sd_notify("READY=1");
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
    reload_keys(&d, config_path);
  mn_log_info("main", "received signal %d, stopping", sig);
  mn_sd_notify("STOPPING=1");
  daemon_stop(&d);
  return 0;
}
