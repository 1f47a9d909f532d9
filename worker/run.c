/* Spawning the command and the poll() loop over its pipes and our signals. */
#define _GNU_SOURCE /* pipe2 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "logcap.h"
#include "oom.h"
#include "reap.h"
#include "signals.h"


#define CHUNK 65536
#define DRAIN_MAX (4 * 1024 * 1024) /* after the exit: what the pipes can still hold */
#define REAP_DEADLINE_MS 10000 /* killed processes are gone long before */

/* The state of one run, shared by the loop's helpers. */
struct run_state {
  pid_t pid;
  int exited;
  int in_fd, out_fd, err_fd, rep_fd; /* our ends; -1 once closed */
  const char *input;
  size_t input_len, written;
  int failed; /* -errno of the worker's own failure */
  struct mn_run_result *r;
};

void mn_run_result_init(struct mn_run_result *r) {
  r->spawn_errno = 0;
  r->status = 0;
  r->term_signals = 0;
  r->oom_killed = 0;
  r->log_dropped = 0;
  mn_output_init(&r->out);
  mn_tail_init(&r->err_tail);
  r->report = NULL;
  r->report_len = 0;
}

void mn_run_result_release(struct mn_run_result *r) {
  mn_output_release(&r->out);
  free(r->report);
  r->report = NULL;
  r->report_len = 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static int cloexec_pipe(int p[2]) {
  return pipe2(p, O_CLOEXEC) < 0 ? -errno : 0;
}

/* Our end of a fresh pipe (no other status flag set; F_SETFL ignores the
 * access mode). */
static int set_nonblock(int fd) {
  return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

/* Keeps the first MN_RUN_REPORT_MAX bytes of the report pipe. */
static void keep_report(struct run_state *s, const char *p, size_t n) {
  struct mn_run_result *r = s->r;
  if (r->report_len + n > MN_RUN_REPORT_MAX)
    n = MN_RUN_REPORT_MAX - r->report_len;
  if (n == 0)
    return;
  char *grown = realloc(r->report, r->report_len + n + 1);
  if (!grown) {
    s->failed = -ENOMEM;
    return;
  }
  memcpy(grown + r->report_len, p, n);
  r->report = grown;
  r->report_len += n;
  r->report[r->report_len] = '\0';
}

/* One read from the command's stdout, stderr or report pipe; closes it at
 * EOF. */
static ssize_t read_pipe(struct run_state *s, int *fd) {
  char buf[CHUNK];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return -1;
  if (n <= 0) {
    close_fd(fd);
    return 0;
  }
  if (fd == &s->out_fd) {
    if (mn_output_append(&s->r->out, buf, (size_t)n) < 0)
      s->failed = -ENOMEM;
  } else if (fd == &s->rep_fd) {
    keep_report(s, buf, (size_t)n);
  } else {
    /* to our stderr, the log, within its cap (a failing stderr is given
     * up on; the tail is still kept) */
    mn_logcap_write(mn_logcap_stderr(), buf, (size_t)n);
    mn_tail_append(&s->r->err_tail, buf, (size_t)n);
  }
  return n;
}

static void write_input(struct run_state *s) {
  size_t left = s->input_len - s->written;
  ssize_t n = write(s->in_fd, s->input + s->written, left < CHUNK ? left : CHUNK);
  if (n > 0)
    s->written += (size_t)n;
  else if (n < 0 && errno != EAGAIN && errno != EINTR)
    close_fd(&s->in_fd); /* EPIPE: the command does not read its input */
  if (s->written == s->input_len)
    close_fd(&s->in_fd);
}

static const char *signal_name(int signo) {
  return signo == SIGTERM ? "SIGTERM" : signo == SIGINT ? "SIGINT" : "a signal";
}

static void handle_signals(struct run_state *s) {
  int signo;
  while ((signo = mn_signals_next()) != 0) {
    if (signo == SIGCHLD) {
      /* the command, or an orphan of it re-parented to us (reap.h) */
      int status;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == s->pid && !s->exited) {
          s->r->status = status;
          s->exited = 1;
        }
    } else if (!s->exited) {
      mn_worker__log("forwarding %s to the command (process group %d)", signal_name(signo),
                     (int)s->pid);
      if (kill(-s->pid, signo) < 0 && errno != ESRCH)
        mn_worker__log("cannot forward %s: %s", signal_name(signo), strerror(errno));
      s->r->term_signals |= 1u << signo;
    }
  }
}

/* Polls our signals and the three pipes until the command has exited. */
static void loop(struct run_state *s) {
  while (!s->exited) {
    struct pollfd p[5];
    int n = 0, i_in = -1, i_out = -1, i_err = -1, i_rep = -1;
    p[n++] = (struct pollfd){.fd = mn_signals_fd(), .events = POLLIN};
    if (s->in_fd >= 0)
      i_in = n, p[n++] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT};
    if (s->out_fd >= 0)
      i_out = n, p[n++] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
    if (s->err_fd >= 0)
      i_err = n, p[n++] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
    if (s->rep_fd >= 0)
      i_rep = n, p[n++] = (struct pollfd){.fd = s->rep_fd, .events = POLLIN};
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR)
        continue;
      s->failed = -errno;
      return;
    }
    if (p[0].revents)
      handle_signals(s);
    if (i_in >= 0 && p[i_in].revents)
      write_input(s);
    if (i_out >= 0 && p[i_out].revents)
      read_pipe(s, &s->out_fd);
    if (i_err >= 0 && p[i_err].revents)
      read_pipe(s, &s->err_fd);
    if (i_rep >= 0 && p[i_rep].revents)
      read_pipe(s, &s->rep_fd);
  }
}

