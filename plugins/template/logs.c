/* logs.c — a worker's log, paged (template.h). The API counts lines from
 * 0, so our offset is that number as decimal text: opaque to the daemon,
 * which only hands back what we returned. At the end of the log the offset
 * stays where it is, so a follower asks again later for the lines still to
 * come. The API keeps a log after its worker is deleted (release). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

#define PAGE_MAX 1000

int tpl_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
             struct mn_log_page *page, struct mn_provider_error *err) {
  struct tpl *t = state;
  long start = 0;
  char path[MN_WORKER_ID_MAX * 3 + 96], esc[MN_WORKER_ID_MAX * 3];

  if (offset) { /* only what we produced: decimal digits */
    char *end;
    start = strtol(offset, &end, 10);
    if (!offset[0] || *end || start < 0 || strspn(offset, "0123456789") != strlen(offset))
      return t->host->error(err, MN_PROVIDER_E_INVALID, "bad log offset \"%s\"", offset);
  }
  if (max_lines <= 0 || max_lines > PAGE_MAX)
    max_lines = max_lines <= 0 ? 1 : PAGE_MAX;
  if (mn_http_escape(ref->logs_identifier, esc, sizeof esc) != 0)
    return t->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for worker \"%s\"",
                          ref->identifier);
  snprintf(path, sizeof path, "/v1/workers/%s/logs?offset=%ld&limit=%d", esc, start, max_lines);
  json_t *ans;
  int rc = tpl_call(t, "GET", path, NULL, &ans, NULL, err);
  if (rc) /* NOT_FOUND: no such log; INVALID: an offset past its end */
    return rc;
  long next = start;
  size_t i;
  json_t *line;
  json_array_foreach(json_object_get(ans, "lines"), i, line) {
    const char *s = json_string_value(line);
    if (page->add_line(page, s ? s : "", s ? json_string_length(line) : 0) != 0)
      break; /* the page is full: the next call starts at this line */
    next++;
  }
  json_decref(ans);
  snprintf(page->next_offset, sizeof page->next_offset, "%ld", next);
  return 0;
}
