/* body_buf.c — see body_buf.h. */
#include "body_buf.h"

#include <stdlib.h>
#include <string.h>

void mn_body_buf_init(struct mn_body_buf *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

size_t mn_body_buf_write(char *data, size_t size, size_t n, void *buf) {
  struct mn_body_buf *b = buf;
  size_t add = size * n;
  if (add > b->max || b->len > b->max - add) {
    b->too_big = 1;
    return 0;
  }
  if (b->len + add + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + add + 1)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown)
      return 0;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, add);
  b->len += add;
  b->data[b->len] = '\0';
  return add;
}

char *mn_body_buf_take(struct mn_body_buf *b) {
  char *data = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return data;
}

void mn_body_buf_release(struct mn_body_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
