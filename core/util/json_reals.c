/* json_reals.c — see json_reals.h. */
#include "util/json_reals.h"

#include <stdio.h>
#include <stdlib.h>

static int reals_short(const json_t *j) {
  const char *key;
  json_t *v;
  size_t i;
  char buf[32];
  switch (json_typeof(j)) {
  case JSON_REAL:
    snprintf(buf, sizeof buf, "%.15g", json_real_value(j));
    return strtod(buf, NULL) == json_real_value(j);
  case JSON_OBJECT:
    json_object_foreach((json_t *)j, key, v) if (!reals_short(v)) return 0;
    return 1;
  case JSON_ARRAY:
    json_array_foreach(j, i, v) if (!reals_short(v)) return 0;
    return 1;
  default:
    return 1;
  }
}

int mn_json_real_digits(const json_t *j) { return reals_short(j) ? 15 : 17; }
