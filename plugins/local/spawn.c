/* spawn.c — fork + exec of a worker, with a handshake. */
#define _GNU_SOURCE /* close_range */
#include "spawn.h"

#include "multinode/common/child.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum child_step {
  STEP_SETSID = 1,
  STEP_CGROUP,
  STEP_STDIO,
  STEP_CWD,
  STEP_MASKS,
  STEP_IDENTITY,
  STEP_EXEC,
};

struct child_report {
  int step;
  int err;
};

static const char *step_name(int step) {
  switch (step) {
  case STEP_SETSID: return "cannot start a new session";
  case STEP_CGROUP: return "cannot join the worker's cgroup";
  case STEP_STDIO: return "cannot set up stdin/stdout/stderr";
  case STEP_CWD: return "cannot enter the working directory";
  case STEP_MASKS: return "cannot hide the configuration file";
  case STEP_IDENTITY: return "cannot switch to the workers' user";
  default: return "cannot execute";
  }
}

static void child_report(int sock, int step) {
  struct child_report r = {step, errno};
  ssize_t n = send(sock, &r, sizeof r, MSG_NOSIGNAL);
  (void)n;
  _exit(127);
}

/* Runs in the forked child: async-signal-safe calls only. */
__attribute__((noreturn)) static void child_main(const struct mn_local_spawn_request *req, int sock,
                                                 int devnull, int max_fd) {
  char go;

  mn_child_reset_signals();

  if (setsid() < 0)
    child_report(sock, STEP_SETSID);
  if (req->limits->cgroup_fd >= 0 && mn_child_join_cgroup(req->limits->cgroup_fd) != 0)
    child_report(sock, STEP_CGROUP);

  /* Move both above 2 first, so that dup2 cannot clobber one with the other. */
  int in = fcntl(req->stdin_fd >= 0 ? req->stdin_fd : devnull, F_DUPFD_CLOEXEC, 3);
  int out = fcntl(req->log_fd, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
    child_report(sock, STEP_STDIO);

  /* Nothing but 0, 1 and 2 may cross exec, and nothing else stays open
   * while this child waits: launches run in parallel, so it inherited the
   * sockets of other launches in flight, and holding them would keep their
   * parents (or, after a daemon crash, their children) from ever seeing
   * end-of-file. Only `sock` stays, marked close-on-exec. */
  if ((sock > 3 && close_range(3, (unsigned)sock - 1, 0) != 0) ||
      close_range((unsigned)sock + 1, ~0U, 0) != 0)
    for (int fd = 3; fd < max_fd; fd++)
      if (fd != sock)
        close(fd);
  fcntl(sock, F_SETFD, FD_CLOEXEC);
  if (req->cwd && chdir(req->cwd) != 0)
    child_report(sock, STEP_CWD);
  int mask_rc = mn_local_masks_apply(req->masks);
  if (mask_rc != 0) {
    errno = -mask_rc;
    child_report(sock, STEP_MASKS);
  }

  ssize_t n;
  do {
    n = recv(sock, &go, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 1)
    _exit(127); /* the daemon gave up on this launch, or died */

  /* The workers' user, for good: only now, so that the daemon could set
   * the memory limit of a process that was still its own (prlimit on
   * another user's process takes CAP_SYS_RESOURCE). */
  int id_rc = mn_local_identity_apply(req->identity);
  if (id_rc != 0) {
    errno = -id_rc;
    child_report(sock, STEP_IDENTITY);
  }

  execve(req->path, req->argv, req->envp);
  child_report(sock, STEP_EXEC);
  _exit(127);
}

int mn_local_spawn_start(const struct mn_local_spawn_request *req, struct mn_local_spawn *sp,
                         char *why, size_t why_size) {
  int sv[2] = {-1, -1};
  int devnull = -1;
  int rc = 0;
  struct rlimit nofile;
  sigset_t all, old;
  int max_fd = 1024;

  sp->pid = -1;
  sp->sock = -1;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
      nofile.rlim_cur < 65536)
    max_fd = (int)nofile.rlim_cur;
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    rc = -errno;
    snprintf(why, why_size, "cannot prepare the worker process: %s", strerror(errno));
    goto done;
  }

  /* Block signals across fork so no handler of the daemon runs in the child
   * before child_main resets them. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* fork(), not mn_child_fork: this process has threads (common/child.h) */
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    child_main(req, sv[1], devnull, max_fd);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    rc = -fork_errno;
    snprintf(why, why_size, "cannot fork the worker process: %s", strerror(fork_errno));
    goto done;
  }
  sp->pid = pid;
  sp->sock = sv[0];
  sv[0] = -1;
  /* Set from here rather than in the child: the child stays simpler, and
   * tools that emulate setrlimit for their client (valgrind) cannot eat it. */
  if (req->limits->set_data_rlimit &&
      prlimit(pid, RLIMIT_DATA, &req->limits->data_rlimit, NULL) != 0) {
    rc = -errno;
    snprintf(why, why_size, "cannot set the worker's memory limit: %s", strerror(errno));
    mn_local_spawn_abort(sp);
  }

done:
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]);
  if (devnull >= 0)
    close(devnull);
  return rc;
}

static void reap(pid_t pid) {
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

int mn_local_spawn_go(struct mn_local_spawn *sp, char *why, size_t why_size) {
  struct child_report report;
  size_t got = 0;
  ssize_t n;

  /* The child may already have failed and gone: ignore EPIPE, read its report. */
  n = send(sp->sock, "g", 1, MSG_NOSIGNAL);
  (void)n;
  while (got < sizeof report) {
    n = recv(sp->sock, (char *)&report + got, sizeof report - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(sp->sock);
  sp->sock = -1;
  if (got == 0)
    return 0; /* end-of-file: exec closed the child's end */
  if (got < sizeof report) {
    report.step = STEP_EXEC;
    report.err = EIO;
  }
  reap(sp->pid);
  snprintf(why, why_size, "%s: %s", step_name(report.step), strerror(report.err));
  return report.err > 0 ? -report.err : -EIO;
}

void mn_local_spawn_abort(struct mn_local_spawn *sp) {
  if (sp->sock >= 0)
    close(sp->sock);
  sp->sock = -1;
  if (sp->pid > 0)
    reap(sp->pid);
  sp->pid = -1;
}
