#include "config/config_schema.h"

#include <stddef.h>
#include <string.h>

#include "config/config.h"

#define OFF(field) offsetof(struct mn_config, field)

static const struct mn_cfg_key tls_keys[] = {
    {.name = "cert_file", .type = MN_CFG_T_STRING, .flags = MN_CFG_F_NONEMPTY,
     .offset = OFF(server.tls.cert_file),
     .description = "PEM certificate (chain) to serve HTTPS with (relative: to the config "
                    "file's directory)."},
    {.name = "key_file", .type = MN_CFG_T_STRING, .flags = MN_CFG_F_NONEMPTY,
     .offset = OFF(server.tls.key_file),
     .description = "PEM private key of cert_file (relative: to the config file's directory)."},
    {0},
};

static const struct mn_cfg_key metrics_keys[] = {
    {.name = "public", .type = MN_CFG_T_BOOL, .def = "false",
     .offset = OFF(server.metrics.public),
     .description = "Serve GET /metrics without an API key (for a scraper on a trusted "
                    "network); otherwise any operator key not limited to projects reads it."},
    {0},
};

static const struct mn_cfg_key server_keys[] = {
    {.name = "listen", .type = MN_CFG_T_LISTEN, .def = "127.0.0.1:5000",
     .offset = OFF(server.listen_host), .offset2 = OFF(server.listen_port),
     .description = "Address the REST API listens on, as host:port (port 0 picks a free one)."},
    {.name = "api_key", .type = MN_CFG_T_STRING,
     .flags = MN_CFG_F_REQUIRED | MN_CFG_F_ENV | MN_CFG_F_NONEMPTY | MN_CFG_F_SECRET,
     .offset = OFF(server.api_key),
     .description = "The API key clients and workers send. Or `api_key_env: VAR` to read it "
                    "from the environment variable VAR."},
    {.name = "api_keys", .type = MN_CFG_T_API_KEYS, .flags = MN_CFG_F_SECRET,
     .description = "More keys, with roles: a list of `{name, sha256 | key_env, role, "
                    "projects}`; role admin, invoker (start, read, list and cancel "
                    "invocations, read versions and logs) or reader (GET only); projects "
                    "limits the key to those. Reloaded on SIGHUP (docs/security.md)."},
    {.name = "public_url", .type = MN_CFG_T_URL, .offset = OFF(server.public_url),
     .description = "The URL workers are told to call. Default: http://<listen>, https:// "
                    "with server.tls (127.0.0.1 when listening on all interfaces)."},
    {.name = "threads", .type = MN_CFG_T_INT, .def = "4", .offset = OFF(server.threads),
     .min = 1, .max = 256, .description = "HTTP worker threads."},
    {.name = "max_connections", .type = MN_CFG_T_INT, .def = "1000",
     .offset = OFF(server.max_connections), .min = 16, .max = 1000000,
     .description = "Connections open at once. Near the limit, the oldest connection that has "
                    "not made an authenticated request is closed to make room for a new one."},
    {.name = "max_event_streams", .type = MN_CFG_T_INT, .def = "1000",
     .offset = OFF(server.max_event_streams), .min = 1, .max = 1000000,
     .description = "Event streams open at once (docs/events.md), on top of max_connections; past this a new stream is refused with 503."},
    {.name = "connection_memory_kib", .type = MN_CFG_T_INT, .def = "10",
     .offset = OFF(server.connection_memory_kib), .min = 4, .max = 1024,
     .description = "Memory per connection (KiB): a request's line and headers must fit in "
                    "it (a head of up to about this size; larger ones get 431), and an open "
                    "event stream keeps about this plus 1.5 KiB (docs/events.md): 10 serves "
                    "a 9.9 KiB head at 11 KiB a stream, 4 a 3 KiB head at 6.2 KiB a stream."},
    {.name = "max_unauthenticated_per_client", .type = MN_CFG_T_INT, .def = "64",
     .offset = OFF(server.max_unauthenticated_per_client), .min = 1, .max = 1000000,
     .description = "Connections from one client address that owe a request and have not "
                    "made an authenticated one; past this the oldest of them is closed."},
    {.name = "request_timeout", .type = MN_CFG_T_DURATION, .def = "30s",
     .offset = OFF(server.request_timeout_seconds), .min = 1, .max = 3600,
     .description = "Time a connection has to deliver a whole request (headers and body) once "
                    "accepted or answered; slower ones, and idle keep-alive ones, are closed."},
    {.name = "min_free_disk_mb", .type = MN_CFG_T_INT, .def = "100",
     .offset = OFF(server.min_free_disk_mb), .min = 0, .max = 100000000,
     .description = "Free space (MiB) on data_dir's file system below which GET /readyz "
                    "answers 503 (the daemon keeps serving)."},
    {.name = "metrics", .type = MN_CFG_T_SECTION, .children = metrics_keys,
     .description = "GET /metrics, in the Prometheus text format (docs/observability.md)."},
    {.name = "tls", .type = MN_CFG_T_SECTION, .children = tls_keys,
     .description = "HTTPS: give both files, and workers and clients use an https public_url."},
    {0},
};

