/* terminate.c — terminate (SIGTERM to the worker's process group now,
 * SIGKILL once the grace period is over — the deadline is in the record, so
 * it survives a daemon restart) and release (keep the log and the working
 * directory until the retention, kill and drop the cgroup, stop listing
 * the worker). */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Reads the record of ref; 1 when there is one, 0 when there is none (or
 * the id cannot be ours), negative with err on a read failure. */
static int read_ref_locked(struct mn_local *l, const struct mn_worker_ref *ref,
                           struct mn_local_record *rec, struct mn_provider_error *err) {
  char why[512];
  if (!mn_local_id_valid(ref->identifier))
    return 0;
  int rc = mn_local_record_read(l->dir, ref->identifier, rec, why, sizeof why);
  if (rc == -ENOENT)
    return 0;
  if (rc != 0)
    return l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot read the record of \"%s\": %s",
                          ref->identifier, rc == -EINVAL ? why : strerror(-rc));
  return 1;
}

static int terminate_locked(struct mn_local *l, const struct mn_worker_ref *ref, int grace_seconds,
                            struct mn_provider_error *err) {
  struct mn_local_record rec;
  int rc = read_ref_locked(l, ref, &rec, err);
  if (rc <= 0)
    return rc; /* gone (success) or unreadable */
  mn_local_refresh_locked(l, &rec);
  if (rec.status != MN_LOCAL_RUNNING)
    return 0; /* exited already: success */

  if (grace_seconds <= 0) {
    mn_local_signal_locked(l, &rec, SIGKILL);
    return 0;
  }
  mn_local_signal_locked(l, &rec, SIGTERM);
  int64_t deadline = l->host->now_us() + (int64_t)grace_seconds * 1000000;
  if (rec.kill_deadline_us && rec.kill_deadline_us <= deadline)
    return 0; /* an earlier terminate already set a sooner kill */
  rec.kill_deadline_us = deadline;
  rc = mn_local_record_write(l->dir, &rec);
  if (rc != 0)
    return l->host->error(err, MN_PROVIDER_E_TRANSIENT,
                          "cannot record the kill deadline of \"%s\": %s", rec.execution_id,
                          strerror(-rc));
  struct mn_local_watch *w = mn_local_watch_find_locked(l, rec.execution_id);
  if (w) {
    w->kill_deadline_us = deadline;
    mn_local_monitor_wake(l);
  }
  return 0;
}

int mn_local_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                       struct mn_provider_error *err) {
  struct mn_local *l = state;
  pthread_mutex_lock(&l->lock);
  int rc = terminate_locked(l, ref, grace_seconds, err);
  pthread_mutex_unlock(&l->lock);
  return rc;
}

static int release_locked(struct mn_local *l, const struct mn_worker_ref *ref,
                          struct mn_provider_error *err) {
  struct mn_local_record rec;
  int rc = read_ref_locked(l, ref, &rec, err);
  if (rc <= 0)
    return rc;
  if (rec.released)
    return 0;
  mn_local_refresh_locked(l, &rec);
  if (rec.status == MN_LOCAL_RUNNING)
    mn_local_signal_locked(l, &rec, SIGKILL); /* released while running: nothing may remain */
  if (rec.cgroup[0]) {
    mn_local_cgroup_kill(rec.cgroup); /* whatever is left, however it got there */
    rc = mn_local_cgroup_remove(rec.cgroup);
    if (rc == -EBUSY)
      return l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cgroup %s still holds processes",
                            rec.cgroup);
    if (rc != 0)
      l->host->log(l->host, MN_HOST_LOG_WARN, "cannot remove cgroup %s: %s", rec.cgroup,
                   strerror(-rc));
    rec.cgroup[0] = '\0';
  }
  rec.released = 1;
  rc = mn_local_record_write(l->dir, &rec);
  if (rc != 0)
    return l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot write the record of \"%s\": %s",
                          rec.execution_id, strerror(-rc));
  /* the retention counts from now: the log's modification time (prune.c) */
  char log[PATH_MAX];
  if (mn_local_record_path(l->dir, rec.execution_id, ".log", log, sizeof log) == 0)
    utimensat(AT_FDCWD, log, NULL, 0);
  return 0;
}

/* The cgroup of ref's worker, if it still has one ("" otherwise). */
static void cgroup_of(struct mn_local *l, const struct mn_worker_ref *ref, char *out,
                      size_t size) {
  struct mn_local_record rec;
  char why[256];
  out[0] = '\0';
  pthread_mutex_lock(&l->lock);
  if (mn_local_id_valid(ref->identifier) &&
      mn_local_record_read(l->dir, ref->identifier, &rec, why, sizeof why) == 0 && !rec.released)
    snprintf(out, size, "%s", rec.cgroup);
  pthread_mutex_unlock(&l->lock);
}

int mn_local_release(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err) {
  struct mn_local *l = state;
  char cgroup[PATH_MAX];
  /* Killed processes take a moment to leave their cgroup: wait for that
   * (on cgroup.events) without the lock, then remove it under the lock. */
  cgroup_of(l, ref, cgroup, sizeof cgroup);
  if (cgroup[0] && mn_local_cgroup_kill(cgroup) == 0)
    mn_local_cgroup_wait_empty(cgroup, MN_LOCAL_CGROUP_EMPTY_WAIT_MS);
  pthread_mutex_lock(&l->lock);
  int rc = release_locked(l, ref, err);
  pthread_mutex_unlock(&l->lock);
  return rc;
}
