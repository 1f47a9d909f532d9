/* The tail of the command's standard error: a ring buffer that keeps the
 * last MN_TAIL_CAPACITY bytes, which becomes the error_message of a failed
 * execution. The API rejects an error_message of 16384 characters or more;
 * a character is at least one byte, so keeping fewer bytes than that keeps
 * it under the limit whatever the text. Dependency-free. */
#ifndef MN_WORKER_TAIL_H
#define MN_WORKER_TAIL_H

#include <stddef.h>

#define MN_TAIL_CAPACITY 16383

struct mn_tail {
  char buf[MN_TAIL_CAPACITY];
  size_t start;             /* offset of the oldest kept byte */
  size_t len;               /* bytes kept, <= MN_TAIL_CAPACITY */
  unsigned long long total; /* bytes ever appended */
};

void mn_tail_init(struct mn_tail *t);
void mn_tail_append(struct mn_tail *t, const char *data, size_t n);

/* The kept bytes as a NUL-terminated heap string of valid UTF-8: a
 * character cut by the ring at the start is dropped, invalid and NUL bytes
 * become U+FFFD, trailing white space is removed. NULL when out of memory. */
char *mn_tail_text(const struct mn_tail *t);

#endif
