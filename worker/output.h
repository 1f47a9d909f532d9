/* The command's standard output, kept in memory: it becomes the final
 * output. The API rejects an output of MN_OUTPUT_LIMIT characters or more,
 * so past what such an output can take in bytes only the count goes on. */
#ifndef MN_WORKER_OUTPUT_H
#define MN_WORKER_OUTPUT_H

#include <stddef.h>

#include "multinode/common/buf.h"
#include "multinode/common/limits.h"

#define MN_OUTPUT_LIMIT MN_OUTPUT_LENGTH_LIMIT   /* rejected when chars >= this */
#define MN_OUTPUT_KEEP_BYTES (4 * MN_OUTPUT_LIMIT) /* 4 bytes per character at most */

struct mn_output {
  struct mn_buf kept; /* the bytes kept */
  size_t total_bytes; /* bytes ever appended */
  size_t chars;       /* characters ever appended (UTF-8 lead bytes) */
  char last;          /* the last byte appended */
};

void mn_output_init(struct mn_output *o);
void mn_output_release(struct mn_output *o);
/* 0, or -1 when out of memory. */
int mn_output_append(struct mn_output *o, const char *data, size_t n);

/* The final output: the data with one trailing newline removed (the data
 * is cut there, so *text is NUL-terminated) and its length in characters.
 * Returns 0 when the API can take it. Otherwise it writes the problem for
 * people into msg ("output is N characters; the limit is 249999", "output
 * is not valid UTF-8 ...") and returns -1. */
int mn_output_final(struct mn_output *o, const char **text, size_t *chars, char *msg,
                    size_t msg_size);

#endif
