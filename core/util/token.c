/* Execution keys (token.h), with OpenSSL's random source, base64 and SHA-256. */
#include "util/token.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "util/error.h"

#define RANDOM_BYTES 32
#define ENCODED_CHARS 43 /* ceil(32 * 4 / 3) without padding */

static void encode(const unsigned char raw[RANDOM_BYTES], char out[MN_TOKEN_MAX]) {
  unsigned char b64[4 * ((RANDOM_BYTES + 2) / 3) + 1];
  EVP_EncodeBlock(b64, raw, RANDOM_BYTES);
  memcpy(out, MN_TOKEN_PREFIX, sizeof MN_TOKEN_PREFIX - 1);
  char *p = out + sizeof MN_TOKEN_PREFIX - 1;
  for (size_t i = 0; i < ENCODED_CHARS; i++) /* base64url: no + / = */
    p[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
  p[ENCODED_CHARS] = '\0';
  OPENSSL_cleanse(b64, sizeof b64);
}

int mn_token_new(char out[MN_TOKEN_MAX]) {
  unsigned char raw[RANDOM_BYTES];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return MN_EINTERNAL;
  encode(raw, out);
  OPENSSL_cleanse(raw, sizeof raw);
  return 0;
}

void mn_token_derive(const unsigned char secret[32], const char *execution_id,
                     char out[MN_TOKEN_MAX]) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret, 32, (const unsigned char *)execution_id, strlen(execution_id),
       mac, &len);
  encode(mac, out);
  OPENSSL_cleanse(mac, sizeof mac);
}

void mn_token_hash(const char *text, size_t len, char out[MN_TOKEN_HASH_MAX]) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)text, len, digest);
  for (size_t i = 0; i < sizeof digest; i++)
    snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

bool mn_token_is_execution(const char *text) {
  size_t n = strlen(text);
  if (n != sizeof MN_TOKEN_PREFIX - 1 + ENCODED_CHARS ||
      strncmp(text, MN_TOKEN_PREFIX, sizeof MN_TOKEN_PREFIX - 1) != 0)
    return false;
  for (const char *p = text + sizeof MN_TOKEN_PREFIX - 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_'))
      return false;
  return true;
}
