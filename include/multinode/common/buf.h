/* A growing byte buffer, NUL-terminated once it holds anything: the one
 * realloc-doubling buffer of the daemon, the providers, the C client and the
 * worker. Zeroed (or mn_buf_init) it is empty. Out of memory sticks: every
 * later append fails and mn_buf_take returns NULL, so a caller may append
 * many times and look once. */
#ifndef MN_COMMON_BUF_H
#define MN_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct mn_buf {
  char *data; /* heap, NUL-terminated; NULL until the first byte */
  size_t len, cap;
  bool failed; /* memory ran out */
};

void mn_buf_init(struct mn_buf *b);
/* Room for more bytes and the NUL. 0, or -1 when memory runs out. */
int mn_buf_reserve(struct mn_buf *b, size_t more);
/* 0, or -1 when memory runs out (nothing of data is kept then). */
int mn_buf_append(struct mn_buf *b, const void *data, size_t n);
int mn_buf_printf(struct mn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends what fd holds up to its end (EINTR retried). 0, or -1 with
 * errno: a read error's, ENOMEM, or EFBIG once more than max bytes came
 * (then b holds the first max bytes or a little more). */
int mn_buf_read_fd(struct mn_buf *b, int fd, size_t max);
/* Drops the first n bytes (n <= len). */
void mn_buf_consume(struct mn_buf *b, size_t n);
/* Hands the text over (the caller frees it; "" when empty) with its length
 * when len is not NULL, and empties b; NULL when memory ran out. */
char *mn_buf_take(struct mn_buf *b, size_t *len);
void mn_buf_release(struct mn_buf *b);

#endif
