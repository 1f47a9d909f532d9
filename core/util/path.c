#include "path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mn_path_join(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", dir, file);
  return p;
}
