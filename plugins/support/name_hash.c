/* name_hash.c — see name_hash.h. */
#include "name_hash.h"

#include <openssl/evp.h>
#include <stdio.h>

int mn_name_hash(const void *data, size_t len, size_t digits, char *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  out[0] = '\0';
  if (digits < 1 || digits > 64 || !EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
    return -1;
  for (size_t i = 0; i < digits; i++)
    out[i] = "0123456789abcdef"[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
  out[digits] = '\0';
  return 0;
}
