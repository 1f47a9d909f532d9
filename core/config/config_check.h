/* Internal to core/config: the table walker and the providers section. */
#ifndef MN_CONFIG_CONFIG_CHECK_H
#define MN_CONFIG_CONFIG_CHECK_H

#include "multinode/common/config_report.h"
#include "config/config_schema.h"

struct mn_config;
struct mn_cfg_node;

struct mn_cfg_checker {
  struct mn_config *cfg;
  struct mn_cfg_report report;
};

/* Checks MAP (a mapping, or NULL when absent) against KEYS: unknown keys,
 * types, ranges; stores values or defaults. ANCHOR is the node errors about
 * missing keys point at; QUIET suppresses "missing" errors. */
void mn_cfg_check_section(struct mn_cfg_checker *c, const struct mn_cfg_node *map,
                          const struct mn_cfg_node *anchor, const char *path,
                          const struct mn_cfg_key *keys, int quiet);

/* The `providers:` section (config.c). NODE is NULL when absent. */
void mn_cfg_check_providers(struct mn_cfg_checker *c, const struct mn_cfg_node *node,
                            const struct mn_cfg_node *anchor, const char *path);

/* Rewrites `<key>_env: VAR` pairs of the provider sections under ROOT
 * into `<key>: value of VAR` (config_env.c); problems go to the report. */
void mn_cfg_resolve_provider_env(struct mn_cfg_checker *c, struct mn_cfg_node *root);

#endif
