/* Durations and sizes written by people: "90s", "5m", "1h", "2h30m", "120"
 * (seconds); "16 GiB", "512 MiB", "64 KiB". */
#ifndef MN_UTIL_DURATION_H
#define MN_UTIL_DURATION_H

#include <stdint.h>

/* Parses a duration into whole seconds. 0 or MN_EINVAL. */
int mn_duration_parse(const char *text, int64_t *seconds_out);
/* Parses a memory size into GB (GiB units, as the original client: MiB/1024). */
int mn_memory_parse_gb(const char *text, double *gb_out);

#endif
