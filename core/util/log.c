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

/* A byte a terminal or a log reader would act on: C0 controls, DEL, and
 * the first byte of a UTF-8 encoded C1 control (U+0080..U+009F). */
static size_t control_length(const unsigned char *p) {
  if (*p < 0x20 || *p == 0x7f)
    return 1;
  if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
    return 2;
  return 0;
}

size_t mn_log_escape(char *dst, size_t size, const char *src) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  if (size == 0)
    return 0;
  for (const unsigned char *p = (const unsigned char *)src; *p;) {
    size_t c = control_length(p);
    if (c == 0) {
      if (n + 1 >= size)
        break;
      dst[n++] = (char)*p++;
      continue;
    }
    if (n + 4 * c >= size)
      break;
    for (size_t i = 0; i < c; i++, p++) {
      dst[n++] = '\\';
      dst[n++] = 'x';
      dst[n++] = hex[*p >> 4];
      dst[n++] = hex[*p & 0xf];
    }
  }
  dst[n] = '\0';
  return n;
}

void mn_log_vemit(enum mn_log_level level, const char *subsystem, const char *fmt,
                  va_list ap) {
  char line[2048], text[2048];
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
  vsnprintf(text, sizeof text, fmt, ap);
  /* whatever the message carries (names, paths, a provider's text), one
   * event stays one line: control characters are written as \xNN */
  mn_log_escape(line + n, sizeof line - (size_t)n, text);
  /* one write per line so concurrent threads do not interleave */
  fprintf(stderr, "%s\n", line);
}

void mn_log_emit(enum mn_log_level level, const char *subsystem, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mn_log_vemit(level, subsystem, fmt, ap);
  va_end(ap);
}
