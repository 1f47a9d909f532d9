/* The config accessors of the host table: typed reads of a provider's own
 * YAML section, with errors that name file:line:col and the key path. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "multinode/common/config_report.h"
#include "multinode/common/yaml_tree.h"
#include "plugin/handle.h"
#include "multinode/common/duration.h"

/* "FILE:LINE:COL: PATH: problem" at AT. */
__attribute__((format(printf, 4, 5))) static int fail_at(struct mn_provider_error *err,
                                                         const struct mn_cfg_node *at,
                                                         const char *path, const char *fmt,
                                                         ...) {
  char problem[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  if (err) {
    err->code = MN_PROVIDER_E_INVALID;
    snprintf(err->msg, sizeof err->msg, "%s:%d:%d: %s: %s", at->file, at->line, at->col,
             path, problem);
  }
  return MN_PROVIDER_E_INVALID;
}

/* Finds KEY below CONFIG. Returns the node (NULL when absent or null);
 * *missing_path gets the full key path for "missing" errors. */
static const struct mn_cfg_node *lookup(const struct mn_cfg_node *config, const char *key,
                                        char *missing_path, size_t size) {
  snprintf(missing_path, size, "%s%s%s", config->path, config->path[0] ? "." : "", key);
  const struct mn_cfg_node *n = mn_cfg_node_find(config, key);
  return mn_cfg_node_is_null(n) ? NULL : n;
}

static int absent(const struct mn_cfg_node *config, const char *path, int required,
                  struct mn_provider_error *err) {
  return required ? fail_at(err, config, path, "missing") : 0;
}

int mn_host_config_has(const struct mn_cfg_node *config, const char *key) {
  char path[512];
  return config && lookup(config, key, path, sizeof path) != NULL;
}

int mn_host_config_string(const struct mn_cfg_node *config, const char *key, int required,
                          const char **out, struct mn_provider_error *err) {
  char path[512];
  const struct mn_cfg_node *n = lookup(config, key, path, sizeof path);
  if (!n)
    return absent(config, path, required, err);
  if (n->kind != MN_CFG_SCALAR)
    return fail_at(err, n, n->path, "expected a string");
  *out = n->value;
  return 0;
}

int mn_host_config_int(const struct mn_cfg_node *config, const char *key, int required,
                       int64_t min, int64_t max, int64_t *out, struct mn_provider_error *err) {
  char path[512];
  long long v;
  const struct mn_cfg_node *n = lookup(config, key, path, sizeof path);
  if (!n)
    return absent(config, path, required, err);
  if (mn_cfg_scalar_int(n, &v))
    return fail_at(err, n, n->path, "expected an integer");
  if (v < min || v > max)
    return fail_at(err, n, n->path, "must be between %lld and %lld", (long long)min,
                   (long long)max);
  *out = v;
  return 0;
}

int mn_host_config_bool(const struct mn_cfg_node *config, const char *key, int required,
                        int *out, struct mn_provider_error *err) {
  char path[512];
  const struct mn_cfg_node *n = lookup(config, key, path, sizeof path);
  if (!n)
    return absent(config, path, required, err);
  if (mn_cfg_scalar_bool(n, out))
    return fail_at(err, n, n->path, "expected true or false");
  return 0;
}

int mn_host_config_duration(const struct mn_cfg_node *config, const char *key, int required,
                            int64_t *seconds_out, struct mn_provider_error *err) {
  char path[512];
  const struct mn_cfg_node *n = lookup(config, key, path, sizeof path);
  if (!n)
    return absent(config, path, required, err);
  if (n->kind != MN_CFG_SCALAR || mn_duration_parse(n->value, seconds_out))
    return fail_at(err, n, n->path, "expected a duration such as 90s, 5m or 1h");
  return 0;
}

int mn_host_config_strings(const struct mn_cfg_node *config, const char *key, int required,
                           const char *const **items_out, size_t *n_out,
                           struct mn_provider_error *err) {
  char path[512];
  const struct mn_cfg_node *n = lookup(config, key, path, sizeof path);
  if (!n)
    return absent(config, path, required, err);
  if (n->kind != MN_CFG_SEQUENCE || !n->strings)
    return fail_at(err, n, n->path, "expected a list of strings");
  *items_out = (const char *const *)n->strings;
  *n_out = n->n_items;
  return 0;
}

int mn_host_config_error(const struct mn_cfg_node *config, const char *key,
                         struct mn_provider_error *err, const char *fmt, ...) {
  char path[512], problem[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  const struct mn_cfg_node *n = lookup(config, key, path, sizeof path);
  return fail_at(err, n ? n : config, path, "%s", problem);
}

int mn_host_config_check_keys(const struct mn_cfg_node *config, const char *const *known,
                              size_t n_known, struct mn_provider_error *err) {
  struct mn_cfg_report rep = {0};
  int rc = 0;
  if (config->kind != MN_CFG_MAPPING)
    return 0; /* an empty (null) section has no keys */
  for (size_t i = 0; i < config->n_pairs; i++) {
    const struct mn_cfg_node *k = config->pairs[i].key;
    /* the daemon's own keys of every section (plugin/host.c) */
    int ok = strcmp(k->value, "plugin") == 0 || strcmp(k->value, "api_url") == 0;
    for (size_t j = 0; j < n_known && !ok; j++)
      ok = strcmp(k->value, known[j]) == 0;
    if (!ok)
      mn_cfg_report_add(&rep, k, NULL, "unknown key");
  }
  if (rep.count) {
    rc = MN_PROVIDER_E_INVALID;
    if (err) {
      err->code = rc;
      mn_cfg_report_format(&rep, err->msg, sizeof err->msg);
    }
  }
  mn_cfg_report_release(&rep);
  return rc;
}
