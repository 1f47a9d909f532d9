/* watch.c — the list of worker processes the daemon watches, and how one is
 * found to have exited (reaped as our child, or seen gone through its pidfd
 * or /proc when an earlier daemon started it). */
#include "local.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procstate.h"

#ifndef P_PIDFD
#define P_PIDFD ((idtype_t)3)
#endif

struct mn_local_watch *mn_local_watch_find_locked(struct mn_local *l, const char *execution_id) {
  for (size_t i = 0; i < l->n_watches; i++)
    if (strcmp(l->watches[i].execution_id, execution_id) == 0)
      return &l->watches[i];
  return NULL;
}

int mn_local_watch_add_locked(struct mn_local *l, const char *execution_id, pid_t pid,
                              uint64_t start_time, int pidfd, int64_t kill_deadline_us) {
  if (l->n_watches == l->cap_watches) {
    size_t cap = l->cap_watches ? l->cap_watches * 2 : 16;
    struct mn_local_watch *w = realloc(l->watches, cap * sizeof *w);
    if (!w)
      return -ENOMEM;
    l->watches = w;
    l->cap_watches = cap;
  }
  struct mn_local_watch *w = &l->watches[l->n_watches++];
  memset(w, 0, sizeof *w);
  snprintf(w->execution_id, sizeof w->execution_id, "%s", execution_id);
  w->pid = pid;
  w->start_time = start_time;
  w->pidfd = pidfd;
  w->kill_deadline_us = kill_deadline_us;
  mn_local_monitor_wake(l);
  return 0;
}

void mn_local_close_later_locked(struct mn_local *l, int fd) {
  /* The monitor may be polling it right now: it closes it after poll(). */
  if (l->n_closing == l->cap_closing) {
    size_t cap = l->cap_closing ? l->cap_closing * 2 : 16;
    int *c = realloc(l->closing, cap * sizeof *c);
    if (c) {
      l->closing = c;
      l->cap_closing = cap;
    }
  }
  if (l->n_closing < l->cap_closing)
    l->closing[l->n_closing++] = fd;
  else
    close(fd); /* out of memory: close now; poll() copes */
}

void mn_local_watch_remove_locked(struct mn_local *l, struct mn_local_watch *w) {
  if (w->pidfd >= 0)
    mn_local_close_later_locked(l, w->pidfd);
  size_t i = (size_t)(w - l->watches);
  l->watches[i] = l->watches[--l->n_watches];
  mn_local_monitor_wake(l);
}

static void set_outcome(struct mn_local_watch *w, int code, const char *reason) {
  w->done = 1;
  w->exit_code = code;
  snprintf(w->reason, sizeof w->reason, "%s", reason);
}

/* A process that is not our child: is it gone? */
static int gone(const struct mn_local_watch *w) {
  if (w->pidfd >= 0) {
    struct pollfd p = {.fd = w->pidfd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  }
  return !mn_local_proc_is_alive(w->pid, w->start_time);
}

void mn_local_watch_exited(struct mn_local_watch *w, int wait_status) {
  char reason[64];
  if (WIFSIGNALED(wait_status)) {
    snprintf(reason, sizeof reason, "killed by signal %d", WTERMSIG(wait_status));
    set_outcome(w, 128 + WTERMSIG(wait_status), reason);
  } else {
    snprintf(reason, sizeof reason, "exited with code %d", WEXITSTATUS(wait_status));
    set_outcome(w, WEXITSTATUS(wait_status), reason);
  }
}

int mn_local_watch_alive(struct mn_local_watch *w) {
  if (w->zygote_gen && !w->done)
    return !gone(w); /* its pid may be free again once the spawner reaped it */
  return !mn_local_watch_check(w);
}

int mn_local_watch_check(struct mn_local_watch *w) {
  siginfo_t si;
  char reason[64];
  int r = -1;

  if (w->done)
    return 1;
  /* Not yet allowed to run; or the spawner reports its exit. */
  if (w->launching || w->zygote_gen)
    return 0;
  /* Look first, reap after: while the worker is a zombie its pid names its
   * session still, so what it left there can be killed (it leads its own
   * session; a worker killed outright, or one that is not multinode-worker,
   * does not clean up after its command). */
  int by_pidfd = w->pidfd >= 0;
  memset(&si, 0, sizeof si);
  if (by_pidfd)
    r = waitid(P_PIDFD, w->pidfd, &si, WEXITED | WNOHANG | WNOWAIT);
  if (!by_pidfd || (r < 0 && errno == EINVAL)) { /* no P_PIDFD: kernel < 5.4 */
    by_pidfd = 0;
    r = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT);
  }
  if (r == 0 && si.si_pid != 0) {
    mn_local_kill_session(w->pid, SIGKILL);
    siginfo_t reaped;
    memset(&reaped, 0, sizeof reaped);
    if (by_pidfd)
      waitid(P_PIDFD, w->pidfd, &reaped, WEXITED | WNOHANG);
    else
      waitid(P_PID, (id_t)w->pid, &reaped, WEXITED | WNOHANG);
  }

  if (r == 0 && si.si_pid == 0)
    return 0; /* our child, still running */
  if (r == 0 && si.si_code == CLD_EXITED) {
    snprintf(reason, sizeof reason, "exited with code %d", si.si_status);
    set_outcome(w, si.si_status, reason);
    return 1;
  }
  if (r == 0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)) {
    snprintf(reason, sizeof reason, "killed by signal %d", si.si_status);
    set_outcome(w, 128 + si.si_status, reason);
    return 1;
  }
  if (r == 0)
    return 0; /* stopped or continued: not an exit */

  /* ECHILD: started by an earlier daemon (or SIGCHLD is ignored). */
  if (!gone(w))
    return 0;
  set_outcome(w, -1,
              "worker ended; its exit status is unknown (it is not a child of this "
              "daemon process)");
  return 1;
}
