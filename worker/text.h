/* UTF-8 helpers for what the command writes: the API takes JSON strings,
 * which must be valid UTF-8, and counts lengths in characters. */
#ifndef MN_WORKER_TEXT_H
#define MN_WORKER_TEXT_H

#include <stddef.h>

/* Sequence lengths and character counts (on any split of a text into
 * chunks) are mn_utf8_seq_len and mn_utf8_length of multinode/common/utf8.h. */

/* Offset of the first byte that is NUL or not valid UTF-8, n when none. */
size_t mn_text_invalid_at(const char *s, size_t n);

/* A NUL-terminated heap copy of n bytes where every invalid or NUL byte is
 * replaced by U+FFFD (one character per byte, so the character count never
 * grows). NULL when out of memory. */
char *mn_text_sanitize(const char *s, size_t n);

#endif
