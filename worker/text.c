/* UTF-8 validation and repair (RFC 3629). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

size_t mn_text_seq_len(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
  size_t n;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (left < n || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return n;
}

size_t mn_text_chars(const char *s, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      chars++;
  return chars;
}

size_t mn_text_invalid_at(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t len = u[i] ? mn_text_seq_len(u + i, n - i) : 0;
    if (len == 0)
      return i;
    i += len;
  }
  return n;
}

char *mn_text_sanitize(const char *s, size_t n) {
  const unsigned char *in = (const unsigned char *)s;
  char *out = malloc(n * 3 + 1);
  size_t o = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n;) {
    size_t len = in[i] ? mn_text_seq_len(in + i, n - i) : 0;
    if (len == 0) {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    } else {
      memcpy(out + o, in + i, len);
      o += len;
      i += len;
    }
  }
  out[o] = '\0';
  return out;
}
