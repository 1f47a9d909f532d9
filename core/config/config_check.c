/* The table walker: checks one YAML mapping against a key table, stores
 * values and defaults into struct mn_config and reports every problem. */
#include "config/config_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_api_keys.h"
#include "multinode/common/yaml_tree.h"
#include "multinode/common/duration.h"
#include "util/log.h"

#define FIELD(cfg, off, type) ((type *)(void *)((char *)(cfg) + (off)))

static int set_string(char **field, const char *text) {
  char *copy = strdup(text);
  if (!copy)
    return -1;
  free(*field);
  *field = copy;
  return 0;
}

static int parse_listen(const char *text, char **host_out, int *port_out) {
  const char *colon = strrchr(text, ':');
  const char *host = text;
  size_t host_len;
  if (!colon || !colon[1])
    return -1;
  host_len = (size_t)(colon - text);
  if (host_len >= 2 && text[0] == '[' && text[host_len - 1] == ']') {
    host++;
    host_len -= 2;
  } else if (memchr(text, ':', host_len)) {
    return -1; /* IPv6 must be bracketed */
  }
  if (host_len == 0)
    return -1;
  long port = 0;
  for (const char *p = colon + 1; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    if (port <= 65535)
      port = port * 10 + (*p - '0');
  }
  if (port > 65535)
    return -2;
  char *h = strndup(host, host_len);
  if (!h)
    return -1;
  free(*host_out);
  *host_out = h;
  *port_out = (int)port;
  return 0;
}

/* Parses TEXT as the value of key K into CFG; problems are reported at AT
 * under PATH. */
static void set_value(struct mn_cfg_checker *c, const struct mn_cfg_key *k, const char *text,
                      const struct mn_cfg_node *at, const char *path) {
  struct mn_cfg_report *rep = &c->report;
  void *cfg = c->cfg;
  switch (k->type) {
  case MN_CFG_T_STRING:
  case MN_CFG_T_URL:
    if ((k->flags & MN_CFG_F_NONEMPTY) && !text[0]) {
      mn_cfg_report_add(rep, at, path, "must not be empty");
      return;
    }
    if (k->type == MN_CFG_T_URL && strncmp(text, "http://", 7) != 0 &&
        strncmp(text, "https://", 8) != 0) {
      mn_cfg_report_add(rep, at, path, "expected an http:// or https:// URL");
      return;
    }
    if (set_string(FIELD(cfg, k->offset, char *), text))
      rep->oom = 1;
    return;
  case MN_CFG_T_INT: {
    struct mn_cfg_node tmp = {.kind = MN_CFG_SCALAR, .value = (char *)text,
                              .value_len = strlen(text)};
    long long v;
    if (mn_cfg_scalar_int(&tmp, &v)) {
      mn_cfg_report_add(rep, at, path, "expected an integer");
      return;
    }
    if (v < k->min || v > k->max) {
      mn_cfg_report_add(rep, at, path, "must be between %lld and %lld", k->min, k->max);
      return;
    }
    *FIELD(cfg, k->offset, int) = (int)v;
    return;
  }
  case MN_CFG_T_BOOL: {
    if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "on") == 0) {
      *FIELD(cfg, k->offset, bool) = true;
    } else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 ||
               strcmp(text, "off") == 0) {
      *FIELD(cfg, k->offset, bool) = false;
    } else {
      mn_cfg_report_add(rep, at, path, "expected true or false");
    }
    return;
  }
  case MN_CFG_T_DURATION: {
    int64_t secs;
    if (mn_duration_parse(text, &secs)) {
      mn_cfg_report_add(rep, at, path, "expected a duration such as 90s, 5m or 1h");
      return;
    }
    if (secs < k->min || secs > k->max) {
      mn_cfg_report_add(rep, at, path, "must be between %lld and %lld seconds", k->min,
                        k->max);
      return;
    }
    *FIELD(cfg, k->offset, int64_t) = secs;
    return;
  }
  case MN_CFG_T_LISTEN:
    switch (parse_listen(text, FIELD(cfg, k->offset, char *), FIELD(cfg, k->offset2, int))) {
    case 0: break;
    case -2: mn_cfg_report_add(rep, at, path, "the port must be between 0 and 65535"); break;
    default: mn_cfg_report_add(rep, at, path, "expected host:port, such as 127.0.0.1:5000");
    }
    return;
  case MN_CFG_T_LOG_LEVEL: {
    enum mn_log_level level;
    if (mn_log_parse_level(text, &level)) {
      mn_cfg_report_add(rep, at, path, "expected one of error, warn, info, debug");
      return;
    }
    *FIELD(cfg, k->offset, enum mn_log_level) = level;
    return;
  }
  case MN_CFG_T_SECTION:
  case MN_CFG_T_PROVIDERS:
  case MN_CFG_T_API_KEYS:
    break;
  }
}

/* Every key with a value may be given as `<name>_env: VAR` (12-factor,
 * docs/deploy.md); MN_CFG_F_ENV only makes "missing" name that form. */
static int takes_env(const struct mn_cfg_key *k) {
  return k->type != MN_CFG_T_SECTION && k->type != MN_CFG_T_PROVIDERS &&
         k->type != MN_CFG_T_API_KEYS;
}

