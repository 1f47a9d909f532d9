#include "util/ids.h"

#include <openssl/rand.h>
#include <string.h>

#include "util/error.h"

int mn_id_new(const char *prefix, char out[MN_ID_MAX]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[MN_ID_HEX_LEN / 2];
  size_t plen = strlen(prefix);
  if (plen + MN_ID_HEX_LEN + 1 > MN_ID_MAX || RAND_bytes(raw, sizeof raw) != 1)
    return MN_EINTERNAL;
  memcpy(out, prefix, plen);
  for (size_t i = 0; i < sizeof raw; i++) {
    out[plen + 2 * i] = hex[raw[i] >> 4];
    out[plen + 2 * i + 1] = hex[raw[i] & 0xf];
  }
  out[plen + MN_ID_HEX_LEN] = '\0';
  return 0;
}

bool mn_id_valid(const char *prefix, const char *s) {
  size_t plen = strlen(prefix);
  if (strncmp(s, prefix, plen) != 0 || strlen(s) != plen + MN_ID_HEX_LEN)
    return false;
  for (const char *p = s + plen; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}
