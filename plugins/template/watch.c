/* watch.c — the provider's one thread (template.h). It long-polls the API's
 * event feed for this cluster's workers and calls host->wake when one
 * exits, so the daemon inspects at once instead of at its next status poll
 * (scheduler.inspect_interval_ms). Without it everything still works, only
 * later. A provider whose platform has a watch, an event stream or a
 * blocking query does the same; one that has none needs no thread.
 *
 * Rules for a provider's threads: start them last in init, stop and join
 * them first in shutdown (the daemon unloads the code right after), wait
 * on a condition variable that shutdown signals (never sleep), and call no
 * host function but log, now_us and wake from them. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "template.h"

#define WAIT_MS 500        /* one long poll: also how long shutdown may wait */
#define BACKOFF_MIN_MS 200 /* after a failed poll, doubling ... */
#define BACKOFF_MAX_MS 5000

static int stopping(struct tpl *t) {
  pthread_mutex_lock(&t->lock);
  int stop = t->stop;
  pthread_mutex_unlock(&t->lock);
  return stop;
}

/* Waits ms, or less when shutdown signals. */
static void pause_ms(struct tpl *t, int ms) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + (int64_t)ms * 1000000;
  struct timespec until = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
  pthread_mutex_lock(&t->lock);
  if (!t->stop)
    pthread_cond_timedwait(&t->cond, &t->lock, &until);
  pthread_mutex_unlock(&t->lock);
}

static void wake(const struct mn_host *host) {
  /* wake is in the host table since 1.0; a field a later minor version
   * appended is tested with MN_HOST_HAS first (config.c: config_load). */
  if (host->wake)
    host->wake(host);
}

static void *watch_main(void *arg) {
  struct tpl *t = arg;
  const struct mn_host *host = t->host;
  json_int_t after = 0;
  int backoff = BACKOFF_MIN_MS, failing = 0;
  while (!stopping(t)) {
    char path[400];
    json_t *ans;
    struct mn_provider_error err = {0};
    snprintf(path, sizeof path,
             "/v1/events?owner=%s&after=%" JSON_INTEGER_FORMAT "&wait_ms=%d", t->owner, after,
             WAIT_MS);
    int rc = tpl_call(t, "GET", path, NULL, &ans, NULL, &err);
    if (rc == 0 && !json_is_integer(json_object_get(ans, "last_seq"))) {
      rc = host->error(&err, MN_PROVIDER_E_TRANSIENT, "compute API: GET /v1/events: no last_seq");
      json_decref(ans);
    }
    if (rc != 0) {
      if (!failing++) /* once per outage, not once per poll */
        host->log(host, err.code == MN_PROVIDER_E_AUTH ? MN_HOST_LOG_ERROR : MN_HOST_LOG_WARN,
                  "event feed: %s (retrying; statuses are polled meanwhile)", err.msg);
      pause_ms(t, backoff);
      backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
      continue;
    }
    if (failing)
      host->log(host, MN_HOST_LOG_INFO, "event feed: back after %d failed polls", failing);
    failing = 0;
    backoff = BACKOFF_MIN_MS;
    int exited = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(ans, "events"), i, ev) {
      const char *status = json_string_value(json_object_get(ev, "status"));
      exited |= status && strcmp(status, "exited") == 0;
    }
    json_int_t last = json_integer_value(json_object_get(ans, "last_seq"));
    if (last < after)
      exited = 1; /* the API restarted and numbers from 0 again: exits may be unseen */
    after = last;
    json_decref(ans);
    if (exited)
      wake(host);
  }
  return NULL;
}

int tpl_watch_start(struct tpl *t, struct mn_provider_error *err) {
  if (pthread_create(&t->watcher, NULL, watch_main, t) != 0)
    return t->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot start the event thread");
  t->watcher_started = 1;
  return 0;
}

void tpl_watch_stop(struct tpl *t) {
  if (!t->watcher_started)
    return;
  pthread_mutex_lock(&t->lock);
  t->stop = 1;
  pthread_cond_signal(&t->cond);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->watcher, NULL); /* at most one long poll: WAIT_MS */
  t->watcher_started = 0;
}
