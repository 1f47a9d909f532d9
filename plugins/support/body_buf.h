/* body_buf.h — an HTTP answer's body as libcurl delivers it, kept in one
 * growing, NUL-terminated buffer up to a limit. Shared by the providers
 * that speak HTTP (docker, ecs, k8s); plugins/support is linked into every
 * provider and holds no daemon internals.
 *
 *     struct mn_body_buf b;
 *     mn_body_buf_init(&b, 1 << 20);
 *     curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mn_body_buf_write);
 *     curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
 *     ...perform: b.buf.data (NULL when empty), b.buf.len, b.too_big...
 *     mn_buf_release(&b.buf);
 */
#ifndef MN_PLUGIN_SUPPORT_BODY_BUF_H
#define MN_PLUGIN_SUPPORT_BODY_BUF_H

#include <stddef.h>

#include "multinode/common/buf.h"

struct mn_body_buf {
  struct mn_buf buf; /* the body so far */
  size_t max;  /* the most bytes kept */
  int too_big; /* the answer passed max: the transfer was stopped */
};

void mn_body_buf_init(struct mn_body_buf *b, size_t max);

/* A CURLOPT_WRITEFUNCTION; the CURLOPT_WRITEDATA is the struct mn_body_buf.
 * Returns less than size * n (which makes libcurl stop) when the body would
 * pass max (too_big set) or memory runs out. */
size_t mn_body_buf_write(char *data, size_t size, size_t n, void *buf);

#endif
