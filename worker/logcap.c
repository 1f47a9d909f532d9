/* The capped log (logcap.h): head, marker, tail ring. */
#include "logcap.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mn_logcap_init(struct mn_logcap *c, int fd, uint64_t max) {
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->last_newline = 1;
  if (max > 0 && max < MN_LOGCAP_MIN)
    max = MN_LOGCAP_MIN;
  c->max = max;
  uint64_t tail = max / 2 < MN_LOGCAP_TAIL_MAX ? max / 2 : MN_LOGCAP_TAIL_MAX;
  c->ring_cap = (size_t)tail;
  c->head_max = max - tail;
  return 0;
}

void mn_logcap_release(struct mn_logcap *c) {
  free(c->ring);
  c->ring = NULL;
}

/* Writes everything to fd; a descriptor that fails is given up on. */
static void put(struct mn_logcap *c, const char *p, size_t n) {
  if (n > 0 && !c->broken)
    c->last_newline = p[n - 1] == '\n';
  while (n > 0 && !c->broken) {
    ssize_t w = write(c->fd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
    } else if (w < 0 && errno == EAGAIN) {
      struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
      poll(&pf, 1, 1000);
    } else if (!(w < 0 && errno == EINTR)) {
      c->broken = 1;
    }
  }
}

static void ring_append(struct mn_logcap *c, const char *p, size_t n) {
  if (!c->ring && c->ring_cap > 0 && !(c->ring = malloc(c->ring_cap)))
    c->ring_cap = 0; /* out of memory: no tail */
  if (n >= c->ring_cap) {
    c->dropped += c->ring_len + (n - c->ring_cap);
    if (c->ring_cap > 0)
      memcpy(c->ring, p + (n - c->ring_cap), c->ring_cap);
    c->ring_start = 0;
    c->ring_len = c->ring_cap;
    return;
  }
  if (c->ring_len + n > c->ring_cap) {
    size_t drop = c->ring_len + n - c->ring_cap;
    c->ring_start = (c->ring_start + drop) % c->ring_cap;
    c->ring_len -= drop;
    c->dropped += drop;
  }
  size_t at = (c->ring_start + c->ring_len) % c->ring_cap;
  size_t first = c->ring_cap - at < n ? c->ring_cap - at : n;
  memcpy(c->ring + at, p, first);
  memcpy(c->ring, p + first, n - first);
  c->ring_len += n;
}

/* Where the head ends within p[0..room): after the last newline within
 * the last MN_LOGCAP_LINE_SLACK bytes of the head (before p itself when
 * what was written last ended a line), else at room. */
static size_t head_cut(const char *p, size_t room, int line_ended) {
  size_t from = room > MN_LOGCAP_LINE_SLACK ? room - MN_LOGCAP_LINE_SLACK : 0;
  for (size_t i = room; i > from; i--)
    if (p[i - 1] == '\n')
      return i;
  return from == 0 && line_ended ? 0 : room;
}

void mn_logcap_write(struct mn_logcap *c, const char *data, size_t n) {
  if (c->max == 0 || c->flushed) {
    put(c, data, n);
    return;
  }
  if (!c->capped) {
    uint64_t room = c->head_max - c->head;
    if (n <= room) {
      put(c, data, n);
      c->head += n;
      return;
    }
    size_t cut = head_cut(data, (size_t)room, c->last_newline);
    put(c, data, cut);
    c->head += cut;
    char marker[256];
    int len = snprintf(marker, sizeof marker,
                       "%smultinode-worker: the log reached its cap of %" PRIu64
                       " bytes (max_log_bytes): what follows is only the last %zu bytes, "
                       "written when the command ends\n",
                       c->last_newline ? "" : "\n", c->max, c->ring_cap);
    put(c, marker, (size_t)len);
    c->capped = 1;
    data += cut;
    n -= cut;
  }
  ring_append(c, data, n);
}

uint64_t mn_logcap_flush(struct mn_logcap *c) {
  if (!c->capped || c->flushed) {
    c->flushed = 1;
    return c->capped ? c->dropped : 0;
  }
  size_t start = c->ring_start, len = c->ring_len;
  if (c->dropped > 0) { /* start at a whole line, when there is one */
    for (size_t i = 0; i < len; i++) {
      if (c->ring[(start + i) % c->ring_cap] == '\n') {
        c->dropped += i + 1;
        start = (start + i + 1) % c->ring_cap;
        len -= i + 1;
        break;
      }
    }
  }
  size_t first = c->ring_cap - start < len ? c->ring_cap - start : len;
  if (len > 0) {
    put(c, c->ring + start, first);
    put(c, c->ring, len - first);
  }
  if (!c->last_newline)
    put(c, "\n", 1);
  c->flushed = 1;
  free(c->ring);
  c->ring = NULL;
  c->ring_len = 0;
  return c->dropped;
}

static struct mn_logcap stderr_cap = {.fd = 2, .last_newline = 1};

struct mn_logcap *mn_logcap_stderr(void) { return &stderr_cap; }

int mn_logcap_stderr_init(void) {
  const char *v = getenv(MN_LOGCAP_ENV);
  uint64_t max = 0;
  int rc = 0;
  if (v && *v) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-' || n > (UINT64_C(1) << 62))
      rc = -1;
    else
      max = n;
  }
  unsetenv(MN_LOGCAP_ENV);
  mn_logcap_init(&stderr_cap, 2, max);
  return rc;
}
