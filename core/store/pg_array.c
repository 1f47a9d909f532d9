#include "store/pg_array.h"

#include <stdlib.h>
#include <string.h>

void mn_pg_array_init(struct mn_pg_array *a) { memset(a, 0, sizeof *a); }

static void put(struct mn_pg_array *a, const char *s, size_t n) {
  if (a->oom)
    return;
  if (a->len + n + 3 > a->cap) {
    size_t cap = a->cap ? a->cap : 256;
    while (a->len + n + 3 > cap)
      cap *= 2;
    char *b = realloc(a->buf, cap);
    if (!b) {
      a->oom = 1;
      return;
    }
    a->buf = b;
    a->cap = cap;
  }
  memcpy(a->buf + a->len, s, n);
  a->len += n;
}

void mn_pg_array_add(struct mn_pg_array *a, const char *value) {
  put(a, a->n ? "," : "{", 1);
  a->n++;
  if (!value) {
    put(a, "NULL", 4);
    return;
  }
  put(a, "\"", 1);
  for (const char *p = value; *p; p++) {
    if (*p == '"' || *p == '\\')
      put(a, "\\", 1);
    put(a, p, 1);
  }
  put(a, "\"", 1);
}

const char *mn_pg_array_text(struct mn_pg_array *a) {
  if (a->n == 0)
    put(a, "{", 1);
  put(a, "}", 2); /* with the NUL */
  a->n = (size_t)-1; /* finished: add no more */
  return a->oom ? NULL : a->buf;
}

void mn_pg_array_release(struct mn_pg_array *a) {
  free(a->buf);
  memset(a, 0, sizeof *a);
}
