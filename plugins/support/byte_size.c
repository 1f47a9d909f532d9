/* Sizes in provider configs (byte_size.h). */
#include "byte_size.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int mn_support_parse_bytes(const char *text, uint64_t *out) {
  static const struct {
    const char *name;
    int shift;
  } units[] = {{"", 0},    {"B", 0},    {"k", 10},   {"K", 10},  {"KiB", 10}, {"M", 20},
               {"MiB", 20}, {"G", 30}, {"GiB", 30}};
  char *end;
  if (!text || text[0] < '0' || text[0] > '9')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno)
    return -1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].name) != 0)
      continue;
    if (v > (UINT64_C(1) << 50) >> units[i].shift)
      return -1;
    *out = (uint64_t)v << units[i].shift;
    return 0;
  }
  return -1;
}
