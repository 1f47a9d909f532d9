/* Per-execution API keys (docs/security.md, "Execution keys"): each launch
 * of an execution gets a fresh random key that only its worker holds; the
 * store keeps its SHA-256, never the key.
 *
 *   mnx_<43 characters of base64url: 32 random bytes>
 *
 * The prefix tells the API, before any lookup, that a key is an execution's
 * and not an operator's. */
#ifndef MN_UTIL_TOKEN_H
#define MN_UTIL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define MN_TOKEN_PREFIX "mnx_"
#define MN_TOKEN_MAX 64      /* with the NUL */
#define MN_TOKEN_HASH_MAX 65 /* 64 hex digits and the NUL */

/* A new random execution key. 0, or MN_EINTERNAL when the random source
 * failed. */
int mn_token_new(char out[MN_TOKEN_MAX]);
/* The execution key of EXECUTION_ID: HMAC-SHA256 under SECRET (32 bytes the
 * daemons of one database share and the database never sees), so that a
 * launch repeated after a crash hands the worker it finds the key it
 * already holds. */
void mn_token_derive(const unsigned char secret[32], const char *execution_id,
                     char out[MN_TOKEN_MAX]);
/* The lowercase hex SHA-256 of text (any key). */
void mn_token_hash(const char *text, size_t len, char out[MN_TOKEN_HASH_MAX]);
/* Whether text has the shape of an execution key. */
bool mn_token_is_execution(const char *text);

#endif
