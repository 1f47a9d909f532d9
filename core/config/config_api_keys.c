/* server.api_keys (config_api_keys.h). */
#include "config/config_api_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "config/config.h"
#include "multinode/common/yaml_tree.h"

static const char *const item_keys[] = {"name", "sha256", "key_env", "role", "projects", NULL};

static bool known(const char *key) {
  for (size_t i = 0; item_keys[i]; i++)
    if (strcmp(item_keys[i], key) == 0)
      return true;
  return false;
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static const struct mn_cfg_node *scalar(struct mn_cfg_checker *c, const struct mn_cfg_node *item,
                                        const char *key) {
  const struct mn_cfg_node *n = mn_cfg_node_get(item, key);
  if (!n || mn_cfg_node_is_null(n))
    return NULL;
  if (n->kind != MN_CFG_SCALAR) {
    mn_cfg_report_add(&c->report, n, NULL, "expected a string");
    return NULL;
  }
  return n;
}

/* One item; 0 when it is valid (and stored into *out). */
static int check_item(struct mn_cfg_checker *c, const struct mn_cfg_node *item,
                      struct mn_config_api_key *out) {
  int bad = 0;
  if (item->kind != MN_CFG_MAPPING) {
    mn_cfg_report_add(&c->report, item, NULL,
                      "expected a mapping {name, sha256 or key_env, role, projects}");
    return -1;
  }
  for (size_t i = 0; i < item->n_pairs; i++)
    if (!known(item->pairs[i].key->value)) {
      mn_cfg_report_add(&c->report, item->pairs[i].key, NULL,
                        "unknown key (allowed: name, sha256, key_env, role, projects)");
      bad = 1;
    }
  const struct mn_cfg_node *name = scalar(c, item, "name"), *sha = scalar(c, item, "sha256");
  const struct mn_cfg_node *env = scalar(c, item, "key_env"), *role = scalar(c, item, "role");
  const struct mn_cfg_node *projects = mn_cfg_node_get(item, "projects");
  if (!name || !name->value[0]) {
    mn_cfg_report_add(&c->report, item, NULL, "name: missing");
    bad = 1;
  }
  if (!role) {
    mn_cfg_report_add(&c->report, item, NULL, "role: missing (admin, invoker or reader)");
    bad = 1;
  } else if (strcmp(role->value, "admin") == 0) {
    out->role = MN_ROLE_ADMIN;
  } else if (strcmp(role->value, "invoker") == 0) {
    out->role = MN_ROLE_INVOKER;
  } else if (strcmp(role->value, "reader") == 0) {
    out->role = MN_ROLE_READER;
  } else {
    mn_cfg_report_add(&c->report, role, NULL, "expected admin, invoker or reader");
    bad = 1;
  }
  if ((sha != NULL) == (env != NULL)) {
    mn_cfg_report_add(&c->report, sha ? sha : env ? env : item, NULL,
                      "set either sha256 (the key's SHA-256) or key_env (the variable "
                      "holding the key), exactly one");
    bad = 1;
  } else if (sha) {
    if (sha->value_len != 64) {
      mn_cfg_report_add(&c->report, sha, NULL, "expected 64 hexadecimal digits (sha256sum)");
      bad = 1;
    }
    for (size_t i = 0; !bad && i < 32; i++) {
      int hi = hex_digit(sha->value[2 * i]), lo = hex_digit(sha->value[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        mn_cfg_report_add(&c->report, sha, NULL, "expected 64 hexadecimal digits (sha256sum)");
        bad = 1;
      } else {
        out->sha256[i] = (unsigned char)(hi << 4 | lo);
      }
    }
  } else {
    const char *key = getenv(env->value);
    if (!key || !*key) {
      mn_cfg_report_add(&c->report, env, NULL, "environment variable %s is not set",
                        env->value);
      bad = 1;
    } else if (strlen(key) < MN_API_KEY_MIN_LENGTH) {
      mn_cfg_report_add(&c->report, env, NULL,
                        "the key in %s has %zu characters; at least %d are needed", env->value,
                        strlen(key), MN_API_KEY_MIN_LENGTH);
      bad = 1;
    } else {
      SHA256((const unsigned char *)key, strlen(key), out->sha256);
    }
  }
  if (projects && !mn_cfg_node_is_null(projects)) {
    if (projects->kind != MN_CFG_SEQUENCE || (projects->n_items && !projects->strings)) {
      mn_cfg_report_add(&c->report, projects, NULL, "expected a list of project names");
      bad = 1;
    } else if (projects->n_items) {
      out->projects = calloc(projects->n_items, sizeof *out->projects);
      for (size_t i = 0; out->projects && i < projects->n_items; i++)
        if ((out->projects[i] = strdup(projects->strings[i])))
          out->n_projects++;
    }
  }
  if (name && !(out->name = strdup(name->value)))
    bad = 1;
  return bad ? -1 : 0;
}

void mn_cfg_check_api_keys(struct mn_cfg_checker *c, const struct mn_cfg_node *node,
                           const struct mn_cfg_node *anchor, const char *path) {
  struct mn_config *cfg = c->cfg;
  (void)anchor;
  (void)path;
  if (!node || mn_cfg_node_is_null(node))
    return;
  if (node->kind != MN_CFG_SEQUENCE) {
    mn_cfg_report_add(&c->report, node, NULL, "expected a list of keys");
    return;
  }
  cfg->server.api_keys = calloc(node->n_items ? node->n_items : 1,
                                sizeof *cfg->server.api_keys);
  if (!cfg->server.api_keys)
    return;
  for (size_t i = 0; i < node->n_items; i++) {
    struct mn_config_api_key k = {0};
    if (check_item(c, node->items[i], &k) == 0) {
      for (size_t j = 0; j < cfg->server.n_api_keys; j++)
        if (strcmp(cfg->server.api_keys[j].name, k.name) == 0) {
          mn_cfg_report_add(&c->report, node->items[i], NULL, "name: \"%s\" is used twice",
                            k.name);
          break;
        }
      cfg->server.api_keys[cfg->server.n_api_keys++] = k;
    } else {
      mn_config_api_key_release(&k);
    }
  }
}
