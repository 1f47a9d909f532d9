#include "api/names.h"

#include <string.h>

/* The length of the control character at p (0: none): C0, DEL, or a
 * UTF-8 encoded C1 (U+0080..U+009F). end bounds the look-ahead. */
static size_t control_at(const unsigned char *p, const unsigned char *end) {
  if (*p < 0x20 || *p == 0x7f)
    return 1;
  if (*p == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f)
    return 2;
  return 0;
}

const char *mn_name_problem(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  for (; p < end; p++)
    if (control_at(p, end))
      return "string must not contain control characters";
  if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
    return "string must not be \".\" or \"..\"";
  return NULL;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes one byte at *p (a %XX escape, + as a space when plus_space), and
 * advances *p. */
static unsigned char decode_byte(const char **p, bool plus_space) {
  const char *s = *p;
  if (s[0] == '%') {
    int hi = hex_value(s[1]), lo = hi < 0 ? -1 : hex_value(s[2]);
    if (hi >= 0 && lo >= 0) {
      *p = s + 3;
      return (unsigned char)(hi << 4 | lo);
    }
  }
  *p = s + 1;
  return plus_space && s[0] == '+' ? ' ' : (unsigned char)s[0];
}

/* Decodes [s, end) into buf (at most size - 1 bytes, NUL-terminated; the
 * length is returned, NULs included). */
static size_t decode_span(const char *s, const char *end, bool plus_space, unsigned char *buf,
                          size_t size) {
  size_t n = 0;
  while (s < end && n + 1 < size)
    buf[n++] = decode_byte(&s, plus_space);
  buf[n] = '\0';
  return n;
}

static bool span_has_control(const char *s, const char *end, bool plus_space) {
  unsigned char prev = 0;
  while (s < end) {
    unsigned char c = decode_byte(&s, plus_space);
    if (c < 0x20 || c == 0x7f || (prev == 0xc2 && c >= 0x80 && c <= 0x9f))
      return true;
    prev = c;
  }
  return false;
}

bool mn_uri_find_control(const char *target, struct mn_uri_problem *out) {
  memset(out, 0, sizeof *out);
  const char *query = strchr(target, '?');
  const char *path_end = query ? query : target + strlen(target);
  /* the path, segment by segment */
  const char *seg = target[0] == '/' ? target + 1 : target;
  for (size_t index = 0; seg <= path_end; index++) {
    const char *slash = memchr(seg, '/', (size_t)(path_end - seg));
    const char *seg_end = slash ? slash : path_end;
    if (span_has_control(seg, seg_end, false)) {
      out->segment = index;
      return true;
    }
    if (!slash)
      break;
    seg = slash + 1;
  }
  if (!query)
    return false;
  /* the query, pair by pair */
  for (const char *pair = query + 1; *pair;) {
    const char *amp = strchr(pair, '&');
    const char *pair_end = amp ? amp : pair + strlen(pair);
    const char *eq = memchr(pair, '=', (size_t)(pair_end - pair));
    const char *key_end = eq ? eq : pair_end;
    bool in_key = span_has_control(pair, key_end, true);
    if (in_key || (eq && span_has_control(eq + 1, pair_end, true))) {
      out->in_query = true;
      if (!in_key)
        decode_span(pair, key_end, true, (unsigned char *)out->key, sizeof out->key);
      return true;
    }
    if (!amp)
      break;
    pair = amp + 1;
  }
  return false;
}
