/* Internal to core/plugin: what the host keeps per loaded provider. */
#ifndef MN_PLUGIN_HANDLE_H
#define MN_PLUGIN_HANDLE_H

#include <pthread.h>
#include <stddef.h>

#include "multinode/common/yaml_tree.h"
#include "multinode/provider.h"

struct mn_provider_handle {
  char *name;      /* the section name */
  char *path;      /* the file loaded */
  char *log_tag;   /* "provider.<name>" */
  void *dl;        /* dlopen handle */
  struct mn_provider ops; /* the plugin's table, copied min(struct_size, sizeof) */
  void *state;     /* from init */
  int initialized;
  struct mn_host host; /* handed to init; host_private points back here */
  /* MULTINODE_API_URL of its workers: the section's api_url, else public_url */
  const char *worker_api_url;
  const struct mn_cfg_node *config;
  struct mn_cfg_node empty_section; /* stands in when the section is absent */
  struct mn_plugins *owner;
};

struct mn_plugins {
  struct mn_provider_handle **items;
  size_t n_items;
  char *default_name;
  char *public_url;
  char *api_key;
  char *data_dir;
  char *cluster_id;
  int check_only;           /* loaded for --check-config: nothing initialized */
  pthread_mutex_t waker_mu; /* guards waker, waker_ctx */
  void (*waker)(void *ctx);
  void *waker_ctx;
};

/* host_table.c: fills the services part of h->host. */
void mn_host_table_init(struct mn_provider_handle *h);

/* host_config.c: the config accessors of struct mn_host. */
int mn_host_config_has(const struct mn_cfg_node *config, const char *key);
int mn_host_config_string(const struct mn_cfg_node *config, const char *key, int required,
                          const char **out, struct mn_provider_error *err);
int mn_host_config_int(const struct mn_cfg_node *config, const char *key, int required,
                       int64_t min, int64_t max, int64_t *out, struct mn_provider_error *err);
int mn_host_config_bool(const struct mn_cfg_node *config, const char *key, int required,
                        int *out, struct mn_provider_error *err);
int mn_host_config_duration(const struct mn_cfg_node *config, const char *key, int required,
                            int64_t *seconds_out, struct mn_provider_error *err);
int mn_host_config_strings(const struct mn_cfg_node *config, const char *key, int required,
                           const char *const **items_out, size_t *n_out,
                           struct mn_provider_error *err);
int mn_host_config_error(const struct mn_cfg_node *config, const char *key,
                         struct mn_provider_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mn_host_config_check_keys(const struct mn_cfg_node *config, const char *const *known,
                              size_t n_known, struct mn_provider_error *err);

#endif
