/* logs.c — a worker's log, paged by line: from the engine while the
 * container exists (GET /containers/{name}/logs?timestamps=1&since=...),
 * from the file release saved after. Offsets are "<timestamp ns>:<n>" (see
 * log_frames.h) in both cases. */
#include "docker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_frames.h"

struct reader {
  struct mn_docker_demux demux;
  struct mn_docker_log_cursor cursor;
  int done; /* the page is complete */
};

static int on_frame(void *ctx, int stream, const char *payload, size_t len) {
  struct reader *r = ctx;
  int64_t ts;
  const char *text;
  size_t text_len;
  if (mn_docker_log_line_parse(payload, len, &ts, &text, &text_len) != 0)
    return 0; /* not a line of ours */
  if (mn_docker_log_cursor_line(&r->cursor, ts, text, text_len))
    r->done = 1;
  return r->done;
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx) {
  struct reader *r = ctx;
  return mn_docker_demux_feed(&r->demux, data, size * n, on_frame, r) == 0 ? size * n : 0;
}

/* 1: the container is gone (read the saved file instead) */
static int from_engine(struct mn_docker *d, const char *name, struct reader *r,
                       struct mn_provider_error *err) {
  char url[512], why[512];
  long status;
  int n = snprintf(url, sizeof url, "/containers/%s/logs?stdout=1&stderr=1&timestamps=1", name);
  if (r->cursor.start.ts_ns > 0)
    snprintf(url + n, sizeof url - (size_t)n, "&since=%" PRId64 ".%09" PRId64,
             r->cursor.start.ts_ns / 1000000000, r->cursor.start.ts_ns % 1000000000);
  if (mn_docker_http_stream(&d->http, "GET", url, MN_DOCKER_CALL_TIMEOUT_MS, on_data, r, &status,
                            why, sizeof why))
    return mn_docker_unreachable(d, err, why);
  if (status == 404)
    return 1;
  if (status != 200)
    return d->host->error(err, status >= 500 ? MN_PROVIDER_E_TRANSIENT : MN_PROVIDER_E_INVALID,
                          "cannot read the log of \"%s\" (HTTP %ld)", name, status);
  return 0;
}

static int from_file(struct mn_docker *d, FILE *f, const char *path, struct reader *r,
                     struct mn_provider_error *err) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while (!r->done && (len = getline(&line, &cap, f)) >= 0) {
    int64_t ts;
    const char *text;
    size_t text_len;
    if (mn_docker_log_line_parse(line, (size_t)len, &ts, &text, &text_len) == 0 &&
        mn_docker_log_cursor_line(&r->cursor, ts, text, text_len))
      r->done = 1;
  }
  int bad = ferror(f);
  free(line);
  if (bad)
    return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot read \"%s\"", path);
  return 0;
}

int mn_docker_logs(void *state, const struct mn_worker_ref *ref, const char *offset,
                   int max_lines, struct mn_log_page *page, struct mn_provider_error *err) {
  struct mn_docker *d = state;
  struct mn_docker_log_pos start, next;
  struct reader r;
  char path[PATH_MAX];
  int rc;

  page->next_offset[0] = '\0';
  if ((rc = mn_docker_ref_name(d, ref, err)) != 0)
    return rc;
  if (mn_docker_log_pos_parse(offset, &start) != 0)
    return d->host->error(err, MN_PROVIDER_E_INVALID,
                          "log offset \"%s\" was not issued for \"%s\"", offset, ref->identifier);
  if (mn_docker_log_path(d, ref->identifier, path, sizeof path) != 0)
    return d->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for \"%s\"", ref->identifier);
  memset(&r, 0, sizeof r);
  mn_docker_demux_init(&r.demux);
  mn_docker_log_cursor_init(&r.cursor, &start, page, max_lines);

  /* the saved file wins: release writes it before removing the container */
  FILE *f = fopen(path, "re");
  if (!f) {
    rc = from_engine(d, ref->identifier, &r, err);
    if (rc == 1 && !(f = fopen(path, "re")))
      rc = d->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for \"%s\": %s", ref->identifier,
                          errno == ENOENT ? "neither the container nor a saved log exists"
                                          : strerror(errno));
  }
  if (f) {
    rc = from_file(d, f, path, &r, err);
    fclose(f);
  }
  if (rc == 0) {
    mn_docker_log_cursor_next(&r.cursor, &next);
    mn_docker_log_pos_format(&next, page->next_offset, sizeof page->next_offset);
  }
  mn_docker_demux_release(&r.demux);
  return rc;
}
