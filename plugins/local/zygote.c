/* zygote.c — start, feed and watch the worker spawner (zygote.h).
 *
 * Locking: zy->lock serialises starting the spawner and sending requests;
 * the provider's lock (taken inside it, never the other way round) guards
 * zy->sock and zy->gen, which the monitor reads. Waiting for a child's
 * answer happens under neither. */
#define _GNU_SOURCE /* pidfd */
#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "multinode/spawner.h"
#include "spawn.h"

#define HELLO_TIMEOUT_MS 10000  /* exec + loading the libraries, under a sanitizer too */
#define REPLY_TIMEOUT_MS 30000  /* fork + set-up of one child, on a loaded machine */
#define SEND_TIMEOUT_S 10       /* a spawner that stops reading is misbehaving */
#define MAX_FAILURES 3
#define TITLE_ROOM 2048         /* environment bytes a child's command line may use */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable; 1, 0 on timeout, -1 on error. */
static int wait_readable(int fd, int timeout_ms) {
  int64_t deadline = mono_ms() + timeout_ms;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t left = deadline - mono_ms();
    int r = poll(&p, 1, left < 0 ? 0 : (int)left);
    if (r > 0)
      return 1;
    if (r == 0)
      return 0;
    if (errno != EINTR)
      return -1;
  }
}

static const char *basename_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

void mn_local_zygote_init(struct mn_local *l) {
  struct mn_local_zygote *zy = &l->zygote;
  pthread_mutex_init(&zy->lock, NULL);
  zy->pid = -1;
  zy->sock = -1;
}

/* The spawner of generation gen is gone: its children's exit statuses will
 * not come (their watches fall back to pidfd or /proc). Provider lock held. */
static void lost_locked(struct mn_local *l, unsigned gen) {
  struct mn_local_zygote *zy = &l->zygote;
  if (gen != zy->gen || zy->sock < 0)
    return;
  mn_local_close_later_locked(l, zy->sock);
  zy->sock = -1;
  for (size_t i = 0; i < l->n_watches; i++)
    if (l->watches[i].zygote_gen == gen)
      l->watches[i].zygote_gen = 0;
  mn_local_monitor_wake(l);
}

/* Ends and reaps the spawner process (ours); zy->lock held. */
static void reap_spawner(struct mn_local_zygote *zy) {
  if (zy->pid <= 0)
    return;
  kill(zy->pid, SIGKILL);
  while (waitpid(zy->pid, NULL, 0) < 0 && errno == EINTR) {
  }
  zy->pid = -1;
}

/* The spawner failed a launch: forget it; after too many, stop using one. */
static void failed_locked(struct mn_local *l, unsigned gen, const char *what) {
  struct mn_local_zygote *zy = &l->zygote;
  pthread_mutex_lock(&l->lock);
  int current = gen == zy->gen && zy->sock >= 0;
  lost_locked(l, gen);
  pthread_mutex_unlock(&l->lock);
  if (!current)
    return; /* another launch dealt with it already */
  reap_spawner(zy);
  if (++zy->failures >= MAX_FAILURES) {
    zy->disabled = 1;
    l->host->log(l->host, MN_HOST_LOG_ERROR,
                 "worker spawner failed %d times in a row (%s): every execution is forked "
                 "and exec'd from now on",
                 zy->failures, what);
  } else {
    l->host->log(l->host, MN_HOST_LOG_WARN, "worker spawner lost (%s); the next launch restarts it",
                 what);
  }
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 1;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s%s", a, b);
  return s;
}

/* Forks + execs `path --spawner` with the control socket as its stdin and
 * waits for its hello. zy->lock held. 0, MN_LOCAL_ZYGOTE_UNUSED, or an
 * MN_PROVIDER_E_* code with why. */
