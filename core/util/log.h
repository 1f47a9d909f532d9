/* Logging: one line per event on stderr, level checked before the
 * arguments are evaluated. Messages are lowercase, problem first. Every
 * message is escaped as it is written (control characters, C1 ones
 * included, become \xNN), so text from clients cannot forge a line. */
#ifndef MN_UTIL_LOG_H
#define MN_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum mn_log_level { MN_LOG_ERROR = 0, MN_LOG_WARN, MN_LOG_INFO, MN_LOG_DEBUG };

extern int mn_log_threshold;

void mn_log_set_level(enum mn_log_level level);
/* Copies src into dst (size bytes, always NUL-terminated) with control
 * characters written as \xNN, as log lines print them; stops before a
 * character that would not fit. Returns the length written. */
size_t mn_log_escape(char *dst, size_t size, const char *src);
int mn_log_parse_level(const char *name, enum mn_log_level *out);
void mn_log_emit(enum mn_log_level level, const char *subsystem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mn_log_vemit(enum mn_log_level level, const char *subsystem, const char *fmt,
                  va_list ap) __attribute__((format(printf, 3, 0)));

#define MN_LOG(level, sub, ...)                                                \
  do {                                                                         \
    if ((int)(level) <= mn_log_threshold)                                      \
      mn_log_emit((level), (sub), __VA_ARGS__);                                \
  } while (0)
#define mn_log_error(sub, ...) MN_LOG(MN_LOG_ERROR, sub, __VA_ARGS__)
#define mn_log_warn(sub, ...) MN_LOG(MN_LOG_WARN, sub, __VA_ARGS__)
#define mn_log_info(sub, ...) MN_LOG(MN_LOG_INFO, sub, __VA_ARGS__)
#define mn_log_debug(sub, ...) MN_LOG(MN_LOG_DEBUG, sub, __VA_ARGS__)

#endif
