/* The growing byte buffer (buf.h). */
#include "multinode/common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mn_buf_init(struct mn_buf *b) { memset(b, 0, sizeof *b); }

int mn_buf_reserve(struct mn_buf *b, size_t more) {
  if (b->failed || more > (size_t)-1 / 2 - b->len)
    return b->failed = true, -1;
  if (b->len + more + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *grown = realloc(b->data, cap);
  if (!grown)
    return b->failed = true, -1;
  b->data = grown;
  b->cap = cap;
  return 0;
}

int mn_buf_append(struct mn_buf *b, const void *data, size_t n) {
  if (mn_buf_reserve(b, n) < 0)
    return -1;
  if (n)
    memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int mn_buf_printf(struct mn_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || mn_buf_reserve(b, (size_t)n) < 0)
    return -1;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

int mn_buf_read_fd(struct mn_buf *b, int fd, size_t max) {
  for (;;) {
    if (mn_buf_reserve(b, 4096) < 0) {
      errno = ENOMEM;
      return -1;
    }
    ssize_t r = read(fd, b->data + b->len, b->cap - b->len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 ? -1 : 0;
    b->len += (size_t)r;
    b->data[b->len] = '\0';
    if (b->len > max) {
      errno = EFBIG;
      return -1;
    }
  }
}

void mn_buf_consume(struct mn_buf *b, size_t n) {
  if (n > b->len)
    n = b->len;
  if (!n)
    return;
  memmove(b->data, b->data + n, b->len - n + 1);
  b->len -= n;
}

char *mn_buf_take(struct mn_buf *b, size_t *len) {
  if (mn_buf_reserve(b, 0) < 0) {
    mn_buf_release(b);
    return NULL;
  }
  b->data[b->len] = '\0';
  char *out = b->data;
  if (len)
    *len = b->len;
  mn_buf_init(b);
  return out;
}

void mn_buf_release(struct mn_buf *b) {
  free(b->data);
  mn_buf_init(b);
}
