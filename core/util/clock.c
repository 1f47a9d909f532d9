#include "util/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * MN_US_PER_S + ts.tv_nsec / 1000;
}

int64_t mn_now_us(void) { return read_clock(CLOCK_REALTIME); }
int64_t mn_monotonic_us(void) { return read_clock(CLOCK_MONOTONIC); }
