#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int mn_log_threshold = MN_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void mn_log_set_level(enum mn_log_level level) { mn_log_threshold = (int)level; }

int mn_log_parse_level(const char *name, enum mn_log_level *out) {
  for (int i = 0; i <= MN_LOG_DEBUG; i++) {
    if (strcmp(name, level_names[i]) == 0) {
      *out = (enum mn_log_level)i;
      return 0;
    }
  }
  return -1;
}

void mn_log_vemit(enum mn_log_level level, const char *subsystem, const char *fmt,
                  va_list ap) {
  char line[2048];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, level_names[level],
                   subsystem);
  if (n < 0 || (size_t)n >= sizeof line)
    n = 0;
  vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  /* one write per line so concurrent threads do not interleave */
  fprintf(stderr, "%s\n", line);
}

void mn_log_emit(enum mn_log_level level, const char *subsystem, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mn_log_vemit(level, subsystem, fmt, ap);
  va_end(ap);
}
