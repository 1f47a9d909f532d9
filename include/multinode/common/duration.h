/* Durations and sizes as people write them: one grammar for the daemon's
 * config, the providers' config sections, the project manifest and the
 * CLI's options (docs/architecture.md, "The common library").
 *
 * A duration is one or more parts, each a number and a unit, optionally
 * separated by spaces: "90s", "5m", "1h30m", "1m 30s", "1.5h", "250ms",
 * "2d". Units: ms, s, m, h, d. A bare number ("120", "0.5") is seconds, but
 * only alone ("1h30" is refused: the unit of 30 is missing). A number is
 * digits with an optional fraction ("1.5", ".5", "2."); no sign, no
 * exponent, no space before a unit or around the whole. At most 100 years.
 *
 * A size is a number, optional spaces and an optional unit: "512", "64MiB",
 * "16 GiB", "1.5G". Units are powers of 1024: B, k/K/KiB, M/MiB, G/GiB,
 * T/TiB (no unit: bytes); "GB" and lower-case "gib" are refused, so nobody
 * has to guess 1000 or 1024. At most 2^50 bytes (1 PiB).
 *
 * Every function returns 0 or MN_EINVAL and leaves *out untouched on
 * failure. */
#ifndef MN_COMMON_DURATION_H
#define MN_COMMON_DURATION_H

#include <stdint.h>

#define MN_DURATION_MAX_SECONDS (100.0 * 365 * 86400)
#define MN_SIZE_MAX_BYTES (UINT64_C(1) << 50)

/* A duration in seconds, fractions kept. */
int mn_duration_parse_seconds(const char *text, double *seconds_out);
/* A duration in whole seconds, rounded up ("0.5s" is 1). */
int mn_duration_parse(const char *text, int64_t *seconds_out);
/* A duration in whole milliseconds, rounded up. */
int mn_duration_parse_ms(const char *text, int64_t *ms_out);

/* A size in bytes, rounded up to a whole byte. */
int mn_size_parse(const char *text, uint64_t *bytes_out);
/* A memory size, which must have a unit ("16" is refused: 16 what?), in GB
 * of 2^30 bytes (GiB, as the original client: MiB/1024). 0 is a size: the
 * caller's bounds refuse it with their own words. */
int mn_memory_parse_gb(const char *text, double *gb_out);

#endif
