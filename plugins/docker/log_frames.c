/* log_frames.c — demultiplexing, timestamps and offsets of container logs. */
#include "log_frames.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_MAX (16u * 1024 * 1024)

void mn_docker_demux_init(struct mn_docker_demux *d) { memset(d, 0, sizeof *d); }

void mn_docker_demux_release(struct mn_docker_demux *d) {
  free(d->frame);
  memset(d, 0, sizeof *d);
}

int mn_docker_demux_feed(struct mn_docker_demux *d, const char *data, size_t len,
                         mn_docker_frame_fn *cb, void *ctx) {
  size_t i = 0;
  while (i < len) {
    if (d->header_len < 8) {
      d->header[d->header_len++] = (unsigned char)data[i++];
      if (d->header_len < 8)
        continue;
      d->stream = d->header[0];
      d->frame_want = ((size_t)d->header[4] << 24) | ((size_t)d->header[5] << 16) |
                      ((size_t)d->header[6] << 8) | (size_t)d->header[7];
      d->frame_len = 0;
      if (d->frame_want > FRAME_MAX)
        return -1;
      if (d->frame_want + 1 > d->frame_cap) {
        char *grown = realloc(d->frame, d->frame_want + 1);
        if (!grown)
          return -1;
        d->frame = grown;
        d->frame_cap = d->frame_want + 1;
      }
    } else {
      size_t take = d->frame_want - d->frame_len;
      if (take > len - i)
        take = len - i;
      memcpy(d->frame + d->frame_len, data + i, take);
      d->frame_len += take;
      i += take;
    }
    if (d->header_len == 8 && d->frame_len == d->frame_want) {
      d->header_len = 0;
      d->frame[d->frame_len] = '\0';
      if (cb(ctx, d->stream, d->frame, d->frame_len))
        return 1;
    }
  }
  return 0;
}

/* n decimal digits at p; -1 if any is not a digit */
static int64_t digits(const char *p, int n) {
  int64_t v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

int mn_docker_log_line_parse(const char *line, size_t len, int64_t *ts_ns, const char **text,
                             size_t *text_len) {
  /* 2024-05-01T12:00:00[.fraction](Z|+hh:mm|-hh:mm) then one space */
  if (len < 20 || line[4] != '-' || line[7] != '-' || line[10] != 'T' || line[13] != ':' ||
      line[16] != ':')
    return -1;
  struct tm tm = {0};
  int64_t f[6] = {digits(line, 4), digits(line + 5, 2), digits(line + 8, 2),
                  digits(line + 11, 2), digits(line + 14, 2), digits(line + 17, 2)};
  for (int i = 0; i < 6; i++)
    if (f[i] < 0)
      return -1;
  tm.tm_year = (int)f[0] - 1900;
  tm.tm_mon = (int)f[1] - 1;
  tm.tm_mday = (int)f[2];
  tm.tm_hour = (int)f[3];
  tm.tm_min = (int)f[4];
  tm.tm_sec = (int)f[5];
  size_t i = 19;
  int64_t frac = 0;
  int frac_digits = 0;
  if (i < len && line[i] == '.') {
    for (i++; i < len && line[i] >= '0' && line[i] <= '9'; i++)
      if (frac_digits < 9) {
        frac = frac * 10 + (line[i] - '0');
        frac_digits++;
      }
    for (; frac_digits < 9; frac_digits++)
      frac *= 10;
  }
  int64_t zone = 0;
  if (i < len && line[i] == 'Z') {
    i++;
  } else if (i + 6 <= len && (line[i] == '+' || line[i] == '-') && line[i + 3] == ':') {
    int64_t hh = digits(line + i + 1, 2), mm = digits(line + i + 4, 2);
    if (hh < 0 || mm < 0)
      return -1;
    zone = (line[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    i += 6;
  } else {
    return -1;
  }
  if (i < len && line[i] != ' ')
    return -1;
  if (i < len)
    i++;
  time_t secs = timegm(&tm);
  if (secs == (time_t)-1)
    return -1;
  *ts_ns = ((int64_t)secs - zone) * 1000000000 + frac;
  *text = line + i;
  *text_len = len - i;
  if (*text_len > 0 && (*text)[*text_len - 1] == '\n')
    (*text_len)--;
  return 0;
}

int mn_docker_log_pos_parse(const char *text, struct mn_docker_log_pos *out) {
  out->ts_ns = 0;
  out->n = 0;
  if (!text || !text[0])
    return 0;
  const char *colon = strchr(text, ':');
  if (!colon)
    return -1;
  size_t a = (size_t)(colon - text), b = strlen(colon + 1);
  if (a == 0 || a > 19 || b == 0 || b > 18 || strspn(text, "0123456789") != a ||
      strspn(colon + 1, "0123456789") != b)
    return -1;
  out->ts_ns = strtoll(text, NULL, 10);
  out->n = strtoll(colon + 1, NULL, 10);
  return out->ts_ns < 0 ? -1 : 0;
}

void mn_docker_log_pos_format(const struct mn_docker_log_pos *pos, char *out, size_t size) {
  snprintf(out, size, "%" PRId64 ":%" PRId64, pos->ts_ns, pos->n);
}

void mn_docker_log_cursor_init(struct mn_docker_log_cursor *c, const struct mn_docker_log_pos *start,
                               struct mn_log_page *page, int max_lines) {
  memset(c, 0, sizeof *c);
  c->start = *start;
  c->page = page;
  c->max_lines = max_lines;
  c->run_ts = INT64_MIN;
}

static void track(struct mn_docker_log_cursor *c, int64_t ts) {
  if (ts == c->run_ts) {
    c->run_n++;
  } else {
    c->run_ts = ts;
    c->run_n = 1;
  }
}

int mn_docker_log_cursor_line(struct mn_docker_log_cursor *c, int64_t ts_ns, const char *text,
                              size_t len) {
  if (ts_ns < c->start.ts_ns)
    return 0; /* before the offset */
  if (ts_ns == c->start.ts_ns && c->skipped < c->start.n) {
    c->skipped++;
    track(c, ts_ns);
    return 0; /* handed out already */
  }
  if (c->count >= c->max_lines || c->page->add_line(c->page, text, len) != 0)
    return 1;
  c->count++;
  track(c, ts_ns);
  return c->count >= c->max_lines;
}

void mn_docker_log_cursor_next(const struct mn_docker_log_cursor *c, struct mn_docker_log_pos *out) {
  if (c->count == 0) {
    *out = c->start;
    return;
  }
  out->ts_ns = c->run_ts;
  out->n = c->run_n;
}
