/* The spawner loop (spawner.h): one poll() over the control socket and a
 * signalfd for SIGCHLD; single-threaded, so fork() is safe everywhere. It
 * is a child subreaper (reap.h): whatever a worker killed outright leaves
 * behind is re-parented to it, and killed. */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC */
#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "multinode/common/child.h"
#include "multinode/spawner.h"
#include "proctitle.h"
#include "reap.h"

extern char **environ;

/* close_range(2) by its number: musl 1.2.3, which the static worker may be
 * built with (cmake/worker_static.cmake), has no wrapper for it. */
static int close_fd_range(unsigned first, unsigned last) {
  return (int)syscall(SYS_close_range, first, last, 0);
}

#define CTL STDIN_FILENO

struct child {
  pid_t pid;
  char execution_id[MN_SPAWNER_ID_MAX + 1];
};

static struct child *children;
static size_t n_children, cap_children;

/* One request as received: the header, the strings, the descriptors. */
struct request {
  struct mn_spawner_request hdr;
  char **argv, **envp;
  const char *cwd; /* NULL: the spawner's */
  const char *mask_source;
  const char *masks[MN_SPAWNER_MASKS_MAX];
  int launch, log_fd, cgroup_fd;
};

static void reply(int sock, int kind, int step, int err) {
  struct mn_spawner_reply r = {kind, (int32_t)getpid(), step, err};
  ssize_t n = send(sock, &r, sizeof r, MSG_NOSIGNAL);
  (void)n; /* the provider gave up on this launch: nothing to tell */
}

static __attribute__((noreturn)) void child_fail(int sock, int step) {
  reply(sock, MN_SPAWNER_FAILED, step, errno);
  _exit(127);
}

/* In the fresh child: set up as the provider's fork + exec path does, wait
 * for the go, become the worker. */
static __attribute__((noreturn)) void child_main(struct request *rq, mn_spawner_run_fn *run,
                                                 int placed) {
  char go;
  ssize_t n;
  int argc = (int)rq->hdr.argc;

  /* what the spawner changed (the rest was reset at its start) */
  sigset_t none;
  sigemptyset(&none);
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);

  if (setsid() < 0)
    child_fail(rq->launch, MN_SPAWNER_STEP_SETSID);
  if (!placed && rq->cgroup_fd >= 0 && mn_child_join_cgroup(rq->cgroup_fd) != 0)
    child_fail(rq->launch, MN_SPAWNER_STEP_CGROUP);
  /* Every descriptor received is >= 3: 0, 1 and 2 are always open here. */
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(rq->log_fd, 1) < 0 || dup2(rq->log_fd, 2) < 0)
    child_fail(rq->launch, MN_SPAWNER_STEP_STDIO);
  /* Nothing else stays open: not the control socket, not the signalfd, not
   * the descriptors of other launches. */
  if ((rq->launch > 3 && close_fd_range(3, (unsigned)rq->launch - 1) != 0) ||
      close_fd_range((unsigned)rq->launch + 1, ~0U) != 0)
    child_fail(rq->launch, MN_SPAWNER_STEP_STDIO);
  if (rq->cwd && chdir(rq->cwd) != 0)
    child_fail(rq->launch, MN_SPAWNER_STEP_CWD);
  if (rq->hdr.flags & MN_SPAWNER_F_DATA_RLIMIT) {
    struct rlimit rl = {(rlim_t)rq->hdr.data_rlimit, (rlim_t)rq->hdr.data_rlimit};
    if (setrlimit(RLIMIT_DATA, &rl) != 0)
      child_fail(rq->launch, MN_SPAWNER_STEP_RLIMIT);
  }
  if (rq->hdr.flags & MN_SPAWNER_F_MASKS) {
    /* a mount namespace of our own, whose mounts do not propagate back */
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
      child_fail(rq->launch, MN_SPAWNER_STEP_MASKS);
    for (uint32_t i = 0; i < rq->hdr.nmasks; i++)
      if (mount(rq->mask_source, rq->masks[i], "none", MS_BIND, NULL) != 0)
        child_fail(rq->launch, MN_SPAWNER_STEP_MASKS);
  }
  if (rq->hdr.flags & MN_SPAWNER_F_IDENTITY) {
    /* for good: real, effective and saved ids alike */
    gid_t groups[MN_SPAWNER_GROUPS_MAX];
    for (uint32_t i = 0; i < rq->hdr.ngroups; i++)
      groups[i] = (gid_t)rq->hdr.groups[i];
    uid_t uid = (uid_t)rq->hdr.uid;
    gid_t gid = (gid_t)rq->hdr.gid;
    if (setgroups(rq->hdr.ngroups, groups) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0)
      child_fail(rq->launch, MN_SPAWNER_STEP_IDENTITY);
    if (getuid() != uid || geteuid() != uid || getgid() != gid) {
      errno = EPERM;
      child_fail(rq->launch, MN_SPAWNER_STEP_IDENTITY);
    }
  }

  reply(rq->launch, MN_SPAWNER_READY, 0, 0);
  do {
    n = recv(rq->launch, &go, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 1)
    _exit(127); /* the provider gave up on this launch, or died */
  close(rq->launch);

  environ = rq->envp;
  mn_proctitle_set(rq->argv);
  int status = run(argc, rq->argv);
  fflush(NULL);
#ifdef MN_SANITIZER_BUILD
  exit(status); /* LeakSanitizer checks at exit */
#else
  /* Not exit(): the libraries' exit handlers and destructors (OpenSSL's
   * cleanup, _dl_fini over 30-odd libraries) would run in every child, to
   * tidy up a process about to vanish. What the worker wrote is flushed. */
  _exit(status);
#endif
}

