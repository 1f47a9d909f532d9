/* registry_ref.c — the `registry` value of the container providers
 * (registry_ref.h). */
#include "registry_ref.h"

#include <stdio.h>
#include <string.h>

int mn_support_registry_valid(const char *r) {
  const char *slash = strchr(r, '/');
  size_t n = slash ? (size_t)(slash - r) : 0;
  if (n == 0 || !slash[1] || strchr(r, '@') || strchr(slash, ':'))
    return 0;
  return memchr(r, '.', n) || memchr(r, ':', n) || (n == 9 && strncmp(r, "localhost", 9) == 0);
}

int mn_support_registry_check(const char *text, char *why, size_t why_size) {
  if (mn_support_registry_valid(text))
    return 0;
  snprintf(why, why_size, "%s", MN_SUPPORT_REGISTRY_WHY);
  return -1;
}
