/* Durations and sizes (multinode/common/duration.h). */
#include "multinode/common/duration.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "multinode/common/error.h"

/* The number at *s (digits with an optional fraction), moving *s past it.
 * -1 when there is none. Only digits and one dot reach strtod, so neither
 * a sign, an exponent, "inf" nor the locale can sneak in. */
static int number(const char **s, double *out) {
  const char *p = *s;
  size_t digits = strspn(p, "0123456789"), len = digits;
  if (p[len] == '.') {
    size_t frac = strspn(p + len + 1, "0123456789");
    digits += frac;
    len += 1 + frac;
  }
  char buf[64];
  if (digits == 0 || len >= sizeof buf)
    return -1;
  memcpy(buf, p, len);
  buf[len] = '\0';
  *out = strtod(buf, NULL);
  *s = p + len;
  return 0;
}

int mn_duration_parse_seconds(const char *text, double *seconds_out) {
  static const struct {
    const char *name;
    double seconds;
  } units[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  const char *s = text;
  double total = 0;
  int parts = 0;
  if (!text || !*text)
    return MN_EINVAL;
  while (*s) {
    double v, unit = 0;
    if (number(&s, &v) < 0)
      return MN_EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0] && !unit; i++) {
      size_t n = strlen(units[i].name);
      if (strncmp(s, units[i].name, n) == 0 && !(s[n] >= 'a' && s[n] <= 'z')) {
        unit = units[i].seconds;
        s += n;
      }
    }
    if (!unit) {
      if (*s || parts > 0) /* an unknown unit, or "1h30": the unit of 30 is missing */
        return MN_EINVAL;
      unit = 1; /* a bare number alone: seconds */
    }
    total += v * unit;
    if (!(total <= MN_DURATION_MAX_SECONDS))
      return MN_EINVAL;
    parts++;
    if (*s == ' ') {
      while (*s == ' ')
        s++;
      if (!*s) /* trailing spaces */
        return MN_EINVAL;
    }
  }
  *seconds_out = total;
  return 0;
}

int mn_duration_parse(const char *text, int64_t *seconds_out) {
  double s;
  if (mn_duration_parse_seconds(text, &s))
    return MN_EINVAL;
  *seconds_out = (int64_t)ceil(s);
  return 0;
}

int mn_duration_parse_ms(const char *text, int64_t *ms_out) {
  double s;
  if (mn_duration_parse_seconds(text, &s))
    return MN_EINVAL;
  /* 0.001 is not exact in binary: round to a microsecond before going up */
  *ms_out = (int64_t)ceil(round(s * 1e6) / 1e3);
  return 0;
}

/* The unit at s: its shift (power of 2), -1 when unknown; *given is set
 * when there is one. */
static int size_unit(const char *s, int *given) {
  static const struct {
    const char *name;
    int shift;
  } units[] = {{"B", 0},   {"k", 10},  {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20},
               {"G", 30},  {"GiB", 30}, {"T", 40}, {"TiB", 40}};
  *given = *s != '\0';
  if (!*given)
    return 0;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(s, units[i].name) == 0)
      return units[i].shift;
  return -1;
}

static int size_parse(const char *text, uint64_t *bytes_out, int *unit_given) {
  const char *s = text;
  double v;
  if (!text || number(&s, &v) < 0)
    return MN_EINVAL;
  while (*s == ' ')
    s++;
  if (s > text && s[-1] == ' ' && !*s) /* "512 ": spaces and no unit */
    return MN_EINVAL;
  int shift = size_unit(s, unit_given);
  if (shift < 0)
    return MN_EINVAL;
  double bytes = ceil(ldexp(v, shift));
  if (!(bytes <= (double)MN_SIZE_MAX_BYTES))
    return MN_EINVAL;
  *bytes_out = (uint64_t)bytes;
  return 0;
}

int mn_size_parse(const char *text, uint64_t *bytes_out) {
  int unit_given;
  return size_parse(text, bytes_out, &unit_given);
}

int mn_memory_parse_gb(const char *text, double *gb_out) {
  uint64_t bytes;
  int unit_given;
  if (size_parse(text, &bytes, &unit_given) || !unit_given)
    return MN_EINVAL;
  *gb_out = ldexp((double)bytes, -30);
  return 0;
}
