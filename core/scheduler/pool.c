#include "scheduler/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/thread_name.h"
#include "util/stop.h"

struct job {
  mn_pool_job_fn *fn;
  void *arg;
};

struct mn_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct job *ring;
  size_t cap, head, len, running;
  bool stopping;
  pthread_t *threads;
  size_t n_threads;
  char name[16];
};

static void *pool_main(void *p) {
  struct mn_pool *pool = p;
  mn_thread_name(pool->name);
  pthread_mutex_lock(&pool->mu);
  for (;;) {
    while (pool->len == 0 && !pool->stopping)
      pthread_cond_wait(&pool->cv, &pool->mu);
    if (pool->len == 0 && pool->stopping)
      break;
    struct job j = pool->ring[pool->head];
    pool->head = (pool->head + 1) % pool->cap;
    pool->len--;
    pool->running++;
    pthread_mutex_unlock(&pool->mu);
    j.fn(j.arg);
    pthread_mutex_lock(&pool->mu);
    pool->running--;
  }
  pthread_mutex_unlock(&pool->mu);
  return NULL;
}

int mn_pool_new(const char *name, size_t threads, size_t queue_max, struct mn_pool **out) {
  if (threads == 0 || queue_max == 0)
    return MN_EINVAL;
  struct mn_pool *pool = calloc(1, sizeof *pool);
  if (!pool)
    return MN_ENOMEM;
  snprintf(pool->name, sizeof pool->name, "%s", name);
  pthread_mutex_init(&pool->mu, NULL);
  pthread_cond_init(&pool->cv, NULL);
  pool->cap = queue_max;
  pool->ring = calloc(queue_max, sizeof *pool->ring);
  pool->threads = calloc(threads, sizeof *pool->threads);
  if (!pool->ring || !pool->threads)
    goto fail;
  for (; pool->n_threads < threads; pool->n_threads++)
    if (pthread_create(&pool->threads[pool->n_threads], NULL, pool_main, pool) != 0)
      goto fail;
  *out = pool;
  return 0;
fail:
  mn_pool_free(pool);
  return MN_ENOMEM;
}

int mn_pool_submit(struct mn_pool *pool, mn_pool_job_fn *fn, void *arg) {
  int rc = MN_EUNAVAILABLE;
  pthread_mutex_lock(&pool->mu);
  if (!pool->stopping && pool->len < pool->cap) {
    pool->ring[(pool->head + pool->len) % pool->cap] = (struct job){fn, arg};
    pool->len++;
    pthread_cond_signal(&pool->cv);
    rc = 0;
  }
  pthread_mutex_unlock(&pool->mu);
  return rc;
}

size_t mn_pool_pending(struct mn_pool *pool) {
  pthread_mutex_lock(&pool->mu);
  size_t n = pool->len + pool->running;
  pthread_mutex_unlock(&pool->mu);
  return n;
}

void mn_pool_free(struct mn_pool *pool) {
  if (!pool)
    return;
  mn_signal_stop(&pool->mu, &pool->stopping, &pool->cv);
  for (size_t i = 0; i < pool->n_threads; i++)
    pthread_join(pool->threads[i], NULL);
  pthread_mutex_destroy(&pool->mu);
  pthread_cond_destroy(&pool->cv);
  free(pool->threads);
  free(pool->ring);
  free(pool);
}
