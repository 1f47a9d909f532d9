/* log_frames.h — the engine's log stream and the offsets of its lines.
 * Pure functions (unit-tested).
 *
 * GET /containers/{id}/logs?timestamps=1 answers with multiplexed frames
 * (an 8-byte header: stream, 0, 0, 0, big-endian length; then the payload),
 * one log line per frame, each starting with its RFC 3339 timestamp
 * ("2024-05-01T12:00:00.123456789Z text\n"). The saved log file holds the
 * same payloads, one per line.
 *
 * A log offset is "<timestamp in ns>:<n>": continue after the first n lines
 * stamped exactly <timestamp> (lines are in time order; the engine's
 * `since` is inclusive, and two lines may share one nanosecond). "0:0" is
 * the start. The same offset works on the live container and on the saved
 * file, so paging goes on across release. */
#ifndef MN_DOCKER_LOG_FRAMES_H
#define MN_DOCKER_LOG_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "multinode/provider.h"

/* ---- demultiplexing ---- */

/* Called per complete frame; return nonzero to stop. */
typedef int mn_docker_frame_fn(void *ctx, int stream, const char *payload, size_t len);

struct mn_docker_demux {
  unsigned char header[8];
  size_t header_len;
  char *frame;
  size_t frame_len, frame_want, frame_cap;
  int stream;
};

void mn_docker_demux_init(struct mn_docker_demux *d);
void mn_docker_demux_release(struct mn_docker_demux *d);
/* Feeds bytes; returns 0, 1 when cb asked to stop, -1 out of memory. */
int mn_docker_demux_feed(struct mn_docker_demux *d, const char *data, size_t len,
                         mn_docker_frame_fn *cb, void *ctx);

/* ---- lines ---- */

/* Splits "TIMESTAMP text[\n]" into its time (ns since the epoch) and text
 * (without the newline). -1 when it does not start with a timestamp. */
int mn_docker_log_line_parse(const char *line, size_t len, int64_t *ts_ns, const char **text,
                             size_t *text_len);

/* ---- offsets and paging ---- */

struct mn_docker_log_pos {
  int64_t ts_ns;
  int64_t n;
};

/* NULL or "" is the start. -1 when text is not an offset we issue. */
int mn_docker_log_pos_parse(const char *text, struct mn_docker_log_pos *out);
void mn_docker_log_pos_format(const struct mn_docker_log_pos *pos, char *out, size_t size);

/* Hands the lines after `start` to a page, at most max_lines of them. */
struct mn_docker_log_cursor {
  struct mn_docker_log_pos start;
  struct mn_log_page *page;
  int max_lines;
  int count;       /* lines added */
  int64_t skipped; /* lines stamped start.ts skipped so far */
  int64_t run_ts, run_n;
};

void mn_docker_log_cursor_init(struct mn_docker_log_cursor *c, const struct mn_docker_log_pos *start,
                               struct mn_log_page *page, int max_lines);
/* One line in stream order; 1 when the page is complete (stop). */
int mn_docker_log_cursor_line(struct mn_docker_log_cursor *c, int64_t ts_ns, const char *text,
                              size_t len);
/* The offset after the last line added (the start when none was). */
void mn_docker_log_cursor_next(const struct mn_docker_log_cursor *c, struct mn_docker_log_pos *out);

#endif
