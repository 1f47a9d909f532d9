/* mn-bench-stamp: prints the wall clock in microseconds and exits. The
 * dispatch benchmark runs it as a function's command: its output is the
 * moment the command started. */
#include <stdio.h>
#include <time.h>

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  printf("%lld\n", (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
  return 0;
}
