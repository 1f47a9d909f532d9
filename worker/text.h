/* UTF-8 helpers for what the command writes: the API takes JSON strings,
 * which must be valid UTF-8, and counts lengths in characters. */
#ifndef MN_WORKER_TEXT_H
#define MN_WORKER_TEXT_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when the bytes there are invalid.
 * left > 0. */
size_t mn_text_seq_len(const unsigned char *s, size_t left);

/* Number of characters in n bytes of valid UTF-8 (bytes that do not
 * continue a sequence); works on any split of a text into chunks. */
size_t mn_text_chars(const char *s, size_t n);

/* Offset of the first byte that is NUL or not valid UTF-8, n when none. */
size_t mn_text_invalid_at(const char *s, size_t n);

/* A NUL-terminated heap copy of n bytes where every invalid or NUL byte is
 * replaced by U+FFFD (one character per byte, so the character count never
 * grows). NULL when out of memory. */
char *mn_text_sanitize(const char *s, size_t n);

#endif
