/* release.c — once the execution is recorded: save the container's log to
 * <log_dir>/<name>.log (each line with the engine's timestamp, so log
 * offsets stay valid; capped at max_log_bytes, log_cap.h), then remove the
 * container. Idempotent: a saved log is not saved again, a container
 * already gone is success. */
#include "docker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_cap.h"
#include "log_frames.h"

struct saver {
  struct mn_docker_demux demux;
  struct mn_docker_log_cap cap;
  FILE *out;
  int failed; /* a write failed or the stream is not multiplexed */
};

static int save_frame(void *ctx, int stream, const char *payload, size_t len) {
  struct saver *s = ctx;
  (void)stream;
  if (len > 0 && payload[len - 1] == '\n')
    len--;
  if (mn_docker_log_cap_line(&s->cap, payload, len) != 0) {
    s->failed = 1;
    return 1;
  }
  return 0;
}

static size_t save_write(char *data, size_t size, size_t n, void *ctx) {
  struct saver *s = ctx;
  if (mn_docker_demux_feed(&s->demux, data, size * n, save_frame, s) != 0) {
    s->failed = 1;
    return 0;
  }
  return size * n;
}

/* 0 saved (or nothing to save: the container is gone) */
static int save_log(struct mn_docker *d, const char *name, const char *path,
                    struct mn_provider_error *err) {
  char tmp[PATH_MAX + 32], url[512], why[512];
  struct saver s = {0};
  long status = 0;
  int rc = 0;

  snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd >= 0)
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (fd < 0 || !(s.out = fdopen(fd, "w"))) {
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot create \"%s\": %s", tmp,
                        strerror(errno));
    if (fd >= 0)
      close(fd);
    return rc;
  }
  mn_docker_demux_init(&s.demux);
  mn_docker_log_cap_init(&s.cap, s.out, d->conf.max_log_bytes);
  snprintf(url, sizeof url, "/containers/%s/logs?stdout=1&stderr=1&timestamps=1", name);
  if (mn_docker_http_stream(&d->http, "GET", url, 10 * MN_DOCKER_CALL_TIMEOUT_MS, save_write, &s,
                            &status, why, sizeof why)) {
    rc = mn_docker_unreachable(d, err, why);
  } else if (status == 404) {
    rc = 1; /* gone: nothing left to save */
  } else if (status != 200) {
    rc = d->host->error(err, status >= 500 ? MN_PROVIDER_E_TRANSIENT : MN_PROVIDER_E_INVALID,
                        "cannot read the log of \"%s\" (HTTP %ld)", name, status);
  } else if (s.failed) {
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot save the log of \"%s\" to \"%s\"",
                        name, tmp);
  }
  mn_docker_demux_release(&s.demux);
  if (mn_docker_log_cap_finish(&s.cap) != 0 && rc == 0)
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot save the log of \"%s\" to \"%s\"",
                        name, tmp);
  else if (s.cap.dropped_lines > 0)
    d->host->log(d->host, MN_HOST_LOG_INFO,
                 "the log of \"%s\" was cut to its first and last bytes (max_log_bytes %llu): "
                 "%llu bytes left out",
                 name, (unsigned long long)d->conf.max_log_bytes,
                 (unsigned long long)s.cap.dropped_bytes);
  if (fflush(s.out) != 0 || fsync(fileno(s.out)) != 0) {
    if (rc == 0)
      rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot write \"%s\": %s", tmp,
                          strerror(errno));
  }
  fclose(s.out);
  if (rc == 0 && rename(tmp, path) != 0)
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot rename \"%s\": %s", tmp,
                        strerror(errno));
  if (rc != 0)
    unlink(tmp);
  return rc > 0 ? 0 : rc;
}

/* Saved logs older than the retention go, checked at most hourly, from the
 * release that finds the hour over (a log is saved only at release, so
 * every file here belongs to a removed container). */
static void prune_saved_logs(struct mn_docker *d) {
  int64_t now = d->host->now_us();
  pthread_mutex_lock(&d->prune_lock);
  int due = d->conf.retention_seconds > 0 && now >= d->next_prune_us;
  if (due)
    d->next_prune_us = now + 3600 * INT64_C(1000000);
  pthread_mutex_unlock(&d->prune_lock);
  if (!due)
    return;
  DIR *dir = opendir(d->log_dir);
  struct dirent *e;
  char path[PATH_MAX];
  struct stat st;
  int n = 0;
  time_t cutoff = (time_t)(now / 1000000 - d->conf.retention_seconds);
  while (dir && (e = readdir(dir)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".log") != 0 ||
        snprintf(path, sizeof path, "%s/%s", d->log_dir, e->d_name) >= (int)sizeof path)
      continue;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff && unlink(path) == 0)
      n++;
  }
  if (dir)
    closedir(dir);
  if (n > 0)
    d->host->log(d->host, MN_HOST_LOG_INFO, "deleted %d saved log(s) older than %lld s", n,
                 (long long)d->conf.retention_seconds);
}

int mn_docker_release(void *state, const struct mn_worker_ref *ref,
                      struct mn_provider_error *err) {
  struct mn_docker *d = state;
  struct mn_docker_reply reply;
  char path[PATH_MAX], url[512], why[512];
  struct stat st;
  int rc;

  if ((rc = mn_docker_ref_name(d, ref, err)) != 0)
    return rc == MN_PROVIDER_E_NOT_FOUND ? 0 : rc;
  if (mn_docker_log_path(d, ref->identifier, path, sizeof path) != 0)
    return d->host->error(err, MN_PROVIDER_E_INVALID, "log path for \"%s\" is too long",
                          ref->identifier);
  if (stat(path, &st) != 0 && (rc = save_log(d, ref->identifier, path, err)) != 0)
    return rc;
  snprintf(url, sizeof url, "/containers/%s?force=1", ref->identifier);
  if (mn_docker_http_call(&d->http, "DELETE", url, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why))
    return mn_docker_unreachable(d, err, why);
  /* 404: gone already; 409: its removal is in progress */
  if (reply.status != 204 && reply.status != 404 && reply.status != 409)
    rc = mn_docker_refused(d, err, &reply, "cannot remove the container");
  else
    d->host->log(d->host, MN_HOST_LOG_DEBUG, "removed \"%s\"; its log is in \"%s\"",
                 ref->identifier, path);
  mn_docker_reply_release(&reply);
  if (rc == 0)
    prune_saved_logs(d);
  return rc;
}