/* After the exit, what the command wrote is in the pipes: read it all, but
 * not forever (a process it left behind may hold them open and write on). */
static void drain(struct run_state *s, int *fd) {
  size_t total = 0;
  ssize_t n;
  while (*fd >= 0 && total < DRAIN_MAX && (n = read_pipe(s, fd)) > 0)
    total += (size_t)n;
  close_fd(fd);
}

/* execvp() without its fallback of running a file the kernel refuses
 * (ENOEXEC) through /bin/sh, as posix_spawnp() did: argv[0] looked up in
 * PATH (unset: /bin:/usr/bin; an empty entry is the working folder) unless
 * it names a path. Returns only on failure, with errno set: EACCES if some
 * candidate was refused so, else the last error. Async-signal-safe. */
static void exec_command(char *const argv[]) {
  extern char **environ;
  const char *name = argv[0], *path = getenv("PATH");
  size_t name_len = strlen(name);
  int refused = 0;
  if (strchr(name, '/')) {
    execve(name, argv, environ);
    return;
  }
  if (!path)
    path = "/bin:/usr/bin";
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    char full[4096];
    size_t dir_len = (size_t)(end - p);
    if (dir_len + 1 + name_len < sizeof full) {
      memcpy(full, p, dir_len);
      full[dir_len] = '/';
      memcpy(full + (dir_len ? dir_len + 1 : 0), name, name_len + 1);
      execve(full, argv, environ);
      if (errno == EACCES)
        refused = 1;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
               errno != ETIMEDOUT)
        return;
    }
    p = end;
    if (!*p)
      break;
  }
  errno = refused ? EACCES : ENOENT;
}

/* The command, with vfork() and exec_command(): its own process group (so that a
 * forwarded signal reaches everything it started), the pipes as its
 * descriptors 0-3, an empty signal mask, and SIGPIPE, SIGTERM, SIGINT and
 * SIGCHLD at their defaults (signals.h); every other disposition as ours.
 * glibc's posix_spawn does the same but also looks up and resets each of
 * the 64 signals in the child: about 120 system calls, most of the 156 per
 * attempt this worker no longer makes (bench/README.md, "Worker CPU"). The child
 * shares our memory until it execs: every signal stays blocked until its
 * handlers are reset, it calls only async-signal-safe functions, and it
 * leaves its errno where we read it after vfork returns. 0, or the errno
 * of the step that failed (the child is then reaped). */
