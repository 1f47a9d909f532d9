#include "metrics/buf.h"

#include <string.h>

void mn_mbuf_puts(struct mn_buf *b, const char *s) { mn_buf_append(b, s, strlen(s)); }

void mn_mbuf_label_n(struct mn_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t run = i;
    while (run < n && s[run] != '\\' && s[run] != '"' && s[run] != '\n')
      run++;
    mn_buf_append(b, s + i, run - i);
    if (run == n)
      break;
    mn_buf_append(b, s[run] == '\\' ? "\\\\" : s[run] == '"' ? "\\\"" : "\\n", 2);
    i = run;
  }
}

void mn_mbuf_label(struct mn_buf *b, const char *s) { mn_mbuf_label_n(b, s, strlen(s)); }