static int start_locked(struct mn_local *l, const char *path, char *why, size_t why_size) {
  struct mn_local_zygote *zy = &l->zygote;
  struct mn_local_child_limits none = {.cgroup_fd = -1};
  struct mn_local_spawn sp = {.pid = -1, .sock = -1};
  struct mn_spawner_hello hello;
  char log_path[PATH_MAX];
  char *envp[5] = {NULL};
  char *room = NULL, *search = NULL;
  int sv[2] = {-1, -1}, log_fd = -1, n_env = 0;
  int rc = MN_PROVIDER_E_TRANSIENT;

  reap_spawner(zy);
  /* not a valid execution id, so no worker's log */
  int n_path = snprintf(log_path, sizeof log_path, "%s/.spawner.log", l->dir);
  if (n_path < 0 || (size_t)n_path >= sizeof log_path) {
    snprintf(why, why_size, "the data directory's path is too long");
    return MN_LOCAL_ZYGOTE_UNUSED;
  }
  search = mn_local_worker_path(l->conf.bin_dir, NULL, &l->daemon_env);
  room = malloc(TITLE_ROOM + 1);
  if (!search || !room)
    goto nomem;
  memset(room, ' ', TITLE_ROOM);
  room[TITLE_ROOM] = '\0';
  /* The spawner's environment never reaches a worker (each request brings
   * its own); the last variable is room for the children's command lines. */
  if (!(envp[n_env++] = join("PATH=", search)) ||
      (l->daemon_env.home && !(envp[n_env++] = join("HOME=", l->daemon_env.home))) ||
      (l->daemon_env.lang && !(envp[n_env++] = join("LANG=", l->daemon_env.lang))) ||
      !(envp[n_env++] = join("MN_SPAWNER_ROOM=", room)))
    goto nomem;

  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    rc = mn_local_errno_code(errno);
    snprintf(why, why_size, "cannot prepare the worker spawner: %s", strerror(errno));
    goto done;
  }
  struct timeval tv = {SEND_TIMEOUT_S, 0};
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  char *argv[] = {(char *)path, MN_SPAWNER_ARG, NULL};
  struct mn_local_spawn_request req = {.path = path, .argv = argv, .envp = envp,
                                       .log_fd = log_fd, .stdin_fd = sv[1], .limits = &none};
  int r = mn_local_spawn_start(&req, &sp, why, why_size);
  if (r == 0)
    r = mn_local_spawn_go(&sp, why, why_size);
  close(sv[1]);
  sv[1] = -1;
  if (r != 0) {
    rc = r == -ENOENT || r == -EACCES || r == -ENOEXEC ? MN_LOCAL_ZYGOTE_UNUSED
                                                        : mn_local_errno_code(-r);
    goto done;
  }
  zy->pid = sp.pid;

  ssize_t n = -1;
  if (wait_readable(sv[0], HELLO_TIMEOUT_MS) == 1)
    n = recv(sv[0], &hello, sizeof hello, MSG_DONTWAIT);
  if (n != (ssize_t)sizeof hello || hello.magic != MN_SPAWNER_MAGIC ||
      hello.version != MN_SPAWNER_VERSION) {
    reap_spawner(zy);
    zy->disabled = 1;
    rc = MN_LOCAL_ZYGOTE_UNUSED;
    snprintf(why, why_size, "%s",
             n == 0    ? "it exited"
             : n < 0   ? "it did not answer"
                       : "it answered in another protocol");
    l->host->log(l->host, MN_HOST_LOG_INFO,
                 "worker \"%s\" does not run as a spawner (%s): every execution is forked and "
                 "exec'd", path, why);
    goto done;
  }

  pthread_mutex_lock(&l->lock);
  lost_locked(l, zy->gen);
  zy->sock = sv[0];
  zy->gen++;
  mn_local_monitor_wake(l); /* poll the new socket */
  pthread_mutex_unlock(&l->lock);
  sv[0] = -1;
  snprintf(zy->path, sizeof zy->path, "%s", path);
  l->host->log(l->host, MN_HOST_LOG_DEBUG, "worker spawner pid %ld started (%s)", (long)zy->pid,
               path);
  rc = 0;
  goto done;

nomem:
  snprintf(why, why_size, "out of memory");
done:
  if (sv[0] >= 0)
    close(sv[0]);
  if (log_fd >= 0)
    close(log_fd);
  for (int i = 0; i < n_env; i++)
    free(envp[i]);
  free(room);
  free(search);
  return rc;
}

