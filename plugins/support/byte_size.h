/* Sizes in provider configs ("64MiB", "1G", "512"): digits with an
 * optional unit, k/K/KiB, M/MiB, G/GiB (powers of 1024) or B; at most 2^50
 * bytes. Shared by every provider that takes a size (max_log_bytes). */
#ifndef MN_SUPPORT_BYTE_SIZE_H
#define MN_SUPPORT_BYTE_SIZE_H

#include <stdint.h>

/* 0 with *out set, or -1 when TEXT is not such a size. */
int mn_support_parse_bytes(const char *text, uint64_t *out);

#endif