static const struct mn_cfg_key postgres_keys[] = {
    {.name = "dsn", .type = MN_CFG_T_STRING, .flags = MN_CFG_F_ENV | MN_CFG_F_SECRET,
     .def = "", .offset = OFF(store.dsn),
     .description = "libpq connection string of the Postgres to use; empty: run an embedded "
                    "cluster under data_dir. Or `dsn_env: VAR`."},
    {.name = "pool_size", .type = MN_CFG_T_INT, .def = "8", .offset = OFF(store.pool_size),
     .min = 1, .max = 1000, .description = "Connections kept open to Postgres."},
    {.name = "statement_timeout", .type = MN_CFG_T_DURATION, .def = "30s",
     .offset = OFF(store.statement_timeout_seconds), .min = 0, .max = 86400,
     .description = "Longest a statement may run (Postgres's statement_timeout); a database "
                    "that does not answer 2 s later is given up on, and the request gets 503. "
                    "0: no limit."},
    {0},
};

static const struct mn_cfg_key store_keys[] = {
    {.name = "postgres", .type = MN_CFG_T_SECTION, .children = postgres_keys,
     .description = "The Postgres store."},
    {0},
};

static const struct mn_cfg_key scheduler_keys[] = {
    {.name = "termination_grace_seconds", .type = MN_CFG_T_DURATION, .def = "120",
     .offset = OFF(scheduler.termination_grace_seconds), .min = 0, .max = 86400,
     .description = "Time between SIGTERM and SIGKILL when a worker is stopped."},
    {.name = "provision_timeout", .type = MN_CFG_T_DURATION, .def = "5m",
     .offset = OFF(scheduler.provision_timeout_seconds), .min = 1, .max = 86400,
     .description = "A launch that has not produced a worker after this long is reconciled "
                    "and then failed."},
    {.name = "retention", .type = MN_CFG_T_DURATION, .def = "7d",
     .offset = OFF(scheduler.retention_seconds), .min = 0, .max = 3650LL * 86400,
     .description = "How long terminated invocations are kept; 0 keeps them forever."},
    {.name = "enabled", .type = MN_CFG_T_BOOL, .def = "true",
     .offset = OFF(scheduler.enabled),
     .description = "Whether this daemon competes to be the scheduler; false serves the API "
                    "only."},
    {.name = "inspect_interval_ms", .type = MN_CFG_T_INT, .def = "1000",
     .offset = OFF(scheduler.inspect_interval_ms), .min = 10, .max = 600000,
     .description = "How often running workers' status is polled from providers that do not "
                    "report exits by themselves."},
    {0},
};

const struct mn_cfg_key mn_config_schema[] = {
    {.name = "server", .type = MN_CFG_T_SECTION, .children = server_keys,
     .description = "The REST API server."},
    {.name = "store", .type = MN_CFG_T_SECTION, .children = store_keys,
     .description = "Where state is kept."},
    {.name = "data_dir", .type = MN_CFG_T_STRING, .flags = MN_CFG_F_NONEMPTY,
     .def = ".multinode", .offset = OFF(data_dir),
     .description = "Directory for the embedded Postgres and provider state (relative: to the "
                    "config file's directory). Daemons may share it: the last one to stop "
                    "stops the embedded Postgres."},
    {.name = "log_level", .type = MN_CFG_T_LOG_LEVEL, .def = "info", .offset = OFF(log_level),
     .description = "error, warn, info or debug."},
    {.name = "scheduler", .type = MN_CFG_T_SECTION, .children = scheduler_keys,
     .description = "The scheduler."},
    {.name = "providers", .type = MN_CFG_T_PROVIDERS,
     .description = "Compute providers: `default` plus one mapping per provider."},
    {0},
};

