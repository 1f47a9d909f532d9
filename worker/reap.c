/* Finding, killing and reaping the children of the calling process (reap.h). */
#include "reap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef int child_fn(void *ctx, pid_t pid);

int mn_reap_become_subreaper(void) {
  return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

/* Reads a small /proc file into buf (NUL-terminated). -errno on failure. */
static ssize_t read_proc(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t len = 0;
  while (len + 1 < size) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* Calls cb for each pid listed in a /proc/self/task/<tid>/children file. */
static void each_listed(const char *list, child_fn *cb, void *ctx) {
  for (const char *p = list; *p;) {
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p)
      break;
    if (pid > 0)
      cb(ctx, (pid_t)pid);
    p = end;
  }
}

/* The children of every thread, from /proc/self/task/<tid>/children
 * (CONFIG_PROC_CHILDREN). -ENOENT when the kernel does not offer it. */
static int each_child_listed(child_fn *cb, void *ctx) {
  static char buf[65536]; /* the callers are single-threaded */
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int rc = 0, seen = 0;
  if (!d)
    return -errno;
  while ((e = readdir(d)) != NULL) {
    char path[128];
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
    ssize_t n = read_proc(path, buf, sizeof buf);
    if (n == -ENOENT && !seen) {
      rc = -ENOENT;
      break;
    }
    seen = 1;
    if (n > 0)
      each_listed(buf, cb, ctx);
  }
  closedir(d);
  return rc;
}

/* The slow way: every process of /proc whose parent is us. */
static int each_child_scanned(child_fn *cb, void *ctx) {
  pid_t self = getpid();
  DIR *d = opendir("/proc");
  struct dirent *e;
  if (!d)
    return -errno;
  while ((e = readdir(d)) != NULL) {
    char path[64], stat[1024];
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0)
      continue;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (read_proc(path, stat, sizeof stat) <= 0)
      continue;
    /* "pid (comm) state ppid ...": comm may hold anything, so after the
     * last ')' */
    const char *close = strrchr(stat, ')');
    long ppid;
    if (close && sscanf(close + 1, " %*c %ld", &ppid) == 1 && ppid == (long)self)
      cb(ctx, (pid_t)pid);
  }
  closedir(d);
  return 0;
}

struct killer {
  mn_reap_keep_fn *keep;
  void *ctx;
  int n;
};

static int kill_one(void *vctx, pid_t pid) {
  struct killer *k = vctx;
  if (k->keep && k->keep(k->ctx, pid))
    return 0;
  kill(-pid, SIGKILL); /* the group it leads, if it does (ESRCH otherwise) */
  kill(pid, SIGKILL);
  k->n++;
  return 0;
}

int mn_reap_kill_children(mn_reap_keep_fn *keep, void *ctx) {
  static int no_children_file;
  struct killer k = {keep, ctx, 0};
  int rc = -ENOENT;
  if (!no_children_file && (rc = each_child_listed(kill_one, &k)) == -ENOENT)
    no_children_file = 1;
  if (rc == -ENOENT)
    rc = each_child_scanned(kill_one, &k);
  return rc < 0 ? rc : k.n;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mn_reap_all(int deadline_ms) {
  long long deadline = now_ms() + deadline_ms;
  long pause_us = 100;
  int reaped = 0;
  for (;;) {
    int status, any = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      reaped++;
      any = 1;
    }
    if (pid < 0 && errno == ECHILD)
      return reaped;
    if (pid < 0 && errno != EINTR)
      return -errno;
    /* Some are left: kill them (again; orphans of the last round arrive as
     * their parents die). */
    mn_reap_kill_children(NULL, NULL);
    if (now_ms() > deadline)
      return -ETIMEDOUT;
    if (any) {
      pause_us = 100;
      continue;
    }
    struct timespec ts = {0, pause_us * 1000};
    nanosleep(&ts, NULL);
    if (pause_us < 10000)
      pause_us *= 2;
  }
}
