#include "plugin/log_page.h"

#include <stdlib.h>
#include <string.h>

#include "multinode/common/utf8.h"

json_t *mn_json_string_lossy(const char *text, size_t len) {
  json_t *j = json_stringn(text, len);
  if (j)
    return j; /* already valid */
  char *clean = mn_utf8_sanitize(text, len);
  j = clean ? json_string(clean) : NULL;
  free(clean);
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
