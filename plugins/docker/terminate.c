/* terminate.c — terminate: POST /containers/{name}/stop?t=grace (the engine
 * sends SIGTERM, then SIGKILL once the grace period has passed).
 *
 * That call blocks until the container has stopped, and terminate must not:
 * terminate checks the container (so an unreachable engine is reported and
 * retried by the daemon) and hands the stop to the stopper thread, which
 * keeps every stop in flight at once in one curl multi handle. The engine
 * carries a stop out once it has received it, even if this daemon goes away.
 * A grace of 0 is an immediate SIGKILL. */
#include "docker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_state.h"

#define RETRY_DELAY_US 1000000
#define RETRIES_MAX 60
#define POLL_MAX_MS 1000

struct stop_req {
  char name[256];
  int grace;
  int attempts;
  int64_t not_before_us;
  long status;
  CURL *easy;
  struct stop_req *next;
};

struct mn_docker_stopper {
  struct mn_docker *d;
  pthread_mutex_t lock;
  struct stop_req *waiting; /* not yet handed to curl */
  struct stop_req *active;  /* in the multi handle */
  CURLM *multi;
  pthread_t thread;
  int started;
  int stop;
};

static size_t discard(char *data, size_t size, size_t n, void *ctx) { return size * n; }

static int add_easy(struct mn_docker_stopper *s, struct stop_req *r) {
  struct mn_docker *d = s->d;
  char path[512];
  snprintf(path, sizeof path, "/containers/%s/stop?t=%d", r->name, r->grace);
  if (!(r->easy = mn_docker_http_handle(&d->http, path)))
    return -1;
  curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)(r->grace + 60) * 1000L);
  curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
  if (curl_multi_add_handle(s->multi, r->easy) != CURLM_OK) {
    mn_http_handle_put(&d->http.client, r->easy, 0);
    r->easy = NULL;
    return -1;
  }
  return 0;
}

/* Moves due requests into the multi handle; returns ms until the next one
 * is due (POLL_MAX_MS at most). Called with s->lock held. */
static int admit_locked(struct mn_docker_stopper *s) {
  int64_t now = s->d->host->now_us(), wait_ms = POLL_MAX_MS;
  struct stop_req **pp = &s->waiting;
  while (*pp) {
    struct stop_req *r = *pp;
    if (r->not_before_us > now) {
      int64_t ms = (r->not_before_us - now) / 1000 + 1;
      if (ms < wait_ms)
        wait_ms = ms;
      pp = &r->next;
      continue;
    }
    *pp = r->next;
    if (add_easy(s, r) != 0) {
      s->d->host->log(s->d->host, MN_HOST_LOG_WARN, "stop of \"%s\": out of memory", r->name);
      free(r);
      continue;
    }
    r->next = s->active;
    s->active = r;
  }
  return (int)wait_ms;
}

static void unlink_active_locked(struct mn_docker_stopper *s, struct stop_req *r) {
  for (struct stop_req **pp = &s->active; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      return;
    }
}

static void finished(struct mn_docker_stopper *s, CURLMsg *msg) {
  const struct mn_host *host = s->d->host;
  struct stop_req *r = NULL;
  CURL *easy = msg->easy_handle;
  CURLcode result = msg->data.result; /* msg dies with the handle */
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
  curl_multi_remove_handle(s->multi, easy);
  mn_http_handle_put(&s->d->http.client, easy, result == CURLE_OK);
  r->easy = NULL;
  pthread_mutex_lock(&s->lock);
  unlink_active_locked(s, r);
  if (result != CURLE_OK && ++r->attempts < RETRIES_MAX) {
    /* the engine is away (restarting?): the container still has to stop */
    host->log(host, MN_HOST_LOG_WARN, "stop of \"%s\": %s; trying again", r->name,
              curl_easy_strerror(result));
    r->not_before_us = host->now_us() + RETRY_DELAY_US;
    r->next = s->waiting;
    s->waiting = r;
    r = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  if (r) {
    host->log(host, r->status == 204 || r->status == 304 || r->status == 404 ? MN_HOST_LOG_DEBUG
                                                                            : MN_HOST_LOG_WARN,
              "stop of \"%s\" (grace %d s): HTTP %ld", r->name, r->grace, r->status);
    free(r);
  }
}

static void *stopper_main(void *arg) {
  struct mn_docker_stopper *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->lock);
    int stop = s->stop;
    int wait_ms = stop ? 0 : admit_locked(s);
    pthread_mutex_unlock(&s->lock);
    if (stop)
      break;
    int running = 0;
    curl_multi_perform(s->multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left)))
      if (msg->msg == CURLMSG_DONE)
        finished(s, msg);
    curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
  }
  return NULL;
}

