/* prune.c — the log (with its record, state_file.h) and working directory
 * of a worker that ended and was released are deleted once
 * providers.<name>.retention has passed since its release (which sets the
 * log's modification time), as the scheduler's retention deletes old
 * invocations; without it the data directory only grows. Running,
 * unreleased and watched workers are never touched. A log without a record
 * or a working directory without a log (a launch cut short by a crash,
 * never retried) goes once it is as old. */
#include "local.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workdir.h"

struct prune {
  struct mn_local *l;
  time_t cutoff;
  int n;
};

/* Whether the files of id (its log, a record file) were last changed
 * before the cutoff; 0 when it has none. */
static bool older_than_cutoff(const struct prune *p, const char *id) {
  const char *suffixes[] = {".log", ".json"};
  char path[PATH_MAX];
  struct stat st;
  bool any = false;
  for (size_t i = 0; i < 2; i++) {
    if (mn_local_record_path(p->l->dir, id, suffixes[i], path, sizeof path) != 0)
      return false;
    if (stat(path, &st) != 0)
      continue;
    if (st.st_mtime >= p->cutoff)
      return false;
    any = true;
  }
  return any;
}

static int prune_one(void *ctx, const char *id) {
  struct prune *p = ctx;
  struct mn_local *l = p->l;
  struct mn_local_record rec;
  char why[256];
  pthread_mutex_lock(&l->lock); /* one execution at a time: launches go on */
  int rc = mn_local_record_read(l->dir, id, &rec, why, sizeof why);
  bool done = rc == 0 ? rec.status == MN_LOCAL_EXITED && rec.released &&
                            !mn_local_watch_find_locked(l, id)
                      : rc == -ENOENT && !mn_local_launching_locked(l, id);
  if (done && older_than_cutoff(p, id)) {
    rc = mn_local_tree_remove(l->work, id);
    if (rc != 0)
      l->host->log(l->host, MN_HOST_LOG_WARN, "cannot remove the working directory %s/%s: %s",
                   l->work, id, strerror(-rc));
    mn_local_record_remove(l->dir, id);
    p->n++;
  }
  pthread_mutex_unlock(&l->lock);
  return 0;
}

/* Working directories with neither log nor record, older than the cutoff. */
static void prune_strays(struct prune *p) {
  struct mn_local *l = p->l;
  DIR *d = opendir(l->work);
  struct dirent *e;
  char log[PATH_MAX], record[PATH_MAX], path[PATH_MAX];
  struct stat st;
  while (d && (e = readdir(d)) != NULL) {
    if (!mn_local_id_valid(e->d_name) ||
        mn_local_record_path(l->dir, e->d_name, ".log", log, sizeof log) != 0 ||
        mn_local_record_path(l->dir, e->d_name, ".json", record, sizeof record) != 0 ||
        snprintf(path, sizeof path, "%s/%s", l->work, e->d_name) >= (int)sizeof path)
      continue;
    pthread_mutex_lock(&l->lock); /* a launch creates it before the log */
    if (access(log, F_OK) != 0 && errno == ENOENT && access(record, F_OK) != 0 &&
        errno == ENOENT && !mn_local_launching_locked(l, e->d_name) && lstat(path, &st) == 0 &&
        st.st_mtime < p->cutoff && mn_local_tree_remove(l->work, e->d_name) == 0)
      p->n++;
    pthread_mutex_unlock(&l->lock);
  }
  if (d)
    closedir(d);
}

void mn_local_prune(struct mn_local *l) {
  if (l->conf.retention_seconds <= 0)
    return;
  struct prune p = {l, (time_t)(l->host->now_us() / 1000000 - l->conf.retention_seconds), 0};
  mn_local_record_foreach(l->dir, prune_one, &p);
  prune_strays(&p);
  if (p.n > 0)
    l->host->log(l->host, MN_HOST_LOG_INFO,
                 "deleted the records and logs of %d worker(s) released more than %lld s ago",
                 p.n, (long long)l->conf.retention_seconds);
}
