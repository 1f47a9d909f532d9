#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "logcap.h"

void mn_worker__log(const char *fmt, ...) {
  char line[1100];
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(line, sizeof line, "multinode-worker: ");
  int m = vsnprintf(line + n, 1024, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : m >= 1024 ? 1023 : (size_t)m);
  line[len++] = '\n';
  /* one write per line, so it does not interleave with the command's; the
   * same capped stream as the command's standard error (logcap.h) */
  mn_logcap_write(mn_logcap_stderr(), line, len);
}
