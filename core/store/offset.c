/* The paging offset of invocation lists: "<creation_time_us>,<invocation_id>". */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* Like Python's int(): optional blanks around an optional sign and digits. */
static int parse_int64(const char *s, size_t len, int64_t *out) {
  char buf[32];
  while (len > 0 && isspace((unsigned char)*s)) {
    s++;
    len--;
  }
  while (len > 0 && isspace((unsigned char)s[len - 1]))
    len--;
  if (len == 0 || len >= sizeof buf)
    return MN_EOFFSET_INVALID;
  memcpy(buf, s, len);
  buf[len] = '\0';
  size_t start = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
  if (buf[start] == '\0')
    return MN_EOFFSET_INVALID;
  for (size_t i = start; buf[i]; i++)
    if (!isdigit((unsigned char)buf[i]))
      return MN_EOFFSET_INVALID;
  errno = 0;
  long long v = strtoll(buf, NULL, 10);
  if (errno == ERANGE)
    return MN_EOFFSET_INVALID;
  *out = (int64_t)v;
  return 0;
}

int mn_page_offset_parse(const char *text, struct mn_page_offset *out) {
  if (!text)
    return MN_EOFFSET_INVALID;
  const char *comma = strchr(text, ',');
  if (!comma)
    return MN_EOFFSET_INVALID;
  struct mn_page_offset o;
  if (parse_int64(text, (size_t)(comma - text), &o.creation_time) < 0)
    return MN_EOFFSET_INVALID;
  size_t idlen = strlen(comma + 1);
  if (idlen >= sizeof o.invocation_id)
    return MN_EOFFSET_INVALID;
  memcpy(o.invocation_id, comma + 1, idlen + 1);
  *out = o;
  return 0;
}

char *mn_page_offset_format(int64_t creation_time, const char *invocation_id) {
  if (!invocation_id)
    return NULL;
  size_t len = strlen(invocation_id) + 24;
  char *s = malloc(len);
  if (s)
    snprintf(s, len, "%" PRId64 ",%s", creation_time, invocation_id);
  return s;
}