const char *mn_cfg_type_name(enum mn_cfg_type type) {
  switch (type) {
  case MN_CFG_T_SECTION: return "mapping";
  case MN_CFG_T_STRING: return "string";
  case MN_CFG_T_URL: return "URL";
  case MN_CFG_T_INT: return "integer";
  case MN_CFG_T_DURATION: return "duration";
  case MN_CFG_T_LISTEN: return "host:port";
  case MN_CFG_T_LOG_LEVEL: return "log level";
  case MN_CFG_T_PROVIDERS: return "mapping";
  case MN_CFG_T_BOOL: return "boolean";
  case MN_CFG_T_API_KEYS: return "list";
  }
  return "?";
}

static void print_row(FILE *out, const char *path, const char *type, const char *def,
                      const char *desc) {
  fprintf(out, "| `%s` | %s | %s%s%s | %s |\n", path, type, def ? "`" : "", def ? def : "-",
          def ? "`" : "", desc);
}

static void print_table(FILE *out, const char *prefix, const struct mn_cfg_key *keys) {
  for (const struct mn_cfg_key *k = keys; k->name; k++) {
    char path[256], env[300], range[96] = "";
    snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", k->name);
    if (k->type == MN_CFG_T_SECTION) {
      print_table(out, path, k->children);
      continue;
    }
    if (k->type == MN_CFG_T_PROVIDERS) {
      print_row(out, "providers.default", "string", "local",
                "The provider of functions that name none; must name a provider section.");
      print_row(out, "providers.<name>", "mapping", NULL,
                "One provider instance; its worker_details type is <name>. Keys other than "
                "`plugin` and `api_url` are the provider's own, declared in its key table "
                "(`--print-config-reference=<plugin>`, docs/<plugin>.md).");
      print_row(out, "providers.<name>.plugin", "string", NULL,
                "Path of the plugin (relative: to the config file's directory). Default: "
                "mn_provider_<name>.so from $MULTINODE_PLUGIN_PATH, then the build and "
                "install plugin directories.");
      print_row(out, "providers.<name>.api_url", "URL", NULL,
                "The URL this provider's workers call the daemon at (MULTINODE_API_URL), when "
                "not server.public_url (e.g. from inside a container network).");
      continue;
    }
    if (k->type == MN_CFG_T_INT || k->type == MN_CFG_T_DURATION)
      snprintf(range, sizeof range, " (%lld to %lld%s)", k->min, k->max,
               k->type == MN_CFG_T_DURATION ? " seconds" : "");
    char desc[700];
    snprintf(desc, sizeof desc, "%s%s%s", k->description,
             (k->flags & MN_CFG_F_REQUIRED) ? " Required." : "", range);
    print_row(out, path, mn_cfg_type_name(k->type), k->def && k->def[0] ? k->def : NULL, desc);
    if (k->flags & MN_CFG_F_ENV) {
      snprintf(env, sizeof env, "%s_env", path);
      snprintf(desc, sizeof desc, "Name of an environment variable holding `%s`.", path);
      print_row(out, env, "string", NULL, desc);
    }
  }
}

void mn_config_print_reference(FILE *out) {
  fprintf(out, "| Key | Type | Default | Description |\n|---|---|---|---|\n");
  print_table(out, "", mn_config_schema);
  fprintf(out, "\nDurations are written 90s, 5m, 1h, 1d, 2h30m, 1m 30s, 1.5h, 250ms or as "
               "seconds.\n");
  fprintf(out, "Every key with a value, providers' keys included, may be given as "
               "`<key>_env: VAR` instead: the value is read from the environment variable "
               "VAR (docs/deploy.md).\n");
}
