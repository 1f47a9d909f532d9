#include "store/pg_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "util/stop.h"
#include "util/thread_name.h"

struct mn_pg_watch {
  struct mn_pg_embedded *pg;
  int interval_ms;
  bool stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
};

/* Waits interval_ms or until stopped; true when stopped. */
static bool pause_or_stop(struct mn_pg_watch *w) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += w->interval_ms / 1000;
  until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->mu);
  while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
    ;
  bool stop = w->stop;
  pthread_mutex_unlock(&w->mu);
  return stop;
}

static void *watch_main(void *arg) {
  struct mn_pg_watch *w = arg;
  mn_thread_name("mn-pg-watch");
  int missing = 0;
  while (!pause_or_stop(w)) {
    missing = mn_pg_embedded_pid(w->pg) > 0 ? 0 : missing + 1;
    if (missing < 2)
      continue;
    struct mn_error err = {0};
    if (mn_pg_embedded_revive(w->pg, &err) < 0)
      mn_log_error("pg", "cannot start postgres again: %s", err.msg);
    else
      missing = 0;
  }
  return NULL;
}

struct mn_pg_watch *mn_pg_watch_start(struct mn_pg_embedded *pg, int interval_ms) {
  struct mn_pg_watch *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->pg = pg;
  w->interval_ms = interval_ms > 0 ? interval_ms : 1000;
  pthread_mutex_init(&w->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return NULL;
  }
  return w;
}

void mn_pg_watch_stop(struct mn_pg_watch *w) {
  if (!w)
    return;
  mn_signal_stop(&w->mu, &w->stop, &w->cv);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
}
