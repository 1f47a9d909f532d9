/* UTF-8 checks and repair of what the command writes, on the shared
 * RFC 3629 decoder (core/util/utf8.h). */
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include "multinode/common/utf8.h"

size_t mn_text_invalid_at(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t len = u[i] ? mn_utf8_seq_len(u + i, n - i) : 0;
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
