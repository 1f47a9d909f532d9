/* token_bucket.h — the launch rate limit: `rate` tokens a second, at most
 * `burst` saved up (Fargate's RunTask limit is 20/s with a burst of 100).
 * Thread-safe. */
#ifndef MN_ECS_TOKEN_BUCKET_H
#define MN_ECS_TOKEN_BUCKET_H

#include <pthread.h>
#include <stdint.h>

struct mn_ecs_bucket {
  pthread_mutex_t lock;
  double rate, burst, tokens;
  int64_t last_us;
};

void mn_ecs_bucket_init(struct mn_ecs_bucket *b, double rate, double burst, int64_t now_us);
void mn_ecs_bucket_release(struct mn_ecs_bucket *b);
/* Takes one token. Returns how long (µs) the caller must wait before using
 * it (0: at once), or -1 when that would exceed max_wait_us (nothing is
 * taken then). Waiting callers queue in the order they reserved. */
int64_t mn_ecs_bucket_reserve(struct mn_ecs_bucket *b, int64_t now_us, int64_t max_wait_us);

#endif
