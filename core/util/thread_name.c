#include "util/thread_name.h"

#include <string.h>
#include <sys/prctl.h>

void mn_thread_name(const char *name) {
  char cut[16];
  size_t n = strlen(name);
  if (n >= sizeof cut)
    n = sizeof cut - 1;
  memcpy(cut, name, n);
  cut[n] = '\0';
  (void)prctl(PR_SET_NAME, cut, 0, 0, 0);
}
