/* logs.c — a worker's log, paged by line by the toolkit's file-log pager
 * (plugins/support/file_log.h): the offset is the byte offset in the log
 * file, as decimal text; a last line without its newline is served only once
 * the worker has exited (it may still grow before that). */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file_log.h"

/* 1 when the worker of id can write no more (exited, or unknown). */
static int log_is_final(struct mn_local *l, const char *id) {
  struct mn_local_record rec;
  char why[256];
  int final = 1;
  pthread_mutex_lock(&l->lock);
  if (mn_local_record_read(l->dir, id, &rec, why, sizeof why) == 0) {
    mn_local_refresh_locked(l, &rec);
    final = rec.status != MN_LOCAL_RUNNING;
  }
  pthread_mutex_unlock(&l->lock);
  return final;
}

int mn_local_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                  struct mn_log_page *page, struct mn_provider_error *err) {
  struct mn_local *l = state;
  const char *id = ref->identifier;
  char path[PATH_MAX], why[512];

  page->next_offset[0] = '\0';
  if (!mn_local_id_valid(id) || mn_local_record_path(l->dir, id, ".log", path, sizeof path))
    return l->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for worker \"%s\"", id);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return l->host->error(err, errno == ENOENT ? MN_PROVIDER_E_NOT_FOUND : MN_PROVIDER_E_TRANSIENT,
                          "cannot open the log of worker \"%s\": %s", id, strerror(errno));
  int final = log_is_final(l, id); /* before reading: a later exit adds no unseen bytes */
  int rc = mn_file_log_page(fd, offset, max_lines, final, 0, page, why, sizeof why);
  close(fd);
  if (rc != 0)
    return l->host->error(err, rc, "worker \"%s\": %s", id, why);
  return 0;
}
