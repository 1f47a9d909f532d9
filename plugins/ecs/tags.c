/* tags.c — see tags.h. */
#include "tags.h"

#include <string.h>

static int tag_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr(" _.:/=+-@", c));
}

int mn_ecs_tag_add(json_t *tags, const char *key, const char *value) {
  char v[257];
  size_t n = 0;
  for (; value && value[n] && n < 256; n++)
    v[n] = tag_char((unsigned char)value[n]) ? value[n] : '_';
  v[n] = '\0';
  return json_array_append_new(tags, json_pack("{s:s, s:s}", "key", key, "value", v));
}

const char *mn_ecs_tag_get(const json_t *tags, const char *key) {
  size_t i;
  json_t *t;
  json_array_foreach(tags, i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    if (k && strcmp(k, key) == 0)
      return json_string_value(json_object_get(t, "value"));
  }
  return NULL;
}