void mn_local_zygote_prestart(struct mn_local *l) {
  struct mn_local_zygote *zy = &l->zygote;
  char *search, *path = NULL;
  char why[1024];
  zy->wanted = l->conf.spawner && strcmp(basename_of(l->conf.worker), "multinode-worker") == 0;
  if (!zy->wanted)
    return;
  search = mn_local_worker_path(l->conf.bin_dir, NULL, &l->daemon_env);
  if (search && mn_local_worker_resolve(l->conf.worker, search, &path) == 0) {
    pthread_mutex_lock(&zy->lock);
    int rc = zy->disabled || zy->pid > 0 ? 0 : start_locked(l, path, why, sizeof why);
    if (rc != 0 && !zy->disabled) /* the first launch tries again */
      l->host->log(l->host, MN_HOST_LOG_WARN, "cannot start the worker spawner: %s", why);
    pthread_mutex_unlock(&zy->lock);
  }
  free(path);
  free(search);
}

void mn_local_zygote_release(struct mn_local *l) {
  struct mn_local_zygote *zy = &l->zygote;
  if (zy->sock >= 0)
    close(zy->sock); /* end-of-file: the spawner exits; its children run on */
  zy->sock = -1;
  if (zy->pid > 0) {
    int pidfd = pidfd_open(zy->pid, 0);
    if (pidfd >= 0) {
      wait_readable(pidfd, 2000);
      close(pidfd);
    }
    if (waitpid(zy->pid, NULL, WNOHANG) == zy->pid)
      zy->pid = -1;
    reap_spawner(zy);
  }
  pthread_mutex_destroy(&zy->lock);
}

/* Header + argv + envp strings (+ the working directory), or NULL (too
 * big: -E2BIG; -ENOMEM). */
static char *build_request(const char *execution_id, const struct mn_local_worker_cmd *cmd,
                           int nfds, const char *cwd, const struct mn_local_identity *identity,
                           const struct mn_local_masks *masks,
                           const struct mn_local_child_limits *limits, size_t *size,
                           int *error) {
  struct mn_spawner_request hdr;
  size_t total = sizeof hdr;
  uint32_t argc = 0, envc = 0;
  memset(&hdr, 0, sizeof hdr);
  for (; cmd->argv[argc]; argc++)
    total += strlen(cmd->argv[argc]) + 1;
  for (; cmd->envp[envc]; envc++)
    total += strlen(cmd->envp[envc]) + 1;
  if (cwd) {
    hdr.flags |= MN_SPAWNER_F_CWD;
    total += strlen(cwd) + 1;
  }
  if (masks && masks->n > 0) {
    hdr.flags |= MN_SPAWNER_F_MASKS;
    hdr.nmasks = (uint32_t)masks->n;
    total += strlen(masks->source) + 1;
    for (size_t i = 0; i < masks->n; i++)
      total += strlen(masks->paths[i]) + 1;
  }
  if (identity && identity->switch_user) {
    hdr.flags |= MN_SPAWNER_F_IDENTITY;
    hdr.uid = (uint32_t)identity->uid;
    hdr.gid = (uint32_t)identity->gid;
    hdr.ngroups = (uint32_t)(identity->n_groups < MN_SPAWNER_GROUPS_MAX ? identity->n_groups
                                                                       : MN_SPAWNER_GROUPS_MAX);
    for (uint32_t i = 0; i < hdr.ngroups; i++)
      hdr.groups[i] = (uint32_t)identity->groups[i];
  }
  if (limits->set_data_rlimit) { /* the child is not ours to prlimit once it switched */
    hdr.flags |= MN_SPAWNER_F_DATA_RLIMIT;
    hdr.data_rlimit = (uint64_t)limits->data_rlimit.rlim_cur;
  }
  if (total > MN_SPAWNER_REQUEST_MAX || strlen(execution_id) > MN_SPAWNER_ID_MAX) {
    *error = -E2BIG;
    return NULL;
  }
  char *buf = malloc(total), *p;
  if (!buf) {
    *error = -ENOMEM;
    return NULL;
  }
  hdr.magic = MN_SPAWNER_MAGIC;
  hdr.argc = argc;
  hdr.envc = envc;
  hdr.nfds = (uint32_t)nfds;
  snprintf(hdr.execution_id, sizeof hdr.execution_id, "%s", execution_id);
  memcpy(buf, &hdr, sizeof hdr);
  p = buf + sizeof hdr;
  for (uint32_t i = 0; i < argc; i++)
    p = stpcpy(p, cmd->argv[i]) + 1;
  for (uint32_t i = 0; i < envc; i++)
    p = stpcpy(p, cmd->envp[i]) + 1;
  if (cwd)
    p = stpcpy(p, cwd) + 1;
  if (hdr.flags & MN_SPAWNER_F_MASKS) {
    p = stpcpy(p, masks->source) + 1;
    for (size_t i = 0; i < masks->n; i++)
      p = stpcpy(p, masks->paths[i]) + 1;
  }
  *size = total;
  return buf;
}

