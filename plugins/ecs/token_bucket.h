/* token_bucket.h — the launch rate limit: `rate` tokens a second, at most
 * `burst` saved up (Fargate's RunTask limit is 20/s with a burst of 100).
 * Thread-safe. A launch finding no token returns TRANSIENT with the wait
 * as its retry_after_us: the daemon calls again then. */
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
/* Takes one token if there is one now: returns 0; else takes nothing and
 * returns how long (µs) until there will be one. */
int64_t mn_ecs_bucket_try(struct mn_ecs_bucket *b, int64_t now_us);

#endif
