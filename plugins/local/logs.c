/* logs.c — a worker's log, paged by line. The offset is the byte offset in
 * the log file, as decimal text. A last line without its newline is served
 * only once the worker has exited (it may still grow before that); lines
 * longer than LINE_MAX bytes are served in pieces. */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES (64 * 1024)
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

/* 1 when the worker of id can write no more (exited, or unknown). */
static int log_is_final(struct mn_local *l, const char *id) {
  struct mn_local_record rec;
  char why[256];
  int final = 1;
  pthread_mutex_lock(&l->lock);
  if (mn_local_record_read(l->dir, id, &rec, why, sizeof why) == 0) {
    mn_local_refresh_locked(l, &rec);
    final = rec.status != MN_LOCAL_RUNNING;
  }
  pthread_mutex_unlock(&l->lock);
  return final;
}

struct pager {
  struct mn_log_page *page;
  int max_lines;
  int count;
  int full;
  char *line;
  size_t len;
  uint64_t line_start; /* file offset of line[0] */
  uint64_t consumed;   /* offset after the last line handed out */
};

/* Hands out the pending line, which ends before file offset end. */
static int emit(struct pager *p, uint64_t end) {
  if (p->page->add_line(p->page, p->line, p->len) != 0) {
    p->full = 1; /* not taken: the next page starts with it */
    return -1;
  }
  p->count++;
  p->consumed = end;
  p->line_start = end;
  p->len = 0;
  return p->count >= p->max_lines ? -1 : 0;
}

static int scan(struct pager *p, const char *chunk, size_t n, uint64_t chunk_at) {
  for (size_t i = 0; i < n; i++) {
    if (chunk[i] == '\n') {
      if (emit(p, chunk_at + i + 1) != 0)
        return -1;
      continue;
    }
    if (p->len == LINE_MAX_BYTES && emit(p, chunk_at + i) != 0)
      return -1;
    p->line[p->len++] = chunk[i];
  }
  return 0;
}

int mn_local_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                  struct mn_log_page *page, struct mn_provider_error *err) {
  struct mn_local *l = state;
  const char *id = ref->identifier;
  char path[PATH_MAX];
  char *chunk = NULL;
  struct stat st;
  uint64_t start;
  struct pager p = {.page = page, .max_lines = max_lines};
  int fd = -1, rc = 0;

  page->next_offset[0] = '\0';
  if (!mn_local_id_valid(id) || mn_local_record_path(l->dir, id, ".log", path, sizeof path))
    return l->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for worker \"%s\"", id);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return l->host->error(err, errno == ENOENT ? MN_PROVIDER_E_NOT_FOUND : MN_PROVIDER_E_TRANSIENT,
                          "cannot open the log of worker \"%s\": %s", id, strerror(errno));
  if (fstat(fd, &st) != 0) {
    rc = l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot stat \"%s\": %s", path,
                        strerror(errno));
    goto done;
  }
  if (parse_offset(offset, (uint64_t)st.st_size, &start) != 0) {
    rc = l->host->error(err, MN_PROVIDER_E_INVALID, "log offset \"%s\" was not issued for \"%s\"",
                        offset, id);
    goto done;
  }
  int final = log_is_final(l, id); /* before reading: a later exit adds no unseen bytes */
  p.line_start = p.consumed = start;
  p.line = malloc(LINE_MAX_BYTES);
  chunk = malloc(CHUNK_BYTES);
  if (!p.line || !chunk) {
    rc = l->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto done;
  }
  uint64_t pos = start;
  while (max_lines > 0) {
    ssize_t n = pread(fd, chunk, CHUNK_BYTES, (off_t)pos);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot read \"%s\": %s", path,
                          strerror(errno));
      goto done;
    }
    if (n == 0) {
      if (p.len > 0 && final)
        emit(&p, pos);
      break;
    }
    if (scan(&p, chunk, (size_t)n, pos) != 0)
      break;
    pos += (uint64_t)n;
  }
  snprintf(page->next_offset, sizeof page->next_offset, "%" PRIu64, p.consumed);

done:
  free(chunk);
  free(p.line);
  close(fd);
  return rc;
}
