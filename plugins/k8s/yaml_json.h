/* yaml_json.h — a YAML document (a kubeconfig) loaded with libyaml into a
 * jansson tree: mappings become objects, sequences arrays, every scalar a
 * string. */
#ifndef MN_K8S_YAML_JSON_H
#define MN_K8S_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Parses the first document of text[0..len). Returns a new reference, or
 * NULL with a message ("line L, column C: ...") in err. An empty document
 * yields an empty object. */
json_t *mn_k8s_yaml_to_json(const char *text, size_t len, char *err, size_t err_size);

#endif
