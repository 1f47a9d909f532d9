/* yaml_json.c — a YAML text, read into the common tree, as a jansson tree
 * (see yaml_json.h). */
#include "yaml_json.h"

#include <stdio.h>

#include "multinode/common/yaml_tree.h"

static json_t *convert(const struct mn_cfg_node *node) {
  json_t *out = NULL;
  switch (node->kind) {
  case MN_CFG_SCALAR: return json_stringn(node->value, node->value_len);
  case MN_CFG_SEQUENCE:
    out = json_array();
    for (size_t i = 0; out && i < node->n_items; i++)
      if (json_array_append_new(out, convert(node->items[i]))) {
        json_decref(out);
        return NULL;
      }
    return out;
  case MN_CFG_MAPPING:
    out = json_object();
    for (size_t i = 0; out && i < node->n_pairs; i++)
      if (json_object_set_new(out, node->pairs[i].key->value, convert(node->pairs[i].value))) {
        json_decref(out);
        return NULL;
      }
    return out;
  }
  return NULL;
}

json_t *mn_k8s_yaml_to_json(const char *name, const char *text, size_t len, char *err,
                            size_t err_size) {
  struct mn_cfg_tree *tree;
  struct mn_error e;
  if (mn_cfg_tree_load_string(name, text, len, &tree, &e) != 0) {
    snprintf(err, err_size, "%s", e.msg);
    return NULL;
  }
  json_t *out = convert(tree->root);
  if (!out)
    snprintf(err, err_size, "%s: out of memory", name);
  mn_cfg_tree_free(tree);
  return out;
}
