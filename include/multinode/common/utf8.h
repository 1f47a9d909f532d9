/* UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing
 * above U+10FFFF): the one implementation the API's validation, encoding
 * and error texts, the log pages, the worker's output checks, the CLI's
 * length checks and the ECS provider's XML entities share. */
#ifndef MN_COMMON_UTF8_H
#define MN_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed sequence at s (at most `left` bytes), or 0
 * when the bytes there are not one. */
size_t mn_utf8_seq_len(const unsigned char *s, size_t left);
/* True when the NUL-terminated s is well-formed. */
bool mn_utf8_valid(const char *s);
/* Length in code points, as Python's len() counts it (continuation bytes
 * are not counted). */
size_t mn_utf8_length(const char *s, size_t nbytes);
/* Bytes of the first max_chars characters of s[0..nbytes) (all of them
 * when it holds fewer): where to cut a text to a length in characters. */
size_t mn_utf8_prefix(const char *s, size_t nbytes, size_t max_chars);
/* Where to cut s[0..len) so that no sequence is split: before a lead byte
 * among the last three whose sequence does not end within it; else len. */
size_t mn_utf8_cut(const char *s, size_t len);
/* Offset of the first byte of s[0..n) that is NUL or does not start a
 * well-formed sequence; n when none (what a JSON string takes as is). */
size_t mn_utf8_invalid_at(const char *s, size_t n);
/* A NUL-terminated heap copy of s[0..n) where every NUL byte and every
 * byte that does not start a well-formed sequence is replaced by U+FFFD
 * (one character per bad byte). NULL when out of memory. */
char *mn_utf8_sanitize(const char *s, size_t n);
/* Replaces, in place, every byte that does not start a well-formed
 * sequence with '?'. */
void mn_utf8_scrub(char *s);
/* Encodes code point CP into out; returns the byte count (1-4), or 0 for a
 * surrogate or a value above U+10FFFF. */
size_t mn_utf8_encode(unsigned long cp, char out[4]);

#endif