static int remember(pid_t pid, const char *execution_id) {
  if (n_children == cap_children) {
    size_t cap = cap_children ? 2 * cap_children : 64;
    struct child *grown = realloc(children, cap * sizeof *grown);
    if (!grown)
      return -1;
    children = grown;
    cap_children = cap;
  }
  children[n_children].pid = pid;
  snprintf(children[n_children].execution_id, sizeof children[0].execution_id, "%s",
           execution_id);
  n_children++;
  return 0;
}

static int is_worker(void *ctx, pid_t pid) {
  (void)ctx;
  for (size_t i = 0; i < n_children; i++)
    if (children[i].pid == pid)
      return 1;
  return 0;
}

/* Reaps every child that ended and reports the workers among them; then
 * kills every child that is not a worker: what a worker that ended (killed
 * outright, say) left behind was re-parented to us. Their deaths bring us
 * here again, with the orphans they leave in turn. */
static void reap(void) {
  int status, reaped = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    reaped = 1;
    for (size_t i = 0; i < n_children; i++) {
      if (children[i].pid != pid)
        continue;
      struct mn_spawner_exit ex = {.magic = MN_SPAWNER_MAGIC, .pid = pid, .status = status};
      memcpy(ex.execution_id, children[i].execution_id, sizeof ex.execution_id);
      ssize_t n;
      do {
        n = send(CTL, &ex, sizeof ex, MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      children[i] = children[--n_children];
      break;
    }
  }
  if (reaped) {
    int n = mn_reap_kill_children(is_worker, NULL);
    if (n > 0)
      mn_worker__log("spawner: killed %d process(es) left behind by ended workers", n);
  }
}

/* Splits count NUL-terminated strings off *p (below end) into a new
 * NULL-terminated vector. */
static char **split(char **p, const char *end, uint32_t count) {
  char **v = calloc((size_t)count + 1, sizeof *v);
  if (!v)
    return NULL;
  for (uint32_t i = 0; i < count; i++) {
    char *nul = memchr(*p, '\0', (size_t)(end - *p));
    if (!nul) {
      free(v);
      return NULL;
    }
    v[i] = *p;
    *p = nul + 1;
  }
  return v;
}

/* One more NUL-terminated string off *p, or NULL. */
static const char *split_one(char **p, const char *end) {
  char *nul = memchr(*p, '\0', (size_t)(end - *p));
  if (!nul)
    return NULL;
  const char *s = *p;
  *p = nul + 1;
  return s;
}

/* The mask source and the masked paths; 1, or 0 when malformed. */
static int split_masks(struct request *rq, char **p, const char *end) {
  if (!(rq->mask_source = split_one(p, end)))
    return 0;
  for (uint32_t i = 0; i < rq->hdr.nmasks; i++)
    if (!(rq->masks[i] = split_one(p, end)))
      return 0;
  return 1;
}

static void close_fds(struct request *rq) {
  if (rq->launch >= 0)
    close(rq->launch);
  if (rq->log_fd >= 0)
    close(rq->log_fd);
  if (rq->cgroup_fd >= 0)
    close(rq->cgroup_fd);
}

/* Receives one request. 1: handled (or refused), 0: end-of-file,
 * -1: nothing pending (or the socket failed: errno). */
static int serve_one(char *buf, mn_spawner_run_fn *run) {
  union {
    char space[CMSG_SPACE(3 * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {buf, MN_SPAWNER_REQUEST_MAX};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                       .msg_controllen = sizeof control.space};
  struct request rq = {.launch = -1, .log_fd = -1, .cgroup_fd = -1};
  int fds[3] = {-1, -1, -1};
  size_t nfds = 0;

  ssize_t n = recvmsg(CTL, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n == 0)
    return 0;
  if (n < 0)
    return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (nfds < 3)
        fds[nfds++] = fd;
      else
        close(fd);
    }
  }
  rq.launch = fds[0], rq.log_fd = fds[1], rq.cgroup_fd = fds[2];
  char *p = buf + sizeof rq.hdr;
  if ((size_t)n >= sizeof rq.hdr)
    memcpy(&rq.hdr, buf, sizeof rq.hdr);
  if ((size_t)n < sizeof rq.hdr || rq.hdr.magic != MN_SPAWNER_MAGIC || rq.hdr.argc == 0 ||
      rq.hdr.nfds != nfds || nfds < 2 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
      !memchr(rq.hdr.execution_id, '\0', sizeof rq.hdr.execution_id) ||
      rq.hdr.ngroups > MN_SPAWNER_GROUPS_MAX || rq.hdr.nmasks > MN_SPAWNER_MASKS_MAX ||
      !(rq.argv = split(&p, buf + n, rq.hdr.argc)) ||
      !(rq.envp = split(&p, buf + n, rq.hdr.envc)) ||
      ((rq.hdr.flags & MN_SPAWNER_F_CWD) && !(rq.cwd = split_one(&p, buf + n))) ||
      ((rq.hdr.flags & MN_SPAWNER_F_MASKS) && !split_masks(&rq, &p, buf + n))) {
    mn_worker__log("spawner: refusing a malformed request (%zd bytes, %zu descriptors)", n, nfds);
    if (rq.launch >= 0)
      reply(rq.launch, MN_SPAWNER_FAILED, MN_SPAWNER_STEP_REQUEST,
            msg.msg_flags & MSG_TRUNC ? EMSGSIZE : EINVAL);
    goto done;
  }

  /* Born in its execution's cgroup where the kernel allows: no migration
   * (common/child.h). That fork is the raw clone3 system call, which the C
   * library does not see: in a worker built against musl the child's
   * cached thread id stays the spawner's, which only raise() and abort()
   * use (nothing here calls them; OpenSSL aborts on a broken invariant,
   * and then a child running as another user cannot signal the spawner
   * and dies by musl's own crash instead). */
  int placed;
  pid_t pid = mn_child_fork(rq.cgroup_fd, &placed);
  if (pid == 0)
    child_main(&rq, run, placed);
  if (pid < 0) {
    int e = errno;
    mn_worker__log("spawner: cannot fork for execution %s: %s", rq.hdr.execution_id, strerror(e));
    errno = e;
    reply(rq.launch, MN_SPAWNER_FAILED, MN_SPAWNER_STEP_FORK, e);
  } else if (remember(pid, rq.hdr.execution_id) != 0) {
    mn_worker__log("spawner: out of memory: the exit of pid %ld will not be reported", (long)pid);
  }
done:
  free(rq.argv);
  free(rq.envp);
  close_fds(&rq);
  return 1;
}

int mn_spawner_main(char **argv, mn_spawner_run_fn *run) {
  int type = 0;
  socklen_t len = sizeof type;
  sigset_t chld;
  int sigfd = -1;
  char *buf = NULL;
  int status = 1;

  if (getsockopt(CTL, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET) {
    mn_worker__log("error: " MN_SPAWNER_ARG " needs a SOCK_SEQPACKET socket as standard input "
                   "(the local provider starts it)");
    return 2;
  }
  mn_proctitle_init(argv);
  /* Every signal from its default once here, so that a child only undoes
   * what the spawner itself changes below (2 system calls, not 64). */
  mn_child_reset_signals();
  signal(SIGPIPE, SIG_IGN);
  if (mn_reap_become_subreaper() < 0)
    mn_worker__log("spawner: cannot become a child subreaper: %s", strerror(errno));
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  buf = malloc(MN_SPAWNER_REQUEST_MAX);
  if (sigfd < 0 || !buf) {
    mn_worker__log("spawner: cannot start: %s", strerror(errno));
    goto done;
  }
  struct mn_spawner_hello hello = {MN_SPAWNER_MAGIC, MN_SPAWNER_VERSION, (int32_t)getpid()};
  if (send(CTL, &hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello) {
    mn_worker__log("spawner: cannot greet the provider: %s", strerror(errno));
    goto done;
  }

  for (;;) {
    struct pollfd p[2] = {{.fd = CTL, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      mn_worker__log("spawner: poll: %s", strerror(errno));
      break;
    }
    if (p[1].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) > 0) {
      }
      reap();
    }
    if (p[0].revents) {
      int r;
      while ((r = serve_one(buf, run)) > 0) {
      }
      if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        /* the provider is gone: so are we; the children run on */
        status = r == 0 ? 0 : 1;
        break;
      }
    }
  }
  reap();
done:
  free(buf);
  free(children);
  if (sigfd >= 0)
    close(sigfd);
  return status;
}
