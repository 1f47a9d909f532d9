/* The daemon's configuration (docs/architecture.md §7), parsed from YAML once.
 *
 * Every error names file, line, column and the key path:
 *   multinode.yaml:7:3: providers.docker.socket: expected a string
 * and all errors of a file are reported, not just the first. Unknown keys,
 * wrong types and out-of-range values are errors. Secrets may be given
 * through `<key>_env: NAME` (the value is read from the environment).
 * Durations accept 90s, 5m, 1h (and bare seconds). */
#ifndef MN_CONFIG_CONFIG_H
#define MN_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/log.h"

struct mn_cfg_node; /* a node of the YAML tree, with its position (config/yaml_tree.h) */
struct mn_cfg_tree;

/* One entry under `providers:` other than `default`. With no `providers:`
 * section at all there is one implicit section, "local", with node NULL. */
struct mn_provider_section {
  char *name;                      /* e.g. "docker" */
  char *plugin_path;               /* providers.<name>.plugin (made relative to the
                                      config file's folder), or NULL: search */
  const struct mn_cfg_node *node;  /* the whole section (a mapping, or a null
                                      scalar for `local:`), for the plugin's init */
};

/* Roles of operator keys (docs/security.md, "Operator keys"). */
enum mn_api_role {
  MN_ROLE_ADMIN = 0, /* everything */
  MN_ROLE_INVOKER,   /* start, read, list, cancel invocations; read versions and logs */
  MN_ROLE_READER     /* GET only */
};

/* One entry of server.api_keys (config/config_api_keys.h). */
struct mn_config_api_key {
  char *name;
  unsigned char sha256[32]; /* the key's digest; the key itself is never kept */
  enum mn_api_role role;
  char **projects; /* NULL: every project */
  size_t n_projects;
};
void mn_config_api_key_release(struct mn_config_api_key *k);

/* Whether the file at PATH sets server.api_key itself (not api_key_env). */
int mn_config_has_plaintext_key(const char *path);

struct mn_config {
  char *file; /* the path it was loaded from */
  struct mn_cfg_tree *tree;
  struct {
    char *listen_host; /* default 127.0.0.1 */
    int listen_port;   /* default 5000 */
    char *api_key;     /* required: api_key or api_key_env (an admin key) */
    struct mn_config_api_key *api_keys; /* server.api_keys */
    size_t n_api_keys;
    char *public_url;  /* default http://<listen>; 127.0.0.1 for 0.0.0.0 and :: */
    int threads;       /* HTTP worker threads; default 4 */
    int max_connections;                /* default 1000 */
    int max_unauthenticated_per_client; /* default 64 */
    int max_event_streams;              /* default 1000, besides max_connections */
    int connection_memory_kib;          /* libmicrohttpd's pool per connection; default 10 */
    int64_t request_timeout_seconds;    /* a whole request; default 30 */
    int min_free_disk_mb;               /* /readyz; default 100 */
    struct {
      char *cert_file; /* both or neither (made relative to the config */
      char *key_file;  /* file's folder): HTTPS */
    } tls;
    struct {
      bool public; /* GET /metrics without a key; default false */
    } metrics;
  } server;
  struct {
    char *dsn;     /* "" or NULL: embedded cluster under data_dir */
    int pool_size; /* default 8 */
    int64_t statement_timeout_seconds; /* default 30; 0: none */
  } store;
  char *data_dir; /* default .multinode */
  enum mn_log_level log_level; /* `log_level: info` */
  struct {
    int64_t termination_grace_seconds; /* default 120 */
    int64_t provision_timeout_seconds; /* default 300 */
    int64_t retention_seconds;         /* terminated rows kept; default 7d */
    bool enabled;                      /* default true; false: API only */
    int inspect_interval_ms;           /* status poll; default 1000 */
  } scheduler;
  struct {
    char *default_provider; /* providers.default; default "local"; always names
                               one of items[] */
    struct mn_provider_section *items;
    size_t n_items;
  } providers;
};

/* Loads and validates FILE. On failure err->msg holds every problem found,
 * one per line, each "file:line:col: key.path: problem" (FILE as given);
 * when they do not all fit in err->msg, the last line reads
 * "(and N more errors)". *out is left zeroed on failure. */
int mn_config_load(const char *path, struct mn_config *out, struct mn_error *err);
/* The same, and on failure *report_out (heap, caller frees; NULL when
 * report_out is NULL or on success) holds every error line, untruncated. */
int mn_config_load_report(const char *path, struct mn_config *out, char **report_out,
                          struct mn_error *err);
/* Frees everything mn_config_load filled; NULL-safe, idempotent. */
void mn_config_release(struct mn_config *cfg);

/* The provider section NAME (NULL: the default provider's), or NULL. */
const struct mn_provider_section *mn_config_provider(const struct mn_config *cfg,
                                                     const char *name);

/* The key tables and the Markdown reference printer are in
 * config/config_schema.h (mn_config_schema, mn_config_print_reference). */

#endif
