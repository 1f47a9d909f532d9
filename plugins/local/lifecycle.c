/* lifecycle.c — a worker's life as the records tell it: running, exited
 * (reaped, or found gone), killed after its grace period, adopted after a
 * daemon restart. All with the provider's lock held. */
#include "local.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "procstate.h"

#define GONE_WHILE_DOWN "worker ended while the daemon was down"

void mn_local_record_state(const struct mn_local_record *rec, struct mn_worker_state *state) {
  memset(state, 0, sizeof *state);
  if (rec->status == MN_LOCAL_RUNNING) {
    state->phase = MN_WORKER_PHASE_RUNNING;
    return;
  }
  state->phase = MN_WORKER_PHASE_EXITED;
  state->exit_code = rec->exit_code;
  snprintf(state->reason, sizeof state->reason, "%s", rec->reason);
}

/* Records the outcome; forgets the watch (if any) once it is on disk.
 * Whatever the worker left running dies with it first: its cgroup is
 * killed (the worker's own subreaper, the spawner's, and the session kill
 * at reaping, watch.c, cover machines without one). */
static void finalize_locked(struct mn_local *l, struct mn_local_record *rec,
                            struct mn_local_watch *w, int code, const char *reason) {
  if (rec->cgroup[0]) {
    int rc = mn_local_cgroup_kill(rec->cgroup);
    if (rc != 0 && rc != -ENOENT)
      l->host->log(l->host, MN_HOST_LOG_WARN, "execution \"%s\": cannot kill cgroup %s: %s",
                   rec->execution_id, rec->cgroup, strerror(-rc));
  }
  rec->status = MN_LOCAL_EXITED;
  rec->exit_code = code;
  snprintf(rec->reason, sizeof rec->reason, "%s", reason);
  rec->kill_deadline_us = 0;
  int rc = mn_local_record_write(l->dir, rec);
  if (rc != 0) {
    l->host->log(l->host, MN_HOST_LOG_ERROR,
                 "cannot record the end of execution \"%s\" (will retry): %s", rec->execution_id,
                 strerror(-rc));
    return;
  }
  l->host->log(l->host, MN_HOST_LOG_DEBUG, "execution \"%s\": worker pid %ld %s", rec->execution_id,
               (long)rec->pid, rec->reason);
  if (w)
    mn_local_watch_remove_locked(l, w);
  /* tell the daemon now rather than at its next status poll */
  if (l->host->struct_size >= offsetof(struct mn_host, wake) + sizeof l->host->wake &&
      l->host->wake)
    l->host->wake(l->host);
}

/* Starts watching the process of a RUNNING record that nothing watches
 * (one an earlier daemon started). Returns 1 when it is alive, else 0. */
static int watch_locked(struct mn_local *l, const struct mn_local_record *rec) {
  if (!mn_local_proc_is_alive(rec->pid, rec->start_time))
    return 0;
  /* Open first, then check again: the pidfd now surely names this process. */
  int pidfd = pidfd_open(rec->pid, 0); /* -1: the watch polls /proc */
  if (!mn_local_proc_is_alive(rec->pid, rec->start_time)) {
    if (pidfd >= 0)
      close(pidfd);
    return 0;
  }
  if (mn_local_watch_add_locked(l, rec->execution_id, rec->pid, rec->start_time, pidfd,
                                rec->kill_deadline_us) != 0 &&
      pidfd >= 0)
    close(pidfd); /* out of memory: the next refresh tries again */
  return 1;
}

void mn_local_refresh_locked(struct mn_local *l, struct mn_local_record *rec) {
  if (rec->status != MN_LOCAL_RUNNING)
    return;
  struct mn_local_watch *w = mn_local_watch_find_locked(l, rec->execution_id);
  if (w) {
    if (mn_local_watch_check(w)) {
      char reason[sizeof w->reason];
      snprintf(reason, sizeof reason, "%s", w->reason);
      finalize_locked(l, rec, w, w->exit_code, reason);
    }
    return;
  }
  if (!watch_locked(l, rec))
    finalize_locked(l, rec, NULL, -1, GONE_WHILE_DOWN);
}

/* The worker leads its own session and process group. SIGTERM goes to its
 * group (the worker forwards it to the command's group); SIGKILL goes to the
 * whole session, so a command in a process group of its own dies too. */
