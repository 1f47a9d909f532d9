#include "metrics/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct mn_mbuf *b, size_t more) {
  if (b->failed)
    return false;
  if (b->len + more + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *grown = realloc(b->data, cap);
  if (!grown) {
    b->failed = true;
    return false;
  }
  b->data = grown;
  b->cap = cap;
  return true;
}

static void append(struct mn_mbuf *b, const char *s, size_t n) {
  if (!reserve(b, n))
    return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void mn_mbuf_printf(struct mn_mbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void mn_mbuf_puts(struct mn_mbuf *b, const char *s) { append(b, s, strlen(s)); }

void mn_mbuf_label_n(struct mn_mbuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t run = i;
    while (run < n && s[run] != '\\' && s[run] != '"' && s[run] != '\n')
      run++;
    append(b, s + i, run - i);
    if (run == n)
      break;
    append(b, s[run] == '\\' ? "\\\\" : s[run] == '"' ? "\\\"" : "\\n", 2);
    i = run;
  }
}

void mn_mbuf_label(struct mn_mbuf *b, const char *s) { mn_mbuf_label_n(b, s, strlen(s)); }

char *mn_mbuf_take(struct mn_mbuf *b, size_t *len) {
  if (b->failed || !reserve(b, 0)) {
    mn_mbuf_free(b);
    return NULL;
  }
  char *out = b->data;
  *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return out;
}

void mn_mbuf_free(struct mn_mbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = false;
}
