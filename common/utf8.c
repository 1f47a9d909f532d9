#include "multinode/common/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t mn_utf8_seq_len(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
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

bool mn_utf8_valid(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t left = strlen(s);
  while (left > 0) {
    size_t n = mn_utf8_seq_len(p, left);
    if (!n)
      return false;
    p += n;
    left -= n;
  }
  return true;
}

size_t mn_utf8_length(const char *s, size_t nbytes) {
  size_t n = 0;
  for (size_t i = 0; i < nbytes; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

size_t mn_utf8_prefix(const char *s, size_t nbytes, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < nbytes; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > max_chars)
      return i;
  return nbytes;
}

size_t mn_utf8_cut(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  for (size_t back = 1; back <= 3 && back < len; back++) {
    unsigned char c = s[len - back];
    if ((c & 0xC0) == 0x80)
      continue; /* a continuation byte: look further back */
    size_t want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return want > back ? len - back : len;
  }
  return len;
}

size_t mn_utf8_invalid_at(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t len = u[i] ? mn_utf8_seq_len(u + i, n - i) : 0;
    if (len == 0)
      return i;
    i += len;
  }
  return n;
}

char *mn_utf8_sanitize(const char *s, size_t n) {
  const unsigned char *in = (const unsigned char *)s;
  char *out = malloc(n * 3 + 1);
  size_t o = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n;) {
    size_t len = in[i] ? mn_utf8_seq_len(in + i, n - i) : 0;
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

void mn_utf8_scrub(char *s) {
  unsigned char *p = (unsigned char *)s;
  size_t left = strlen(s);
  while (left > 0) {
    size_t n = mn_utf8_seq_len(p, left);
    if (!n) {
      *p = '?';
      n = 1;
    }
    p += n;
    left -= n;
  }
}

size_t mn_utf8_encode(unsigned long cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}
