/* Collects configuration problems, one line each, in the form
 *   FILE:LINE:COL: key.path: problem
 * so that a check can go on and report every bad key, not just the first:
 * the daemon's config and provider sections, and the CLI's manifest. */
#ifndef MN_COMMON_CONFIG_REPORT_H
#define MN_COMMON_CONFIG_REPORT_H

#include <stddef.h>

#include "multinode/common/error.h"

struct mn_cfg_node;

struct mn_cfg_report_line {
  int line, col; /* 0, 0 for lines without a position */
  char *text;
};

/* Lines are kept in the order of their position in the file (then in the
 * order they were added), whatever order the checks ran in. */
struct mn_cfg_report {
  struct mn_cfg_report_line *lines;
  size_t n_lines, cap;
  int count;
  int oom;
};

/* Adds "FILE:LINE:COL: PATH: problem" with the position of AT (a node of
 * the tree). PATH NULL means AT's own key path. */
void mn_cfg_report_add(struct mn_cfg_report *rep, const struct mn_cfg_node *at,
                       const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds one ready-made line sorted at LINE:COL (0, 0: none). */
void mn_cfg_report_add_at(struct mn_cfg_report *rep, int line, int col, const char *text);
/* Adds one ready-made line without a position (no trailing newline needed). */
void mn_cfg_report_add_line(struct mn_cfg_report *rep, const char *line);
/* Adds a ready-made message of one or more lines; a line that starts with
 * "FILE:LINE:COL: " (FILE as given) is sorted at that position. */
void mn_cfg_report_add_text(struct mn_cfg_report *rep, const char *file, const char *text);

/* Copies the report into MSG (size MSGSIZE): as many whole lines as fit
 * (without the last newline), then "(and N more errors)" when some do not. */
void mn_cfg_report_format(struct mn_cfg_report *rep, char *msg, size_t msgsize);
/* 0 when empty; otherwise sets err (code MN_ECONFIG, msg as above) and
 * returns MN_ECONFIG (MN_ENOMEM when a line could not be stored). */
int mn_cfg_report_finish(struct mn_cfg_report *rep, struct mn_error *err);
/* Every line, in order, joined by newlines (heap; caller frees), or NULL
 * when empty or out of memory. */
char *mn_cfg_report_text(struct mn_cfg_report *rep);
/* Hands every line over, in order, as a NULL-terminated array with room
 * for one more line (the array and each line are the caller's; *n is the
 * count), and empties rep; NULL when out of memory. */
char **mn_cfg_report_take(struct mn_cfg_report *rep, size_t *n);
void mn_cfg_report_release(struct mn_cfg_report *rep);

#endif
