#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void mn_worker__log(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* one write per line, so it does not interleave with the command's */
  fprintf(stderr, "multinode-worker: %s\n", line);
  fflush(stderr);
}
