/* The worker's log with a size cap: what goes to the worker's standard
 * error (its own lines and the command's standard error, which the local
 * provider points at the execution's log file) is kept whole up to a cap;
 * past it, the head stays, one marker line follows, and only the last
 * bytes (the tail, held in memory) are written after it once the command
 * has ended. The file only ever grows (append-only, so log offsets already
 * handed out stay valid), and ends up at most max bytes plus the marker and
 * the worker's closing lines.
 *
 *   head: max - tail bytes, as written (cut after a whole line when one
 *         ends in the last MN_LOGCAP_LINE_SLACK bytes before the cap)
 *   tail: min(max / 2, MN_LOGCAP_TAIL_MAX) bytes, starting at a line
 *
 * The local provider sets MULTINODE_LOG_MAX_BYTES (its max_log_bytes) in
 * the worker's environment; without it nothing is capped. Dependency-free. */
#ifndef MN_WORKER_LOGCAP_H
#define MN_WORKER_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

#include "multinode/common/worker_env.h"

#define MN_LOGCAP_ENV MN_WORKER_ENV_LOG_MAX_BYTES
#define MN_LOGCAP_TAIL_MAX (1024 * 1024)
#define MN_LOGCAP_LINE_SLACK 4096
#define MN_LOGCAP_MIN 4096 /* smaller caps are raised to this */

struct mn_logcap {
  int fd;
  uint64_t max;       /* 0: no cap */
  uint64_t head_max;  /* bytes written as they come */
  uint64_t head;      /* bytes of the head written */
  int capped;         /* the head is full: bytes go to the tail */
  int flushed;        /* the tail was written: pass through again */
  int broken;         /* fd failed: nothing more is written */
  char *ring;         /* the tail: ring_cap bytes */
  size_t ring_cap, ring_start, ring_len;
  uint64_t dropped;   /* bytes that left the ring (neither head nor tail) */
  int last_newline;   /* the last byte written to fd was '\n' (or none was) */
};

/* fd receives the log; max 0 means no cap. 0, or -1 when out of memory
 * (then nothing is capped). */
int mn_logcap_init(struct mn_logcap *c, int fd, uint64_t max);
void mn_logcap_release(struct mn_logcap *c);

/* Appends n bytes (the head, then the tail). */
void mn_logcap_write(struct mn_logcap *c, const char *data, size_t n);

/* The command has ended: writes the tail after the marker, and from then on
 * passes bytes through. Returns how many bytes were left out of the log. */
uint64_t mn_logcap_flush(struct mn_logcap *c);

/* The worker's standard error, capped per MULTINODE_LOG_MAX_BYTES once
 * mn_logcap_stderr_init() has read it (process-wide, like stderr). */
struct mn_logcap *mn_logcap_stderr(void);
/* Reads and removes MULTINODE_LOG_MAX_BYTES from the environment (so the
 * command does not see it). -1 when its value is not a byte count. */
int mn_logcap_stderr_init(void);

#endif
