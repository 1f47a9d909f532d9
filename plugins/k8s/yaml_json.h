/* yaml_json.h — a YAML document (a kubeconfig) read with the common YAML
 * tree (multinode/common/yaml_tree.h) into a jansson tree: mappings become
 * objects, sequences arrays, every scalar a string. */
#ifndef MN_K8S_YAML_JSON_H
#define MN_K8S_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Parses text[0..len), named NAME in messages. Returns a new reference, or
 * NULL with a message ("NAME:LINE:COL: ...", the tree's) in err. An empty
 * document yields an empty object; aliases, duplicate keys and a second
 * document are refused. */
json_t *mn_k8s_yaml_to_json(const char *name, const char *text, size_t len, char *err,
                            size_t err_size);

#endif
