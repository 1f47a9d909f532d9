/* The metrics exposition's text on the common growing buffer
 * (multinode/common/buf.h): plain strings and escaped label values. */
#ifndef MN_METRICS_BUF_H
#define MN_METRICS_BUF_H

#include <stddef.h>

#include "multinode/common/buf.h"

void mn_mbuf_puts(struct mn_buf *b, const char *s);
/* A label value, escaped as the text format wants (\\, \", \n). */
void mn_mbuf_label(struct mn_buf *b, const char *s);
void mn_mbuf_label_n(struct mn_buf *b, const char *s, size_t n);

#endif
