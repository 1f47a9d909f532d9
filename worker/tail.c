/* Ring buffer of the last bytes of standard error. */
#include "tail.h"

#include <stdlib.h>
#include <string.h>

#include "multinode/common/utf8.h"

void mn_tail_init(struct mn_tail *t) {
  t->start = 0;
  t->len = 0;
  t->total = 0;
}

void mn_tail_append(struct mn_tail *t, const char *data, size_t n) {
  t->total += n;
  if (n >= MN_TAIL_CAPACITY) { /* only the last bytes of data survive */
    memcpy(t->buf, data + n - MN_TAIL_CAPACITY, MN_TAIL_CAPACITY);
    t->start = 0;
    t->len = MN_TAIL_CAPACITY;
    return;
  }
  size_t end = (t->start + t->len) % MN_TAIL_CAPACITY;
  size_t first = MN_TAIL_CAPACITY - end; /* room before the wrap */
  if (first > n)
    first = n;
  memcpy(t->buf + end, data, first);
  memcpy(t->buf, data + first, n - first);
  if (t->len + n <= MN_TAIL_CAPACITY) {
    t->len += n;
  } else { /* the oldest bytes were overwritten */
    t->start = (t->start + t->len + n) % MN_TAIL_CAPACITY;
    t->len = MN_TAIL_CAPACITY;
  }
}

char *mn_tail_text(const struct mn_tail *t) {
  char *flat = malloc(t->len + 1);
  char *text = NULL;
  size_t skip = 0, n;
  if (!flat)
    return NULL;
  size_t first = MN_TAIL_CAPACITY - t->start;
  if (first > t->len)
    first = t->len;
  memcpy(flat, t->buf + t->start, first);
  memcpy(flat + first, t->buf, t->len - first);
  /* bytes were dropped before the kept ones: skip a cut character */
  if (t->total > t->len)
    while (skip < 3 && skip < t->len && ((unsigned char)flat[skip] & 0xC0) == 0x80)
      skip++;
  n = t->len - skip;
  while (n > 0 && strchr(" \t\r\n\v\f", flat[skip + n - 1]) && flat[skip + n - 1] != '\0')
    n--;
  text = mn_utf8_sanitize(flat + skip, n);
  free(flat);
  return text;
}
