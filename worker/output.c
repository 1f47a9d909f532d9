/* Standard output kept in memory, bounded by what the API can take. */
#include "output.h"

#include <stdio.h>
#include <string.h>

#include "multinode/common/utf8.h"

void mn_output_init(struct mn_output *o) { memset(o, 0, sizeof *o); }

void mn_output_release(struct mn_output *o) {
  mn_buf_release(&o->kept);
  mn_output_init(o);
}

int mn_output_append(struct mn_output *o, const char *data, size_t n) {
  if (n == 0)
    return 0;
  o->total_bytes += n;
  o->chars += mn_utf8_length(data, n);
  o->last = data[n - 1];
  size_t keep = n;
  if (o->kept.len + keep > MN_OUTPUT_KEEP_BYTES)
    keep = MN_OUTPUT_KEEP_BYTES - o->kept.len; /* too long anyway: count only */
  if (keep == 0)
    return 0;
  return mn_buf_append(&o->kept, data, keep);
}

int mn_output_final(struct mn_output *o, const char **text, size_t *chars, char *msg,
                    size_t msg_size) {
  size_t n = o->chars, len = o->kept.len;
  int newline = o->total_bytes > 0 && o->last == '\n';
  *text = o->kept.data ? o->kept.data : "";
  *chars = 0;
  if (newline)
    n--; /* one trailing newline removed */
  if (n >= MN_OUTPUT_LIMIT) {
    snprintf(msg, msg_size, "output is %zu characters; the limit is %d", n,
             MN_OUTPUT_LIMIT - 1);
    return -1;
  }
  if (o->total_bytes > o->kept.len) { /* valid UTF-8 this short would have fit */
    snprintf(msg, msg_size, "output is not valid UTF-8 text (%zu bytes)", o->total_bytes);
    return -1;
  }
  if (newline)
    o->kept.data[--len] = '\0'; /* cut, not forgotten: kept.len keeps the byte */
  size_t bad = mn_utf8_invalid_at(*text, len);
  if (bad < len) {
    snprintf(msg, msg_size, "output is not valid UTF-8 text (%s byte 0x%02x at offset %zu)",
             o->kept.data[bad] ? "invalid" : "NUL", (unsigned char)o->kept.data[bad], bad);
    return -1;
  }
  *chars = n;
  return 0;
}
