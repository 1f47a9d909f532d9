/* The provider-call pool: every job runs once, the queue bound holds, free
 * drains what was queued, and its threads carry the pool's name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <cmocka.h>

#include "scheduler/pool.h"
#include "util/error.h"

struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
  int ran;
};

static void count_job(void *arg) {
  struct gate *g = arg;
  pthread_mutex_lock(&g->mu);
  g->ran++;
  pthread_mutex_unlock(&g->mu);
}

static void gated_job(void *arg) {
  struct gate *g = arg;
  pthread_mutex_lock(&g->mu);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  g->ran++;
  pthread_mutex_unlock(&g->mu);
}

static void every_job_runs_once(void **state) {
  (void)state;
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0};
  struct mn_pool *pool;
  assert_int_equal(mn_pool_new("mn-test", 3, 1000, &pool), 0);
  for (int i = 0; i < 500; i++)
    assert_int_equal(mn_pool_submit(pool, count_job, &g), 0);
  mn_pool_free(pool); /* drains */
  assert_int_equal(g.ran, 500);
}

static void full_queue_refuses(void **state) {
  (void)state;
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  struct mn_pool *pool;
  assert_int_equal(mn_pool_new("mn-test", 1, 2, &pool), 0);
  /* one job may be taken by the thread; at most 3 fit (1 running + 2 queued) */
  int accepted = 0;
  for (int i = 0; i < 10; i++)
    accepted += mn_pool_submit(pool, gated_job, &g) == 0;
  assert_true(accepted >= 2 && accepted <= 3);
  assert_int_equal(mn_pool_submit(pool, gated_job, &g), MN_EUNAVAILABLE);
  assert_int_equal(mn_pool_pending(pool), (size_t)accepted);
  pthread_mutex_lock(&g.mu);
  g.open = 1;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  mn_pool_free(pool);
  assert_int_equal(g.ran, accepted);
}

static void name_job(void *arg) {
  char *name = arg;
  if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
    strcpy(name, "?");
}

static void threads_are_named(void **state) {
  (void)state;
  char name[2][17] = {{0}};
  struct mn_pool *pool;
  /* longer than the kernel keeps: cut to 15 bytes */
  assert_int_equal(mn_pool_new("mn-test-with-a-long-name", 2, 4, &pool), 0);
  assert_int_equal(mn_pool_submit(pool, name_job, name[0]), 0);
  assert_int_equal(mn_pool_submit(pool, name_job, name[1]), 0);
  mn_pool_free(pool); /* drains */
  assert_string_equal(name[0], "mn-test-with-a-");
  assert_string_equal(name[1], "mn-test-with-a-");
}

static void bad_arguments(void **state) {
  (void)state;
  struct mn_pool *pool = NULL;
  assert_int_equal(mn_pool_new("mn-test", 0, 1, &pool), MN_EINVAL);
  assert_int_equal(mn_pool_new("mn-test", 1, 0, &pool), MN_EINVAL);
  mn_pool_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_job_runs_once),
      cmocka_unit_test(full_queue_refuses),
      cmocka_unit_test(threads_are_named),
      cmocka_unit_test(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
