#include "config/config.h"

#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_check.h"
#include "multinode/common/config_report.h"
#include "config/config_schema.h"
#include "multinode/common/yaml_tree.h"

static int valid_provider_name(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '-'))
      return 0;
  return 1;
}

/* A relative plugin path is taken relative to the config file's folder. */
static char *resolve_plugin_path(const char *config_file, const char *path) {
  if (path[0] == '/')
    return strdup(path);
  const char *slash = strrchr(config_file, '/');
  size_t dir_len = slash ? (size_t)(slash - config_file) : 1;
  const char *dir = slash ? config_file : ".";
  if (slash && dir_len == 0)
    dir_len = 0; /* "/x.yaml": the root */
  size_t n = dir_len + 1 + strlen(path) + 1;
  char *out = malloc(n);
  if (out)
    snprintf(out, n, "%.*s/%s", (int)dir_len, dir, path);
  return out;
}

static const struct mn_provider_section *find_section(const struct mn_config *cfg,
                                                      const char *name) {
  for (size_t i = 0; i < cfg->providers.n_items; i++)
    if (strcmp(cfg->providers.items[i].name, name) == 0)
      return &cfg->providers.items[i];
  return NULL;
}

static struct mn_provider_section *add_section(struct mn_cfg_checker *c, const char *name,
                                               const struct mn_cfg_node *node) {
  struct mn_config *cfg = c->cfg;
  struct mn_provider_section *items =
      realloc(cfg->providers.items, (cfg->providers.n_items + 1) * sizeof *items);
  if (!items) {
    c->report.oom = 1;
    return NULL;
  }
  cfg->providers.items = items;
  struct mn_provider_section *s = &items[cfg->providers.n_items];
  memset(s, 0, sizeof *s);
  s->node = node;
  if (!(s->name = strdup(name))) {
    c->report.oom = 1;
    return NULL;
  }
  cfg->providers.n_items++;
  return s;
}

/* providers.<name>: a mapping (or empty) whose `plugin` key is ours; every
 * other key belongs to the plugin, which checks it at init. */
static void check_provider(struct mn_cfg_checker *c, const struct mn_cfg_pair *pair) {
  const struct mn_cfg_node *key = pair->key, *val = pair->value;
  if (!valid_provider_name(key->value)) {
    mn_cfg_report_add(&c->report, key, NULL,
                      "provider names may hold only letters, digits, _ and -");
    return;
  }
  if (val->kind != MN_CFG_MAPPING && !mn_cfg_node_is_null(val)) {
    mn_cfg_report_add(&c->report, val, NULL, "expected a mapping");
    return;
  }
  struct mn_provider_section *s = add_section(c, key->value, val);
  if (!s)
    return;
  const struct mn_cfg_node *plugin = mn_cfg_node_get(val, "plugin");
  if (!plugin || mn_cfg_node_is_null(plugin))
    return;
  if (plugin->kind != MN_CFG_SCALAR || !plugin->value[0]) {
    mn_cfg_report_add(&c->report, plugin, NULL, "expected the path of a plugin");
    return;
  }
  if (!(s->plugin_path = resolve_plugin_path(c->cfg->file, plugin->value)))
    c->report.oom = 1;
}

void mn_cfg_check_providers(struct mn_cfg_checker *c, const struct mn_cfg_node *node,
                            const struct mn_cfg_node *anchor, const char *path) {
  struct mn_config *cfg = c->cfg;
  const struct mn_cfg_node *def = NULL;
  if (!node) { /* no providers section: the local provider alone */
    if (!(cfg->providers.default_provider = strdup("local")))
      c->report.oom = 1;
    add_section(c, "local", NULL);
    return;
  }
  if (node->kind != MN_CFG_MAPPING) {
    mn_cfg_report_add(&c->report, node, NULL, "expected a mapping");
    return;
  }
  for (size_t i = 0; i < node->n_pairs; i++) {
    const struct mn_cfg_pair *pair = &node->pairs[i];
    if (strcmp(pair->key->value, "default") != 0) {
      check_provider(c, pair);
      continue;
    }
    def = pair->value;
    if (def->kind != MN_CFG_SCALAR || mn_cfg_node_is_null(def) || !def->value[0]) {
      mn_cfg_report_add(&c->report, def, NULL, "expected a string");
      return;
    }
  }
  const char *name = def ? def->value : "local";
  if (!(cfg->providers.default_provider = strdup(name))) {
    c->report.oom = 1;
    return;
  }
  if (!find_section(cfg, name))
    mn_cfg_report_add(&c->report, def ? def : anchor, def ? NULL : "providers.default",
                      "no provider section named \"%s\"%s", name,
                      def ? "" : " (providers.default is not set)");
}

/* A relative file name, made relative to the config file's folder. */
static void resolve_file(struct mn_cfg_checker *c, char **path) {
  if (!*path || (*path)[0] == '/')
    return;
  char *resolved = resolve_plugin_path(c->cfg->file, *path);
  if (!resolved) {
    c->report.oom = 1;
    return;
  }
  free(*path);
  *path = resolved;
}

