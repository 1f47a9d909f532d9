/* token_bucket.c — see token_bucket.h. A reservation may drive the count
 * below zero: the deficit is the queue of callers still waiting. */
#include "token_bucket.h"

void mn_ecs_bucket_init(struct mn_ecs_bucket *b, double rate, double burst, int64_t now_us) {
  pthread_mutex_init(&b->lock, NULL);
  b->rate = rate;
  b->burst = burst;
  b->tokens = burst;
  b->last_us = now_us;
}

void mn_ecs_bucket_release(struct mn_ecs_bucket *b) { pthread_mutex_destroy(&b->lock); }

int64_t mn_ecs_bucket_reserve(struct mn_ecs_bucket *b, int64_t now_us, int64_t max_wait_us) {
  int64_t wait = 0;
  pthread_mutex_lock(&b->lock);
  if (now_us > b->last_us) {
    b->tokens += (double)(now_us - b->last_us) * b->rate / 1e6;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
    b->last_us = now_us;
  }
  if (b->tokens < 1.0)
    wait = (int64_t)((1.0 - b->tokens) / b->rate * 1e6) + 1;
  if (wait > max_wait_us)
    wait = -1;
  else
    b->tokens -= 1.0;
  pthread_mutex_unlock(&b->lock);
  return wait;
}