int mn_docker_stopper_start(struct mn_docker *d, struct mn_provider_error *err) {
  struct mn_docker_stopper *s = calloc(1, sizeof *s);
  if (!s || !(s->multi = curl_multi_init())) {
    free(s);
    return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  }
  s->d = d;
  pthread_mutex_init(&s->lock, NULL);
  if (pthread_create(&s->thread, NULL, stopper_main, s) != 0) {
    curl_multi_cleanup(s->multi);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot start the stopper thread");
  }
  s->started = 1;
  d->stopper = s;
  return 0;
}

static void free_list(struct mn_docker_stopper *s, struct stop_req *r) {
  while (r) {
    struct stop_req *next = r->next;
    if (r->easy) {
      curl_multi_remove_handle(s->multi, r->easy);
      mn_http_handle_put(&s->d->http.client, r->easy, 0);
    }
    free(r);
    r = next;
  }
}

void mn_docker_stopper_stop(struct mn_docker *d) {
  struct mn_docker_stopper *s = d->stopper;
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  s->stop = 1;
  pthread_mutex_unlock(&s->lock);
  curl_multi_wakeup(s->multi);
  if (s->started)
    pthread_join(s->thread, NULL);
  /* stops in flight were received by the engine, which finishes them */
  free_list(s, s->active);
  free_list(s, s->waiting);
  curl_multi_cleanup(s->multi);
  pthread_mutex_destroy(&s->lock);
  free(s);
  d->stopper = NULL;
}

static int kill_now(struct mn_docker *d, const char *name, struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char path[512], why[512];
  int rc = 0;
  snprintf(path, sizeof path, "/containers/%s/kill?signal=SIGKILL", name);
  if (mn_docker_http_call(&d->http, "POST", path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why))
    return mn_docker_unreachable(d, err, why);
  /* 404: gone; 409: not running */
  if (reply.status != 204 && reply.status != 404 && reply.status != 409)
    rc = mn_docker_refused(d, err, &reply, "cannot kill the container");
  mn_docker_reply_release(&reply);
  return rc;
}

int mn_docker_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                        struct mn_provider_error *err) {
  struct mn_docker *d = state;
  struct mn_docker_stopper *s = d->stopper;
  struct mn_worker_state st;
  int rc;

  if ((rc = mn_docker_ref_name(d, ref, err)) != 0)
    return rc == MN_PROVIDER_E_NOT_FOUND ? 0 : rc; /* not ours: nothing runs under that name */
  if (grace_seconds <= 0)
    return kill_now(d, ref->identifier, err);
  if ((rc = mn_docker_inspect_one(d, ref->identifier, &st, err)) != 0)
    return rc;
  if (st.phase == MN_WORKER_PHASE_MISSING || st.phase == MN_WORKER_PHASE_EXITED)
    return 0;
  struct stop_req *r = calloc(1, sizeof *r);
  if (!r)
    return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  snprintf(r->name, sizeof r->name, "%s", ref->identifier);
  r->grace = grace_seconds;
  pthread_mutex_lock(&s->lock);
  r->next = s->waiting;
  s->waiting = r;
  pthread_mutex_unlock(&s->lock);
  curl_multi_wakeup(s->multi);
  d->host->log(d->host, MN_HOST_LOG_DEBUG, "stopping \"%s\" (grace %d s)", ref->identifier,
               grace_seconds);
  return 0;
}