static int send_request(int sock, const char *buf, size_t size, const int *fds, int nfds) {
  union {
    char space[CMSG_SPACE(3 * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {(void *)buf, size};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                       .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
  memset(&control, 0, sizeof control);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
  memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == (ssize_t)size ? 0 : n < 0 ? -errno : -EIO;
}

static const char *step_name(int step) {
  switch (step) {
  case MN_SPAWNER_STEP_REQUEST: return "the worker spawner refused the request";
  case MN_SPAWNER_STEP_FORK: return "cannot fork the worker process";
  case MN_SPAWNER_STEP_SETSID: return "cannot start a new session";
  case MN_SPAWNER_STEP_CGROUP: return "cannot join the worker's cgroup";
  case MN_SPAWNER_STEP_CWD: return "cannot enter the working directory";
  case MN_SPAWNER_STEP_MASKS: return "cannot hide the configuration file";
  case MN_SPAWNER_STEP_IDENTITY: return "cannot switch to the workers' user";
  case MN_SPAWNER_STEP_RLIMIT: return "cannot set the worker's memory limit";
  default: return "cannot set up stdin/stdout/stderr";
  }
}

int mn_local_zygote_launch(struct mn_local *l, const char *execution_id,
                           const struct mn_local_worker_cmd *cmd, int log_fd,
                           const struct mn_local_child_limits *limits, const char *cwd,
                           const struct mn_local_identity *identity,
                           const struct mn_local_masks *masks,
                           struct mn_local_zygote_launch *zl, char *why, size_t why_size) {
  struct mn_local_zygote *zy = &l->zygote;
  struct mn_spawner_reply reply;
  int lsv[2] = {-1, -1};
  int nfds = limits->cgroup_fd >= 0 ? 3 : 2;
  size_t size = 0;
  char *buf = NULL;
  int rc, e = 0;

  zl->pid = -1;
  zl->sock = -1;
  if (!zy->wanted || zy->disabled || strcmp(basename_of(cmd->path), "multinode-worker") != 0)
    return MN_LOCAL_ZYGOTE_UNUSED;
  if (!(buf = build_request(execution_id, cmd, nfds, cwd, identity, masks, limits, &size, &e)))
    return e == -E2BIG ? MN_LOCAL_ZYGOTE_UNUSED
                       : (snprintf(why, why_size, "out of memory"), MN_PROVIDER_E_TRANSIENT);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lsv) != 0) {
    rc = mn_local_errno_code(errno);
    snprintf(why, why_size, "cannot prepare the worker process: %s", strerror(errno));
    goto done;
  }

  /* A spawner found dead when sending (killed since the last launch, and
   * the monitor has not noticed yet) got nothing: start another and send
   * again, once. */
  pthread_mutex_lock(&zy->lock);
  unsigned gen = 0;
  for (int attempt = 0;; attempt++) {
    pthread_mutex_lock(&l->lock);
    int sock = zy->sock;
    gen = zy->gen;
    pthread_mutex_unlock(&l->lock);
    if (zy->disabled || (sock >= 0 && strcmp(zy->path, cmd->path) != 0)) {
      rc = MN_LOCAL_ZYGOTE_UNUSED;
      break;
    }
    if (sock < 0) {
      if ((rc = start_locked(l, cmd->path, why, why_size)) != 0)
        break;
      pthread_mutex_lock(&l->lock);
      sock = zy->sock;
      gen = zy->gen;
      pthread_mutex_unlock(&l->lock);
    }
    int fds[3] = {lsv[1], log_fd, limits->cgroup_fd};
    e = send_request(sock, buf, size, fds, nfds);
    rc = e == 0 ? 0 : e == -EMSGSIZE ? MN_LOCAL_ZYGOTE_UNUSED : MN_PROVIDER_E_TRANSIENT;
    if (rc != MN_PROVIDER_E_TRANSIENT)
      break;
    snprintf(why, why_size, "the worker spawner is gone (%s); retrying", strerror(-e));
    failed_locked(l, gen, strerror(-e));
    if (attempt == 1 || zy->disabled)
      break;
  }
  pthread_mutex_unlock(&zy->lock);
  if (rc != 0)
    goto done;
  close(lsv[1]);
  lsv[1] = -1;

  /* The child answers once it is set up (or the spawner for it). */
  ssize_t n = -1;
  int ready = wait_readable(lsv[0], REPLY_TIMEOUT_MS);
  if (ready == 1) {
    do {
      n = recv(lsv[0], &reply, sizeof reply, 0);
    } while (n < 0 && errno == EINTR);
  }
  if (n != (ssize_t)sizeof reply || (reply.kind != MN_SPAWNER_READY &&
                                     reply.kind != MN_SPAWNER_FAILED)) {
    /* No answer: the spawner died (or hangs) with the request, or the child
     * died before it was set up. Nothing ran. */
    pthread_mutex_lock(&zy->lock);
    if (ready != 1 || (zy->pid > 0 && waitpid(zy->pid, NULL, WNOHANG) == zy->pid)) {
      if (ready == 1)
        zy->pid = -1; /* reaped just now */
      failed_locked(l, gen, ready == 1 ? "it exited" : "it did not answer");
    }
    pthread_mutex_unlock(&zy->lock);
    snprintf(why, why_size, "the worker process ended before it was set up; retrying");
    rc = MN_PROVIDER_E_TRANSIENT;
    goto done;
  }
  if (reply.kind == MN_SPAWNER_FAILED) {
    snprintf(why, why_size, "%s: %s", step_name(reply.step), strerror(reply.err));
    rc = reply.step == MN_SPAWNER_STEP_FORK ? mn_local_errno_code(reply.err)
         : reply.step == MN_SPAWNER_STEP_REQUEST ? MN_PROVIDER_E_TRANSIENT
                                                  : MN_PROVIDER_E_INVALID;
    goto done;
  }
  pthread_mutex_lock(&zy->lock);
  zy->failures = 0;
  pthread_mutex_unlock(&zy->lock);
  zl->pid = reply.pid;
  zl->sock = lsv[0];
  zl->gen = gen;
  lsv[0] = -1;
  rc = 0;

done:
  if (lsv[0] >= 0)
    close(lsv[0]);
  if (lsv[1] >= 0)
    close(lsv[1]);
  free(buf);
  return rc;
}

int mn_local_zygote_go(struct mn_local_zygote_launch *zl) {
  ssize_t n = send(zl->sock, "g", 1, MSG_NOSIGNAL);
  int rc = n == 1 ? 0 : -errno;
  close(zl->sock);
  zl->sock = -1;
  return rc;
}

void mn_local_zygote_abort(struct mn_local_zygote_launch *zl) {
  if (zl->sock >= 0)
    close(zl->sock); /* end-of-file: the child exits 127 */
  zl->sock = -1;
  zl->pid = -1;
}

int mn_local_zygote_fd_locked(struct mn_local *l) { return l->zygote.sock; }

void mn_local_zygote_read_locked(struct mn_local *l) {
  struct mn_local_zygote *zy = &l->zygote;
  while (zy->sock >= 0) {
    struct mn_spawner_exit ex;
    ssize_t n = recv(zy->sock, &ex, sizeof ex, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if (n <= 0) {
      l->host->log(l->host, n == 0 ? MN_HOST_LOG_WARN : MN_HOST_LOG_ERROR,
                   "worker spawner pid %ld %s; the next launch restarts it", (long)zy->pid,
                   n == 0 ? "exited" : "failed");
      lost_locked(l, zy->gen);
      return;
    }
    if (n != (ssize_t)sizeof ex || ex.magic != MN_SPAWNER_MAGIC ||
        !memchr(ex.execution_id, '\0', sizeof ex.execution_id)) {
      l->host->log(l->host, MN_HOST_LOG_WARN, "worker spawner sent a malformed report; ignored");
      continue;
    }
    struct mn_local_watch *w = mn_local_watch_find_locked(l, ex.execution_id);
    if (w && w->pid == ex.pid && w->zygote_gen == zy->gen)
      mn_local_watch_exited(w, ex.status);
    /* else: a launch that was given up; nothing watches it */
  }
}
