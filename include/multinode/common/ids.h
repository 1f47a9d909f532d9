/* Random identifiers: a prefix ("ver-", "inv-", "exe-") and 32 lowercase hex
 * digits from the kernel's CSPRNG (getrandom), as the original control plane's uuid4 hex. */
#ifndef MN_COMMON_IDS_H
#define MN_COMMON_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define MN_ID_PREFIX_VERSION "ver-"
#define MN_ID_PREFIX_INVOCATION "inv-"
#define MN_ID_PREFIX_EXECUTION "exe-"

#define MN_ID_HEX_LEN 32
#define MN_ID_MAX 48 /* room for any prefix + 32 hex + NUL */

/* Writes prefix + 32 hex digits into out (size >= MN_ID_MAX). 0 or MN_EINTERNAL. */
int mn_id_new(const char *prefix, char out[MN_ID_MAX]);
/* True when s is prefix followed by exactly 32 lowercase hex digits. */
bool mn_id_valid(const char *prefix, const char *s);

#endif
