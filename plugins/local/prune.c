/* prune.c — the record and log of a worker that ended and was released
 * are deleted once providers.<name>.retention has passed since (the
 * record's last change is its release), as the scheduler's retention
 * deletes old invocations; without it the data directory only grows.
 * Running, unreleased and watched workers are never touched. */
#include "local.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct prune {
  struct mn_local *l;
  time_t cutoff;
  int n;
};

static int prune_one(void *ctx, const char *id) {
  struct prune *p = ctx;
  struct mn_local *l = p->l;
  struct mn_local_record rec;
  struct stat st;
  char record[PATH_MAX], log[PATH_MAX], why[256];
  if (mn_local_record_path(l->dir, id, ".json", record, sizeof record) != 0 ||
      mn_local_record_path(l->dir, id, ".log", log, sizeof log) != 0)
    return 0;
  pthread_mutex_lock(&l->lock); /* one record at a time: launches go on */
  if (stat(record, &st) == 0 && st.st_mtime < p->cutoff &&
      mn_local_record_read(l->dir, id, &rec, why, sizeof why) == 0 &&
      rec.status == MN_LOCAL_EXITED && rec.released && !mn_local_watch_find_locked(l, id)) {
    unlink(log);
    unlink(record);
    p->n++;
  }
  pthread_mutex_unlock(&l->lock);
  return 0;
}

void mn_local_prune(struct mn_local *l) {
  if (l->conf.retention_seconds <= 0)
    return;
  struct prune p = {l, (time_t)(l->host->now_us() / 1000000 - l->conf.retention_seconds), 0};
  mn_local_record_foreach(l->dir, prune_one, &p);
  if (p.n > 0)
    l->host->log(l->host, MN_HOST_LOG_INFO,
                 "deleted the records and logs of %d worker(s) released more than %lld s ago",
                 p.n, (long long)l->conf.retention_seconds);
}