static void kill_group(pid_t pid, int sig) {
  if (kill(-pid, sig) != 0 && errno == ESRCH)
    kill(pid, sig);
  if (sig == SIGKILL)
    mn_local_kill_session(pid, SIGKILL);
}

void mn_local_signal_locked(struct mn_local *l, const struct mn_local_record *rec, int sig) {
  struct mn_local_watch *w = mn_local_watch_find_locked(l, rec->execution_id);
  int alive = w ? mn_local_watch_alive(w) : mn_local_proc_is_alive(rec->pid, rec->start_time);
  if (alive)
    kill_group(rec->pid, sig);
  if (sig == SIGKILL && rec->cgroup[0])
    mn_local_cgroup_kill(rec->cgroup);
}

/* The grace period of w is over: SIGKILL its group. */
static void kill_due_locked(struct mn_local *l, struct mn_local_watch *w) {
  struct mn_local_record rec;
  char why[256];
  int have = mn_local_record_read(l->dir, w->execution_id, &rec, why, sizeof why) == 0;

  if (mn_local_watch_alive(w))
    kill_group(w->pid, SIGKILL);
  if (have && rec.cgroup[0])
    mn_local_cgroup_kill(rec.cgroup);
  l->host->log(l->host, MN_HOST_LOG_INFO,
               "execution \"%s\": worker pid %ld outlived its grace period; killed",
               w->execution_id, (long)w->pid);
  w->kill_deadline_us = 0;
  if (have) {
    rec.kill_deadline_us = 0;
    mn_local_record_write(l->dir, &rec);
  }
}

int64_t mn_local_sweep_locked(struct mn_local *l) {
  int64_t now = l->host->now_us();
  int64_t next = 0;
  size_t i = 0;
  while (i < l->n_watches) {
    struct mn_local_watch *w = &l->watches[i];
    size_t before = l->n_watches;
    if (mn_local_watch_check(w)) {
      struct mn_local_record rec;
      char why[256];
      int rc = mn_local_record_read(l->dir, w->execution_id, &rec, why, sizeof why);
      if (rc == 0 && rec.status == MN_LOCAL_RUNNING) {
        char reason[sizeof w->reason];
        snprintf(reason, sizeof reason, "%s", w->reason);
        finalize_locked(l, &rec, w, w->exit_code, reason);
      } else {
        mn_local_watch_remove_locked(l, w); /* nothing (left) to record */
      }
      if (l->n_watches < before)
        continue; /* the slot now holds another watch */
    } else if (w->kill_deadline_us && now >= w->kill_deadline_us) {
      kill_due_locked(l, w);
    }
    if (w->kill_deadline_us && (next == 0 || w->kill_deadline_us < next))
      next = w->kill_deadline_us;
    i++;
  }
  return next;
}

struct adopt_ctx {
  struct mn_local *l;
  size_t adopted;
};

static int adopt_one(void *vctx, const char *id) {
  struct adopt_ctx *ctx = vctx;
  struct mn_local *l = ctx->l;
  struct mn_local_record rec;
  char why[512];
  int rc = mn_local_record_read(l->dir, id, &rec, why, sizeof why);
  if (rc == -ENOENT)
    return 0; /* a log without a record: a launch that did not finish */
  if (rc != 0) {
    l->host->log(l->host, MN_HOST_LOG_WARN, "ignoring an unreadable record of \"%s\": %s", id,
                 rc == -EINVAL ? why : strerror(-rc));
    return 0;
  }
  if (rec.status != MN_LOCAL_RUNNING)
    return 0;
  if (watch_locked(l, &rec)) {
    ctx->adopted++;
    return 0;
  }
  finalize_locked(l, &rec, NULL, -1, GONE_WHILE_DOWN);
  return 0;
}

void mn_local_adopt(struct mn_local *l) {
  struct adopt_ctx ctx = {l, 0};
  pthread_mutex_lock(&l->lock);
  mn_local_record_foreach(l->dir, adopt_one, &ctx);
  pthread_mutex_unlock(&l->lock);
  if (ctx.adopted)
    l->host->log(l->host, MN_HOST_LOG_INFO, "watching %zu worker(s) started before a restart",
                 ctx.adopted);
}
