/* file_log.c — a log file paged by line (see file_log.h). */
#include "file_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "multinode/common/utf8.h"

#define CHUNK_BYTES (64 * 1024)

/* Parses an offset we produced: decimal digits, within the file. */
static int parse_offset(const char *text, uint64_t size, uint64_t *out) {
  *out = 0;
  if (!text || !text[0])
    return 0;
  size_t n = strlen(text);
  if (n > 19 || strspn(text, "0123456789") != n)
    return -1;
  uint64_t v = strtoull(text, NULL, 10);
  if (v > size)
    return -1;
  *out = v;
  return 0;
}

struct pager {
  struct mn_log_page *page;
  int max_lines;
  int count;
  char *line;
  size_t len, line_max;
  uint64_t line_start; /* file offset of line[0] */
};

/* Hands out the first n bytes of the pending line; the rest stays pending.
 * -1 when the page takes no more. */
static int emit(struct pager *p, size_t n, size_t skip) {
  if (p->page->add_line(p->page, p->line, n) != 0)
    return -1; /* not taken: the next page starts with it */
  p->count++;
  p->line_start += n + skip;
  memmove(p->line, p->line + n, p->len - n);
  p->len -= n;
  return p->count >= p->max_lines ? -1 : 0;
}

static int scan(struct pager *p, const char *chunk, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (chunk[i] == '\n') {
      if (emit(p, p->len, 1) != 0)
        return -1;
      continue;
    }
    if (p->len == p->line_max && emit(p, mn_utf8_cut(p->line, p->len), 0) != 0)
      return -1;
    p->line[p->len++] = chunk[i];
  }
  return 0;
}

int mn_file_log_page(int fd, const char *offset, int max_lines, int final, size_t line_max,
                     struct mn_log_page *page, char *why, size_t why_size) {
  struct stat st;
  uint64_t start;
  struct pager p = {
      .page = page, .max_lines = max_lines, .line_max = line_max ? line_max : MN_FILE_LOG_LINE_MAX};
  char *chunk = NULL;
  int rc = 0;

  page->next_offset[0] = '\0';
  if (fstat(fd, &st) != 0) {
    snprintf(why, why_size, "cannot stat the log: %s", strerror(errno));
    return MN_PROVIDER_E_TRANSIENT;
  }
  if (parse_offset(offset, (uint64_t)st.st_size, &start) != 0) {
    snprintf(why, why_size, "log offset \"%s\" was not issued for this log (%" PRIu64 " bytes)",
             offset, (uint64_t)st.st_size);
    return MN_PROVIDER_E_INVALID;
  }
  p.line_start = start;
  p.line = malloc(p.line_max);
  chunk = malloc(CHUNK_BYTES);
  if (!p.line || !chunk) {
    snprintf(why, why_size, "out of memory");
    rc = MN_PROVIDER_E_TRANSIENT;
    goto done;
  }
  uint64_t pos = start;
  while (max_lines > 0) {
    ssize_t n = pread(fd, chunk, CHUNK_BYTES, (off_t)pos);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(why, why_size, "cannot read the log: %s", strerror(errno));
      rc = MN_PROVIDER_E_TRANSIENT;
      goto done;
    }
    if (n == 0) {
      if (p.len > 0 && final)
        emit(&p, p.len, 0);
      break;
    }
    if (scan(&p, chunk, (size_t)n) != 0)
      break;
    pos += (uint64_t)n;
  }
  snprintf(page->next_offset, sizeof page->next_offset, "%" PRIu64, p.line_start);

done:
  free(chunk);
  free(p.line);
  return rc;
}
