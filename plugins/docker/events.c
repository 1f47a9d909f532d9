/* events.c — a thread follows the engine's event stream (GET /events,
 * filtered to this cluster's containers dying) and calls host->wake, so the
 * daemon inspects at once instead of at its next status poll. Without it
 * everything still works, only later. It reconnects after the engine
 * restarts. */
#include "docker.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container_spec.h"

#define RECONNECT_MIN_MS 200
#define RECONNECT_MAX_MS 5000

struct mn_docker_events {
  struct mn_docker *d;
  char line[4096]; /* the event being received (one JSON object a line) */
  size_t len;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop;
  char path[1024];
};

static int stopping(struct mn_docker_events *e) {
  pthread_mutex_lock(&e->lock);
  int stop = e->stop;
  pthread_mutex_unlock(&e->lock);
  return stop;
}

static void wake(const struct mn_host *host) {
  if (host->struct_size >= offsetof(struct mn_host, wake) + sizeof host->wake && host->wake)
    host->wake(host);
}

/* The engine announces "die" before it has recorded the exit (the list
 * still says running); GET /containers/{id}/json waits for the container's
 * lock, so once it answers the exit is visible, and the daemon is woken. */
static void on_line(struct mn_docker_events *e) {
  struct mn_docker_reply reply;
  char path[256], why[512];
  e->line[e->len] = '\0';
  json_t *j = json_loads(e->line, 0, NULL);
  const char *id = json_string_value(json_object_get(j, "id"));
  if (id && strlen(id) < 100) {
    snprintf(path, sizeof path, "/containers/%s/json", id);
    if (mn_docker_http_call(&e->d->http, "GET", path, NULL, 10000L, &reply, why, sizeof why) == 0)
      mn_docker_reply_release(&reply);
  }
  json_decref(j);
  wake(e->d->host);
}

static size_t on_event(char *data, size_t size, size_t n, void *ctx) {
  struct mn_docker_events *e = ctx;
  if (stopping(e))
    return 0;
  for (size_t i = 0; i < size * n; i++) {
    if (data[i] == '\n') {
      on_line(e);
      e->len = 0;
    } else if (e->len < sizeof e->line - 1) {
      e->line[e->len++] = data[i];
    }
  }
  return size * n;
}

static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  return stopping(ctx); /* nonzero aborts the transfer */
}

/* Like mn_docker_http_stream, but with no time limit and a progress check
 * so that shutdown ends it within a second. */
static void follow(struct mn_docker_events *e) {
  struct mn_docker *d = e->d;
  CURL *c = mn_docker_http_handle(&d->http, e->path);
  if (!c)
    return;
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_event);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, e);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, e);
  e->len = 0;
  curl_easy_perform(c);
  mn_http_handle_put(&d->http.client, c, 0); /* the stream's connection ended or was cut */
}

static void *events_main(void *arg) {
  struct mn_docker_events *e = arg;
  struct mn_docker *d = e->d;
  int delay_ms = RECONNECT_MIN_MS;
  while (!stopping(e)) {
    struct mn_docker_reply reply;
    char why[512];
    /* a cheap call first: it negotiates the version and shows the engine is up */
    if (mn_docker_http_call(&d->http, "GET", "/_ping", NULL, 5000L, &reply, why, sizeof why) ==
        0) {
      mn_docker_reply_release(&reply);
      delay_ms = RECONNECT_MIN_MS;
      follow(e);
      /* the stream ended: the engine restarted; some exits may be unseen */
      if (!stopping(e))
        wake(d->host);
    } else if (delay_ms < RECONNECT_MAX_MS) {
      delay_ms *= 2;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += delay_ms / 1000;
    until.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->lock);
    if (!e->stop)
      pthread_cond_timedwait(&e->cond, &e->lock, &until);
    pthread_mutex_unlock(&e->lock);
  }
  return NULL;
}

int mn_docker_events_start(struct mn_docker *d, struct mn_provider_error *err) {
  char filters[600], escaped[1000];
  struct mn_docker_events *e = calloc(1, sizeof *e);
  if (!e)
    return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  e->d = d;
  json_t *f = json_pack("{s:[s], s:[s,s], s:[s+]}", "type", "container", "event", "die", "oom",
                        "label", MN_DOCKER_LABEL_CLUSTER "=",
                        d->host->cluster_id ? d->host->cluster_id : "");
  char *text = f ? json_dumps(f, JSON_COMPACT) : NULL;
  json_decref(f);
  int ok = text && snprintf(filters, sizeof filters, "%s", text) < (int)sizeof filters &&
           mn_http_escape(filters, escaped, sizeof escaped) == 0;
  free(text);
  if (!ok) {
    free(e);
    return d->host->error(err, MN_PROVIDER_E_INVALID, "cluster id too long for an event filter");
  }
  snprintf(e->path, sizeof e->path, "/events?filters=%s", escaped);
  pthread_mutex_init(&e->lock, NULL);
  pthread_cond_init(&e->cond, NULL);
  if (pthread_create(&e->thread, NULL, events_main, e) != 0) {
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->cond);
    free(e);
    return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot start the events thread");
  }
  d->events = e;
  return 0;
}

void mn_docker_events_stop(struct mn_docker *d) {
  struct mn_docker_events *e = d->events;
  if (!e)
    return;
  pthread_mutex_lock(&e->lock);
  e->stop = 1;
  pthread_cond_signal(&e->cond);
  pthread_mutex_unlock(&e->lock);
  pthread_join(e->thread, NULL);
  pthread_mutex_destroy(&e->lock);
  pthread_cond_destroy(&e->cond);
  free(e);
  d->events = NULL;
}