/* Defaults that depend on other keys. */
static void derive(struct mn_cfg_checker *c) {
  struct mn_config *cfg = c->cfg;
  if (!cfg->server.tls.cert_file != !cfg->server.tls.key_file)
    mn_cfg_report_add(&c->report,
                      mn_cfg_node_get(mn_cfg_node_get(cfg->tree->root, "server"), "tls"),
                      "server.tls", "give both cert_file and key_file, or neither");
  resolve_file(c, &cfg->server.tls.cert_file);
  resolve_file(c, &cfg->server.tls.key_file);
  /* data_dir: from the config file's folder, not the working directory's,
   * and absolute (workers and Postgres run elsewhere; issue 19) */
  resolve_file(c, &cfg->data_dir);
  char cwd[PATH_MAX + 4];
  if (cfg->data_dir && cfg->data_dir[0] != '/' && getcwd(cwd, PATH_MAX)) {
    const char *rel = cfg->data_dir;
    while (rel[0] == '.' && rel[1] == '/') /* "./x" (a config file named without a folder) */
      rel += 2;
    char *abs = resolve_plugin_path(strcat(cwd, "/x"), rel);
    if (!abs)
      c->report.oom = 1;
    else {
      free(cfg->data_dir);
      cfg->data_dir = abs;
    }
  }
  if (!cfg->server.public_url && cfg->server.listen_host) {
    const char *h = cfg->server.listen_host;
    if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0)
      h = "127.0.0.1";
    int v6 = strchr(h, ':') != NULL;
    size_t n = strlen(h) + 32;
    if (!(cfg->server.public_url = malloc(n))) {
      c->report.oom = 1;
      return;
    }
    snprintf(cfg->server.public_url, n, "%s://%s%s%s:%d",
             cfg->server.tls.cert_file ? "https" : "http", v6 ? "[" : "", h, v6 ? "]" : "",
             cfg->server.listen_port);
  }
}

int mn_config_load_report(const char *path, struct mn_config *out, char **report_out,
                          struct mn_error *err) {
  struct mn_cfg_checker c = {.cfg = out};
  int rc;
  memset(out, 0, sizeof *out);
  if (report_out)
    *report_out = NULL;
  if (!(out->file = strdup(path))) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = mn_cfg_tree_load_file(path, &out->tree, err))) {
    mn_cfg_report_add_line(&c.report, err ? err->msg : "cannot load the configuration");
    goto done;
  }
  mn_cfg_resolve_provider_env(&c, out->tree->root);
  mn_cfg_check_section(&c, out->tree->root, out->tree->root, "", mn_config_schema, 0);
  if (!c.report.count)
    derive(&c);
  rc = mn_cfg_report_finish(&c.report, err);
done:
  if (report_out && rc)
    *report_out = mn_cfg_report_text(&c.report);
  mn_cfg_report_release(&c.report);
  if (rc)
    mn_config_release(out);
  return rc;
}

int mn_config_load(const char *path, struct mn_config *out, struct mn_error *err) {
  return mn_config_load_report(path, out, NULL, err);
}

const struct mn_provider_section *mn_config_provider(const struct mn_config *cfg,
                                                     const char *name) {
  return find_section(cfg, name ? name : cfg->providers.default_provider);
}

void mn_config_release(struct mn_config *cfg) {
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->providers.n_items; i++) {
    free(cfg->providers.items[i].name);
    free(cfg->providers.items[i].plugin_path);
  }
  free(cfg->providers.items);
  free(cfg->providers.default_provider);
  free(cfg->data_dir);
  free(cfg->store.dsn);
  free(cfg->server.listen_host);
  free(cfg->server.api_key);
  for (size_t i = 0; i < cfg->server.n_api_keys; i++)
    mn_config_api_key_release(&cfg->server.api_keys[i]);
  free(cfg->server.api_keys);
  free(cfg->server.public_url);
  free(cfg->server.tls.cert_file);
  free(cfg->server.tls.key_file);
  mn_cfg_tree_free(cfg->tree);
  free(cfg->file);
  memset(cfg, 0, sizeof *cfg);
}

void mn_config_api_key_release(struct mn_config_api_key *k) {
  free(k->name);
  for (size_t i = 0; i < k->n_projects; i++)
    free(k->projects[i]);
  free(k->projects);
  memset(k, 0, sizeof *k);
}

int mn_config_has_plaintext_key(const char *path) {
  struct mn_cfg_tree *tree = NULL;
  struct mn_error err = {0};
  int found = 0;
  if (mn_cfg_tree_load_file(path, &tree, &err) != 0)
    return 0;
  const struct mn_cfg_node *key = mn_cfg_node_find(tree->root, "server.api_key");
  found = key && !mn_cfg_node_is_null(key);
  mn_cfg_tree_free(tree);
  return found;
}
