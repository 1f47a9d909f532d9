#include "multinode/common/ids.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "multinode/common/error.h"

/* n bytes from the kernel's CSPRNG (getrandom(2), what OpenSSL seeds from). */
static int random_bytes(unsigned char *out, size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(out, n, 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return -1;
    out += got;
    n -= (size_t)got;
  }
  return 0;
}

int mn_id_new(const char *prefix, char out[MN_ID_MAX]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[MN_ID_HEX_LEN / 2];
  size_t plen = strlen(prefix);
  if (plen + MN_ID_HEX_LEN + 1 > MN_ID_MAX || random_bytes(raw, sizeof raw) != 0)
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
