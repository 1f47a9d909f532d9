/* log_cap.c — head, marker, tail for saved container logs (log_cap.h). */
#include "log_cap.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void mn_docker_log_cap_init(struct mn_docker_log_cap *c, FILE *out, uint64_t max) {
  memset(c, 0, sizeof *c);
  c->out = out;
  if (max > 0 && max < 4096)
    max = 4096;
  c->max = max;
  uint64_t tail = max / 2 < MN_DOCKER_LOG_TAIL_MAX ? max / 2 : MN_DOCKER_LOG_TAIL_MAX;
  c->ring_cap = (size_t)tail;
  c->head_max = max - tail;
}

static int put(struct mn_docker_log_cap *c, const char *p, size_t n) {
  if (!c->failed && n > 0 && fwrite(p, 1, n, c->out) != n)
    c->failed = 1;
  return c->failed ? -1 : 0;
}

/* The ring's byte at offset i from its start. */
static char at(const struct mn_docker_log_cap *c, size_t i) {
  return c->ring[(c->ring_start + i) % c->ring_cap];
}

/* Drops the oldest line of the ring, noting the first one dropped. */
static void drop_line(struct mn_docker_log_cap *c) {
  size_t n = 0;
  while (n < c->ring_len && at(c, n) != '\n')
    n++;
  n = n < c->ring_len ? n + 1 : c->ring_len;
  if (c->dropped_lines == 0) {
    size_t k = 0;
    while (k < n && k + 1 < sizeof c->dropped_ts && at(c, k) != ' ' && at(c, k) != '\n') {
      c->dropped_ts[k] = at(c, k);
      k++;
    }
    c->dropped_ts[k] = '\0';
  }
  c->dropped_lines++;
  c->dropped_bytes += n;
  c->ring_start = (c->ring_start + n) % c->ring_cap;
  c->ring_len -= n;
}

static void ring_push(struct mn_docker_log_cap *c, const char *p, size_t n) {
  size_t at_end = (c->ring_start + c->ring_len) % c->ring_cap;
  size_t first = c->ring_cap - at_end < n ? c->ring_cap - at_end : n;
  memcpy(c->ring + at_end, p, first);
  memcpy(c->ring, p + first, n - first);
  c->ring_len += n;
}

int mn_docker_log_cap_line(struct mn_docker_log_cap *c, const char *line, size_t len) {
  if (c->max == 0 || (!c->capped && c->head + len + 1 <= c->head_max)) {
    c->head += len + 1;
    if (put(c, line, len) != 0 || put(c, "\n", 1) != 0)
      return -1;
    return 0;
  }
  c->capped = 1;
  if (!c->ring && c->ring_cap > 0 && !(c->ring = malloc(c->ring_cap)))
    c->ring_cap = 0; /* out of memory: no tail */
  if (len + 1 > c->ring_cap) { /* longer than the whole tail: left out */
    while (c->ring_len > 0)
      drop_line(c);
    if (c->dropped_lines == 0) {
      size_t k = strcspn(line, " ");
      k = k < len ? k : len;
      k = k < sizeof c->dropped_ts - 1 ? k : sizeof c->dropped_ts - 1;
      memcpy(c->dropped_ts, line, k);
      c->dropped_ts[k] = '\0';
    }
    c->dropped_lines++;
    c->dropped_bytes += len + 1;
    return c->failed ? -1 : 0;
  }
  while (c->ring_len + len + 1 > c->ring_cap)
    drop_line(c);
  ring_push(c, line, len);
  ring_push(c, "\n", 1);
  return c->failed ? -1 : 0;
}

int mn_docker_log_cap_finish(struct mn_docker_log_cap *c) {
  if (c->dropped_lines > 0) {
    char marker[512];
    int n = snprintf(marker, sizeof marker,
                     "%s multinode: the log reached its cap of %" PRIu64
                     " bytes (max_log_bytes): %" PRIu64 " bytes (%" PRIu64
                     " lines) left out here\n",
                     c->dropped_ts, c->max, c->dropped_bytes, c->dropped_lines);
    put(c, marker, (size_t)n);
  }
  if (c->ring_len > 0) {
    size_t first = c->ring_cap - c->ring_start < c->ring_len ? c->ring_cap - c->ring_start
                                                              : c->ring_len;
    put(c, c->ring + c->ring_start, first);
    put(c, c->ring, c->ring_len - first);
  }
  free(c->ring);
  c->ring = NULL;
  c->ring_len = 0;
  return c->failed ? -1 : 0;
}
