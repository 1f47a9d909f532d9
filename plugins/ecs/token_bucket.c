/* token_bucket.c — see token_bucket.h. */
#include "token_bucket.h"

void mn_ecs_bucket_init(struct mn_ecs_bucket *b, double rate, double burst, int64_t now_us) {
  pthread_mutex_init(&b->lock, NULL);
  b->rate = rate;
  b->burst = burst;
  b->tokens = burst;
  b->last_us = now_us;
}

void mn_ecs_bucket_release(struct mn_ecs_bucket *b) { pthread_mutex_destroy(&b->lock); }

/* Adds the tokens earned since the last call; returns the wait for one.
 * Called with the lock held. */
static int64_t refill_locked(struct mn_ecs_bucket *b, int64_t now_us) {
  if (now_us > b->last_us) {
    b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
    b->last_us = now_us;
  }
  return b->tokens < 1.0 ? (int64_t)((1.0 - b->tokens) / b->rate * 1e6) + 1 : 0;
}

int64_t mn_ecs_bucket_try(struct mn_ecs_bucket *b, int64_t now_us) {
  pthread_mutex_lock(&b->lock);
  int64_t wait = refill_locked(b, now_us);
  if (wait == 0)
    b->tokens -= 1.0;
  pthread_mutex_unlock(&b->lock);
  return wait;
}
