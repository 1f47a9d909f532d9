/* A growing text buffer for the metrics exposition. Out of memory sticks:
 * every later append is dropped and mn_mbuf_take returns NULL. */
#ifndef MN_METRICS_BUF_H
#define MN_METRICS_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct mn_mbuf {
  char *data;
  size_t len, cap;
  bool failed;
};

void mn_mbuf_printf(struct mn_mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mn_mbuf_puts(struct mn_mbuf *b, const char *s);
/* A label value, escaped as the text format wants (\\, \", \n). */
void mn_mbuf_label(struct mn_mbuf *b, const char *s);
void mn_mbuf_label_n(struct mn_mbuf *b, const char *s, size_t n);
/* The text (the caller frees it) and its length; NULL when out of memory. */
char *mn_mbuf_take(struct mn_mbuf *b, size_t *len);
void mn_mbuf_free(struct mn_mbuf *b);

#endif