static int is_env_name(const struct mn_cfg_key *k, const char *name) {
  size_t n = strlen(k->name);
  return takes_env(k) && strncmp(name, k->name, n) == 0 &&
         strcmp(name + n, "_env") == 0;
}

static const struct mn_cfg_key *lookup(const struct mn_cfg_key *keys, const char *name) {
  for (const struct mn_cfg_key *k = keys; k->name; k++)
    if (strcmp(k->name, name) == 0 || is_env_name(k, name))
      return k;
  return NULL;
}

static void join(char *buf, size_t size, const char *path, const char *name) {
  snprintf(buf, size, "%s%s%s", path, path[0] ? "." : "", name);
}

/* A value given through `<name>_env: VAR`. */
static void set_from_env(struct mn_cfg_checker *c, const struct mn_cfg_key *k,
                         const struct mn_cfg_node *env_node) {
  if (env_node->kind != MN_CFG_SCALAR || !env_node->value[0]) {
    mn_cfg_report_add(&c->report, env_node, NULL,
                      "expected the name of an environment variable");
    return;
  }
  const char *v = getenv(env_node->value);
  if (!v) {
    mn_cfg_report_add(&c->report, env_node, NULL, "environment variable \"%s\" is not set",
                      env_node->value);
    return;
  }
  if (!v[0] && (k->flags & MN_CFG_F_NONEMPTY)) {
    mn_cfg_report_add(&c->report, env_node, NULL, "environment variable \"%s\" is empty",
                      env_node->value);
    return;
  }
  set_value(c, k, v, env_node, env_node->path);
}

static void check_key(struct mn_cfg_checker *c, const struct mn_cfg_key *k,
                      const struct mn_cfg_node *map, const struct mn_cfg_node *anchor,
                      const char *path, int quiet) {
  char kpath[512], envkey[128];
  const struct mn_cfg_pair *pair = mn_cfg_node_pair(map, k->name);
  const struct mn_cfg_node *node = pair ? pair->value : NULL, *env_node = NULL;
  join(kpath, sizeof kpath, path, k->name);
  if (mn_cfg_node_is_null(node))
    node = NULL;
  if (takes_env(k)) {
    snprintf(envkey, sizeof envkey, "%s_env", k->name);
    env_node = mn_cfg_node_get(map, envkey);
    if (mn_cfg_node_is_null(env_node))
      env_node = NULL;
  }
  if (k->type == MN_CFG_T_SECTION) {
    /* errors about keys missing in a section point at the section's key */
    mn_cfg_check_section(c, node, pair ? pair->key : anchor, kpath, k->children, quiet);
    return;
  }
  if (k->type == MN_CFG_T_PROVIDERS) {
    mn_cfg_check_providers(c, node, pair ? pair->key : anchor, kpath);
    return;
  }
  if (k->type == MN_CFG_T_API_KEYS) {
    mn_cfg_check_api_keys(c, node, pair ? pair->key : anchor, kpath);
    return;
  }
  if (node && env_node) {
    mn_cfg_report_add(&c->report, env_node, NULL, "set either %s or %s, not both", k->name,
                      envkey);
    return;
  }
  if (node) {
    if (node->kind != MN_CFG_SCALAR) {
      static const char *const expected[] = {
          [MN_CFG_T_STRING] = "a string", [MN_CFG_T_URL] = "a URL",
          [MN_CFG_T_INT] = "an integer", [MN_CFG_T_DURATION] = "a duration",
          [MN_CFG_T_LISTEN] = "host:port", [MN_CFG_T_LOG_LEVEL] = "a log level",
          [MN_CFG_T_BOOL] = "true or false"};
      mn_cfg_report_add(&c->report, node, NULL, "expected %s", expected[k->type]);
      return;
    }
    set_value(c, k, node->value, node, node->path);
  } else if (env_node) {
    set_from_env(c, k, env_node);
  } else if (k->def) {
    set_value(c, k, k->def, anchor, kpath);
  } else if ((k->flags & MN_CFG_F_REQUIRED) && !quiet) {
    if (k->flags & MN_CFG_F_ENV)
      mn_cfg_report_add(&c->report, anchor, kpath, "missing (set %s or %s_env)", kpath, kpath);
    else
      mn_cfg_report_add(&c->report, anchor, kpath, "missing");
  }
}

void mn_cfg_check_section(struct mn_cfg_checker *c, const struct mn_cfg_node *map,
                          const struct mn_cfg_node *anchor, const char *path,
                          const struct mn_cfg_key *keys, int quiet) {
  if (map && map->kind != MN_CFG_MAPPING) {
    mn_cfg_report_add(&c->report, map, NULL, "expected a mapping");
    map = NULL;
    quiet = 1; /* one error for a broken section, not one per missing key */
  }
  if (map) {
    for (size_t i = 0; i < map->n_pairs; i++) {
      const struct mn_cfg_node *key = map->pairs[i].key;
      if (!lookup(keys, key->value))
        mn_cfg_report_add(&c->report, key, NULL, "unknown key");
    }
  }
  for (const struct mn_cfg_key *k = keys; k->name; k++)
    check_key(c, k, map, anchor, path, quiet);
}
