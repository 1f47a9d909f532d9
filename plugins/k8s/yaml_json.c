/* yaml_json.c — libyaml document -> jansson tree (see yaml_json.h). */
#include "yaml_json.h"

#include <stdio.h>
#include <yaml.h>

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth) {
  if (!node || depth > 64)
    return NULL;
  switch (node->type) {
  case YAML_SCALAR_NODE:
    return json_stringn((const char *)node->data.scalar.value, node->data.scalar.length);
  case YAML_SEQUENCE_NODE: {
    json_t *arr = json_array();
    for (yaml_node_item_t *it = node->data.sequence.items.start;
         arr && it < node->data.sequence.items.top; it++) {
      json_t *v = convert(doc, yaml_document_get_node(doc, *it), depth + 1);
      if (!v || json_array_append_new(arr, v)) {
        json_decref(arr);
        return NULL;
      }
    }
    return arr;
  }
  case YAML_MAPPING_NODE: {
    json_t *obj = json_object();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         obj && p < node->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(doc, p->key);
      if (!k || k->type != YAML_SCALAR_NODE) {
        json_decref(obj);
        return NULL;
      }
      json_t *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
      char key[256];
      snprintf(key, sizeof key, "%.*s", (int)k->data.scalar.length,
               (const char *)k->data.scalar.value);
      if (!v || json_object_set_new(obj, key, v)) {
        json_decref(obj);
        return NULL;
      }
    }
    return obj;
  }
  default:
    return NULL;
  }
}

json_t *mn_k8s_yaml_to_json(const char *text, size_t len, char *err, size_t err_size) {
  yaml_parser_t parser;
  yaml_document_t doc;
  json_t *out = NULL;
  if (!yaml_parser_initialize(&parser)) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(err, err_size, "line %lu, column %lu: %s", (unsigned long)parser.problem_mark.line + 1,
             (unsigned long)parser.problem_mark.column + 1,
             parser.problem ? parser.problem : "invalid YAML");
    yaml_parser_delete(&parser);
    return NULL;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root)
    out = json_object();
  else if (!(out = convert(&doc, root, 0)))
    snprintf(err, err_size, "unsupported YAML (a non-scalar key, or nesting too deep)");
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return out;
}