static int spawn(char *const argv[], int in_r, int out_w, int err_w, int rep_w, pid_t *pid) {
  static volatile int child_errno;
  sigset_t all, old, none;
  sigfillset(&all);
  sigemptyset(&none);
  child_errno = 0;
  if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
    return errno;
  pid_t p = vfork();
  if (p == 0) {
    mn_signals_child_defaults();
    if (setpgid(0, 0) < 0 || dup2(in_r, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
        dup2(err_w, STDERR_FILENO) < 0 || dup2(rep_w, MN_RUN_REPORT_FD) < 0 ||
        sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
      child_errno = errno;
      _exit(127);
    }
    exec_command(argv);
    child_errno = errno;
    _exit(127);
  }
  int rc = p < 0 ? errno : child_errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (p > 0 && rc != 0)
    while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
    }
  if (rc == 0)
    *pid = p;
  return rc;
}

int mn_run(char *const argv[], const char *input, size_t input_len, struct mn_run_result *r) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1};
  struct run_state s = {.pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .rep_fd = -1,
                        .input = input, .input_len = input_len, .r = r};
  int rc;
  long oom_before = mn_oom_kills();
  if ((rc = cloexec_pipe(in)) < 0 || (rc = cloexec_pipe(out)) < 0 ||
      (rc = cloexec_pipe(err)) < 0 || (rc = cloexec_pipe(rep)) < 0)
    goto done;
  if (rep[1] <= MN_RUN_REPORT_FD) { /* dup2 onto itself would keep FD_CLOEXEC */
    int high = fcntl(rep[1], F_DUPFD_CLOEXEC, MN_RUN_REPORT_FD + 1);
    if (high < 0) {
      rc = -errno;
      goto done;
    }
    close_fd(&rep[1]);
    rep[1] = high;
  }
  if (setenv(MN_RUN_REPORT_ENV, MN_RUN_REPORT_FD_TEXT, 1) < 0) {
    rc = -errno;
    goto done;
  }
  r->spawn_errno = spawn(argv, in[0], out[1], err[1], rep[1], &s.pid);
  if (r->spawn_errno != 0)
    goto done;
  close_fd(&in[0]);
  close_fd(&out[1]);
  close_fd(&err[1]);
  close_fd(&rep[1]);
  s.in_fd = in[1], s.out_fd = out[0], s.err_fd = err[0], s.rep_fd = rep[0];
  in[1] = out[0] = err[0] = rep[0] = -1;
  if ((rc = set_nonblock(s.in_fd)) < 0 || (rc = set_nonblock(s.out_fd)) < 0 ||
      (rc = set_nonblock(s.err_fd)) < 0 || (rc = set_nonblock(s.rep_fd)) < 0)
    s.failed = rc;
  else if (input_len == 0)
    close_fd(&s.in_fd);
  if (!s.failed)
    loop(&s);
  if (!s.exited) { /* the worker failed: do not leave the command behind */
    kill(-s.pid, SIGKILL);
    while (waitpid(s.pid, &r->status, 0) < 0 && errno == EINTR) {
    }
  }
  /* The attempt is over: nothing the command started may outlive it — its
   * process group, and every orphan re-parented to us (reap.h). What they
   * wrote is still in the pipes. */
  kill(-s.pid, SIGKILL);
  int left = mn_reap_all(REAP_DEADLINE_MS);
  close_fd(&s.in_fd);
  drain(&s, &s.out_fd);
  drain(&s, &s.err_fd);
  drain(&s, &s.rep_fd);
  r->log_dropped = mn_logcap_flush(mn_logcap_stderr());
  if (left > 0)
    mn_worker__log("ended %d process(es) the command left behind", left);
  else if (left < 0)
    mn_worker__log("cannot end every process the command left behind: %s", strerror(-left));
  if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGKILL && oom_before >= 0 &&
      mn_oom_kills() > oom_before)
    r->oom_killed = 1;
  rc = s.failed;
done:
  close_fd(&in[0]), close_fd(&in[1]);
  close_fd(&out[0]), close_fd(&out[1]);
  close_fd(&err[0]), close_fd(&err[1]);
  close_fd(&rep[0]), close_fd(&rep[1]);
  return rc;
}
