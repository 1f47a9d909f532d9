#include "plugin/log_page.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multinode/common/utf8.h"

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0; NUL is
 * not allowed in a JSON string here. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  return s[0] ? mn_utf8_seq_len(s, n) : 0;
}

json_t *mn_json_string_lossy(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0, o = 0;
  json_t *j = json_stringn(text, len);
  if (j)
    return j; /* already valid */
  char *buf = malloc(len * 3 + 1);
  if (!buf)
    return NULL;
  while (i < len) {
    size_t n = utf8_seq(s + i, len - i);
    if (n) {
      memcpy(buf + o, s + i, n);
      o += n;
      i += n;
    } else {
      memcpy(buf + o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
    }
  }
  j = json_stringn(buf, o);
  free(buf);
  return j;
}

static int add_line(struct mn_log_page *page, const char *line, size_t len) {
  struct mn_log_sink *sink = page->host_private;
  if ((int)json_array_size(sink->lines) >= sink->max_lines)
    return 1;
  json_t *s = mn_json_string_lossy(line ? line : "", line ? len : 0);
  if (!s || json_array_append_new(sink->lines, s)) {
    sink->oom = 1;
    return 1;
  }
  return 0;
}

int mn_log_sink_init(struct mn_log_sink *sink, int max_lines) {
  memset(sink, 0, sizeof *sink);
  sink->page.add_line = add_line;
  sink->page.host_private = sink;
  sink->max_lines = max_lines > 0 ? max_lines : 0;
  sink->lines = json_array();
  return sink->lines ? 0 : -1;
}

void mn_log_sink_release(struct mn_log_sink *sink) {
  json_decref(sink->lines);
  sink->lines = NULL;
}
