/* `<key>_env: VAR` inside provider sections (docs/deploy.md, "Settings from
 * the environment"): before the providers read their sections, each such
 * pair becomes `<key>: <value of VAR>`, so every provider key can come from
 * the environment the same way the daemon's own keys do (config_check.c),
 * with no provider knowing. The value node keeps its place in the file, so
 * a provider's error about the value points at the `_env` line. */
#include <stdlib.h>
#include <string.h>

#include "config/config_check.h"
#include "multinode/common/yaml_tree.h"

static const char suffix[] = "_env";

/* The pair's key names KEY_env for some KEY (not `plugin`, which the host
 * reads before any provider, nor a bare "_env"). */
static int env_key(const char *name) {
  size_t n = strlen(name), s = sizeof suffix - 1;
  return n > s && strcmp(name + n - s, suffix) == 0 &&
         !(n - s == 6 && strncmp(name, "plugin", 6) == 0);
}

static void resolve_section(struct mn_cfg_checker *c, struct mn_cfg_node *map) {
  for (size_t i = 0; i < map->n_pairs; i++) {
    struct mn_cfg_node *key = map->pairs[i].key, *val = map->pairs[i].value;
    if (!env_key(key->value))
      continue;
    size_t base_len = strlen(key->value) - (sizeof suffix - 1);
    for (size_t j = 0; j < map->n_pairs; j++) {
      const char *other = map->pairs[j].key->value;
      if (j != i && strlen(other) == base_len && strncmp(other, key->value, base_len) == 0) {
        mn_cfg_report_add(&c->report, key, NULL, "set either %.*s or %s, not both",
                          (int)base_len, key->value, key->value);
        goto next;
      }
    }
    if (val->kind != MN_CFG_SCALAR || mn_cfg_node_is_null(val) || !val->value[0]) {
      mn_cfg_report_add(&c->report, val, NULL, "expected the name of an environment variable");
      continue;
    }
    const char *v = getenv(val->value);
    if (!v) {
      mn_cfg_report_add(&c->report, val, NULL, "environment variable \"%s\" is not set",
                        val->value);
      continue;
    }
    char *copy = strdup(v);
    if (!copy) {
      c->report.oom = 1;
      return;
    }
    free(val->value);
    val->value = copy;
    val->value_len = strlen(copy);
    val->plain = 0; /* a value, never YAML's null */
    key->value[base_len] = '\0';
    key->value_len = base_len;
  next:;
  }
}

void mn_cfg_resolve_provider_env(struct mn_cfg_checker *c, struct mn_cfg_node *root) {
  struct mn_cfg_node *providers = (struct mn_cfg_node *)mn_cfg_node_get(root, "providers");
  if (!providers || providers->kind != MN_CFG_MAPPING)
    return; /* the providers check reports it */
  for (size_t i = 0; i < providers->n_pairs; i++) {
    struct mn_cfg_node *section = providers->pairs[i].value;
    if (strcmp(providers->pairs[i].key->value, "default") != 0 &&
        section->kind == MN_CFG_MAPPING)
      resolve_section(c, section);
  }
}
