/* registry_ref.c — the `registry` value of the container providers
 * (registry_ref.h). */
#include "registry_ref.h"

#include <string.h>

int mn_support_registry_valid(const char *r) {
  const char *slash = strchr(r, '/');
  size_t n = slash ? (size_t)(slash - r) : 0;
  if (n == 0 || !slash[1] || strchr(r, '@') || strchr(slash, ':'))
    return 0;
  return memchr(r, '.', n) || memchr(r, ':', n) || (n == 9 && strncmp(r, "localhost", 9) == 0);
}
