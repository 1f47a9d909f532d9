/* body_buf.c — see body_buf.h. */
#include "body_buf.h"

#include <string.h>

void mn_body_buf_init(struct mn_body_buf *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
}

size_t mn_body_buf_write(char *data, size_t size, size_t n, void *buf) {
  struct mn_body_buf *b = buf;
  size_t add = size * n;
  if (add > b->max || b->buf.len > b->max - add) {
    b->too_big = 1;
    return 0;
  }
  return mn_buf_append(&b->buf, data, add) == 0 ? add : 0;
}
