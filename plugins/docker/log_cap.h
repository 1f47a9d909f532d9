/* log_cap.h — the saved log of a container, capped at
 * providers.<name>.max_log_bytes (default 64 MiB): lines are written as
 * they come until the head is full (the cap less the tail), then only the
 * last lines are kept (the tail: min(cap / 2, 1 MiB), in memory) and written
 * at the end, after one marker line saying how much was left out. The
 * marker carries the timestamp of the first line left out, so the saved
 * file stays in time order and log offsets keep their meaning. Pure (a
 * FILE *), unit-tested. */
#ifndef MN_DOCKER_LOG_CAP_H
#define MN_DOCKER_LOG_CAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MN_DOCKER_LOG_TAIL_MAX (1024 * 1024)

struct mn_docker_log_cap {
  FILE *out;
  uint64_t max;      /* 0: no cap */
  uint64_t head_max; /* bytes of whole lines written as they come */
  uint64_t head;
  int capped;
  char *ring; /* whole lines, '\n'-terminated */
  size_t ring_cap, ring_start, ring_len;
  uint64_t dropped_bytes, dropped_lines;
  char dropped_ts[64]; /* the timestamp of the first line left out */
  int failed;          /* a write failed, or out of memory */
};

void mn_docker_log_cap_init(struct mn_docker_log_cap *c, FILE *out, uint64_t max);
/* One line ("TIMESTAMP text", without its newline). 0, or -1 once a write
 * failed. */
int mn_docker_log_cap_line(struct mn_docker_log_cap *c, const char *line, size_t len);
/* Writes the marker and the tail; frees the ring. 0 or -1. */
int mn_docker_log_cap_finish(struct mn_docker_log_cap *c);

#endif
