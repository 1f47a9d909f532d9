/* Time in microseconds since the Unix epoch: the unit of every stored
 * timestamp. The API shows whole seconds (mn_us_to_s). */
#ifndef MN_UTIL_CLOCK_H
#define MN_UTIL_CLOCK_H

#include <stdint.h>

#define MN_TIME_NULL INT64_MIN /* an absent timestamp */
#define MN_US_PER_S INT64_C(1000000)

int64_t mn_now_us(void);       /* wall clock */
int64_t mn_monotonic_us(void); /* for measuring intervals */

/* Whole seconds, rounding down (so a time never shows as later than it was). */
static inline int64_t mn_us_to_s(int64_t us) {
  return us >= 0 ? us / MN_US_PER_S : -((-us + MN_US_PER_S - 1) / MN_US_PER_S);
}

#endif
