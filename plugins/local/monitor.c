/* monitor.c — one background thread per provider instance: it sleeps in
 * poll() on the pidfds of the watched workers (and a wake pipe, and the
 * worker spawner's socket, which reports the exits of the workers it
 * forked), reaps those that exit, records their outcome, and SIGKILLs those whose grace
 * period is over. Workers without a pidfd are checked once a second. */
#define _GNU_SOURCE /* pipe2 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define FALLBACK_POLL_MS 1000
#define PRUNE_EVERY_US (3600 * INT64_C(1000000))

void mn_local_monitor_wake(struct mn_local *l) {
  if (l->wake[1] >= 0) {
    ssize_t n = write(l->wake[1], "w", 1); /* a full pipe is wake enough */
    (void)n;
  }
}

static void drain(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

/* Builds the poll set; returns the poll timeout in ms. Lock held. */
static int prepare_poll(struct mn_local *l, int64_t next_kill, struct pollfd **fds, size_t *nfds) {
  int timeout = -1;
  struct pollfd *p = realloc(*fds, (l->n_watches + 2) * sizeof *p);
  if (!p) {
    *nfds = 1;
    return FALLBACK_POLL_MS; /* keep the old set's first slot: the wake pipe */
  }
  *fds = p;
  p[0] = (struct pollfd){.fd = l->wake[0], .events = POLLIN};
  *nfds = 1;
  if (mn_local_zygote_fd_locked(l) >= 0)
    p[(*nfds)++] = (struct pollfd){.fd = mn_local_zygote_fd_locked(l), .events = POLLIN};
  for (size_t i = 0; i < l->n_watches; i++) {
    const struct mn_local_watch *w = &l->watches[i];
    if (w->zygote_gen && !w->done)
      continue; /* the spawner reports its exit */
    if (w->pidfd >= 0 && !w->done)
      p[(*nfds)++] = (struct pollfd){.fd = w->pidfd, .events = POLLIN};
    else
      timeout = FALLBACK_POLL_MS;
  }
  if (next_kill) {
    int64_t ms = (next_kill - l->host->now_us() + 999) / 1000;
    if (ms < 0)
      ms = 0;
    if (timeout < 0 || ms < timeout)
      timeout = ms > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)ms;
  }
  return timeout;
}

static void *monitor_main(void *arg) {
  struct mn_local *l = arg;
  (void)prctl(PR_SET_NAME, "mn-local-watch", 0, 0, 0); /* as ps -L shows it */
  struct pollfd *fds = NULL;
  size_t nfds = 0;

  int64_t next_prune = 0;
  pthread_mutex_lock(&l->lock);
  while (!l->stop) {
    int64_t now = l->host->now_us();
    if (now >= next_prune) { /* at start, then hourly */
      pthread_mutex_unlock(&l->lock);
      mn_local_prune(l);
      pthread_mutex_lock(&l->lock);
      next_prune = now + PRUNE_EVERY_US;
      continue;
    }
    int64_t next_kill = mn_local_sweep_locked(l);
    int timeout = prepare_poll(l, next_kill, &fds, &nfds);
    int64_t to_prune_ms = (next_prune - now) / 1000 + 1;
    if (timeout < 0 || to_prune_ms < timeout)
      timeout = (int)to_prune_ms;
    pthread_mutex_unlock(&l->lock);
    poll(fds, fds ? nfds : 0, timeout); /* no set (out of memory): just sleep */
    pthread_mutex_lock(&l->lock);
    drain(l->wake[0]);
    mn_local_zygote_read_locked(l);
    for (size_t i = 0; i < l->n_closing; i++)
      close(l->closing[i]);
    l->n_closing = 0;
  }
  pthread_mutex_unlock(&l->lock);
  free(fds);
  return NULL;
}

int mn_local_monitor_start(struct mn_local *l, struct mn_provider_error *err) {
  sigset_t all, old;
  if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    l->wake[0] = l->wake[1] = -1;
    return l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot create a pipe: %s",
                          strerror(errno));
  }
  /* The thread takes no signals: they are the daemon's business. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&l->monitor, NULL, monitor_main, l);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0)
    return l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot start a thread: %s", strerror(rc));
  l->monitor_started = 1;
  return 0;
}

void mn_local_monitor_stop(struct mn_local *l) {
  if (l->monitor_started) {
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    mn_local_monitor_wake(l);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->monitor, NULL);
    l->monitor_started = 0;
  }
  for (size_t i = 0; i < l->n_closing; i++)
    close(l->closing[i]);
  l->n_closing = 0;
  for (int i = 0; i < 2; i++)
    if (l->wake[i] >= 0)
      close(l->wake[i]);
  l->wake[0] = l->wake[1] = -1;
}
