/* name_hash.h — the digest that keeps names derived from ids apart (part of
 * the provider toolkit, plugins/support). A provider names its workers and
 * objects after execution ids within its platform's rules (length,
 * characters); when an id has to be cut or cleaned, a hash of the whole id
 * appended to the cleaned part keeps distinct ids distinct. */
#ifndef MN_SUPPORT_NAME_HASH_H
#define MN_SUPPORT_NAME_HASH_H

#include <stddef.h>

/* The first `digits` (1 to 64) lowercase hex digits of SHA-256(data) into
 * out, which holds digits + 1 bytes. Returns 0, or -1 (digits out of range,
 * OpenSSL failing: out is then "" ). */
int mn_name_hash(const void *data, size_t len, size_t digits, char *out);

#endif
