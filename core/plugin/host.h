/* The plugin host: loads the compute providers named in the configuration
 * and calls their operations through one wrapper each (SQLite's os.c).
 *
 * For every providers.<name> section it dlopens providers.<name>.plugin,
 * or else the first mn_provider_<name>.so found in $MULTINODE_PLUGIN_PATH
 * (colon-separated), then the build tree's plugin folder, then the install
 * folder. It checks the ABI major version, struct_size and the mandatory
 * operations once, copies the provider table into a zeroed struct it owns
 * (so operations newer than the plugin read as NULL), and calls init with a
 * host table (include/multinode/provider.h) and the plugin's own section.
 *
 * Wrappers return 0 or a negative MN_PROVIDER_E_* code (not MN_E*: the
 * scheduler needs the class: TRANSIENT, CAPACITY, INVALID, ...) and always
 * leave a message in err on failure. An absent operation or capability gives
 * MN_PROVIDER_E_UNSUPPORTED with a message naming it. Wrappers may be called
 * from any number of threads at once (the provider protects its state). */
#ifndef MN_PLUGIN_HOST_H
#define MN_PLUGIN_HOST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "multinode/provider.h"
#include "util/error.h"

struct mn_config;
struct mn_invocation;

/* What the daemon tells every provider (copied at load). */
struct mn_plugin_env {
  const char *public_url; /* the URL workers call */
  const char *api_key;    /* the key workers send */
  const char *data_dir;   /* created when missing */
  const char *cluster_id; /* NULL: "multinode" */
  /* Only check the configuration: each provider's check_config (if it has
   * one) instead of init, and data_dir is not created. The result can only
   * be freed. */
  int check_only;
  /* With check_only, when set: receives every problem found, one per line
   * in file order (heap; caller frees), or NULL; err holds as many as fit. */
  char **report_out;
};

struct mn_plugins;
struct mn_provider_handle;

/* Loads and initializes every provider section of CFG (which must outlive
 * the result). Any failure (missing file or symbol, wrong ABI, init error)
 * unloads what was loaded and returns MN_ECONFIG with a message naming the
 * provider and the path. */
int mn_plugins_load(const struct mn_config *cfg, const struct mn_plugin_env *env,
                    struct mn_plugins **out, struct mn_error *err);
/* Routes the providers' host->wake() to waker(ctx) (NULL: ignored). Set it
 * before providers can have workers to report, clear it before ctx goes. */
void mn_plugins_set_waker(struct mn_plugins *plugins, void (*waker)(void *ctx), void *ctx);
/* Shuts every provider down (in reverse order) and unloads it. NULL-safe. */
void mn_plugins_free(struct mn_plugins *plugins);

/* The folders searched after $MULTINODE_PLUGIN_PATH (compiled in). */
void mn_plugins_default_dirs(const char **build_dir, const char **install_dir);

/* The plugin file of provider NAME, searched as for a section without
 * `plugin` (heap; caller frees); MN_ECONFIG naming the folders searched. */
int mn_plugin_locate(const char *name, char **path_out, struct mn_error *err);

/* `multinoded --print-config-reference[=WHICH]` to OUT: WHICH NULL: the
 * daemon's keys, then every provider plugin found's own; "daemon": the
 * daemon's alone; a provider name: that provider's table alone. 0, or -1
 * (with a message on stderr) when a plugin cannot be loaded. */
int mn_plugins_print_reference(FILE *out, const char *which);

/* The provider of section NAME; NULL: the default provider. NULL if none. */
struct mn_provider_handle *mn_plugins_find(struct mn_plugins *plugins, const char *name);
size_t mn_plugins_count(const struct mn_plugins *plugins);
struct mn_provider_handle *mn_plugins_at(struct mn_plugins *plugins, size_t i);

const char *mn_provider_name(const struct mn_provider_handle *h); /* the section name */
const char *mn_provider_path(const struct mn_provider_handle *h); /* the file loaded */
const char *mn_provider_type(const struct mn_provider_handle *h); /* the plugin's own name */
uint64_t mn_provider_caps(const struct mn_provider_handle *h);
uint32_t mn_provider_abi(const struct mn_provider_handle *h);     /* the plugin's abi_version */

/* "transient", "capacity", "invalid", "not found", "auth", "unsupported". */
const char *mn_provider_strerror(int code);

/* The operations (see provider.h for their contracts). */
int mn_provider_prepare(struct mn_provider_handle *h, const struct mn_function_desc *fn,
                        struct mn_prepared *out, struct mn_provider_error *err);
int mn_provider_launch(struct mn_provider_handle *h, const struct mn_launch_spec *spec,
                       struct mn_worker_ref *ref_out, struct mn_provider_error *err);
/* Without the batch capability, calls the provider once per ref. */
int mn_provider_inspect_many(struct mn_provider_handle *h, const struct mn_worker_ref *refs,
                             size_t n, struct mn_worker_state *states_out,
                             struct mn_provider_error *err);
int mn_provider_terminate(struct mn_provider_handle *h, const struct mn_worker_ref *ref,
                          int grace_seconds, struct mn_provider_error *err);
int mn_provider_release(struct mn_provider_handle *h, const struct mn_worker_ref *ref,
                        struct mn_provider_error *err);
int mn_provider_list_owned(struct mn_provider_handle *h, mn_owned_worker_fn *cb, void *ctx,
                           struct mn_provider_error *err);
/* One page of log lines: *lines_out a new JSON array of strings (invalid
 * UTF-8 replaced by U+FFFD), *next_offset_out a heap string or NULL. */
int mn_provider_logs(struct mn_provider_handle *h, const struct mn_worker_ref *ref,
                     const char *offset, int max_lines, json_t **lines_out,
                     char **next_offset_out, struct mn_provider_error *err);

/* Unsupported when the provider predates 1.1 or lacks the operation. */
int mn_provider_registry_credentials(struct mn_provider_handle *h,
                                     struct mn_registry_credentials *out,
                                     struct mn_provider_error *err);

/* worker_details as the store keeps them: {type, identifier, logs_identifier}.
 * _new returns a new object (NULL on OOM); _parse borrows *type_out from
 * DETAILS and returns 0 or MN_EINVAL. */
json_t *mn_worker_details_new(const char *type, const struct mn_worker_ref *ref);
int mn_worker_details_parse(const json_t *details, const char **type_out,
                            struct mn_worker_ref *ref_out);

/* Serves the logs endpoint (exactly mn_api_logs_fn of api/server.h; ctx is
 * the struct mn_plugins *): finds the provider named by the execution's
 * worker_details type and pages through its log. No worker yet, a provider
 * without logs, or a log that is gone give an empty page. */
int mn_plugins_api_logs(void *ctx, const struct mn_invocation *inv, const char *initial_offset,
                        int max_lines, json_t **lines_out, char **next_offset_out,
                        struct mn_error *err);

/* Serves GET /container_repository_credentials (exactly mn_api_credentials_fn
 * of api/server.h; ctx is the struct mn_plugins *) from the default
 * provider's registry_credentials; a provider without one gives the local
 * answer {repository_name: "multinode-local", the rest ""}. */
int mn_plugins_api_credentials(void *ctx, json_t **out, struct mn_error *err);

/* Serves GET /providers (exactly mn_api_providers_fn; ctx is the struct
 * mn_plugins *): {default, providers: [{name: section, type: plugin name}]}. */
int mn_plugins_api_providers(void *ctx, json_t **out, struct mn_error *err);

#endif
