#include "util/duration.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

int mn_duration_parse(const char *text, int64_t *seconds_out) {
  const char *p = text;
  int64_t total = 0;
  int parts = 0;
  if (!text || !*text)
    return MN_EINVAL;
  while (*p) {
    if (!isdigit((unsigned char)*p))
      return MN_EINVAL;
    errno = 0;
    char *end;
    long long n = strtoll(p, &end, 10);
    if (errno || n < 0)
      return MN_EINVAL;
    int64_t unit;
    switch (*end) {
    case '\0': unit = parts == 0 ? 1 : 0; break; /* bare number: seconds */
    case 's': unit = 1; end++; break;
    case 'm': unit = 60; end++; break;
    case 'h': unit = 3600; end++; break;
    case 'd': unit = 86400; end++; break;
    default: return MN_EINVAL;
    }
    if (unit == 0 || n > INT64_MAX / unit / 2 || total > INT64_MAX / 2)
      return MN_EINVAL;
    total += n * unit;
    parts++;
    p = end;
  }
  *seconds_out = total;
  return 0;
}

int mn_memory_parse_gb(const char *text, double *gb_out) {
  if (!text)
    return MN_EINVAL;
  errno = 0;
  char *end;
  double v = strtod(text, &end);
  if (errno || end == text || !(v > 0) || !isfinite(v))
    return MN_EINVAL;
  while (*end == ' ')
    end++;
  double div;
  if (strcmp(end, "GiB") == 0)
    div = 1;
  else if (strcmp(end, "MiB") == 0)
    div = 1024;
  else if (strcmp(end, "KiB") == 0)
    div = 1024.0 * 1024.0;
  else
    return MN_EINVAL;
  if (v / div > 1e6) /* far beyond any machine; also keeps the value finite */
    return MN_EINVAL;
  *gb_out = v / div;
  return 0;
}
