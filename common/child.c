/* child.c — starting a worker's process (multinode/common/child.h). */
#include "multinode/common/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__linux__) && !defined(MN_SANITIZER_BUILD)
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */
#endif

#if defined(SYS_clone3) && defined(CLONE_INTO_CGROUP)
/* Set once the kernel (or a seccomp filter, as Docker's default one)
 * refused clone3: later forks do not ask again. */
static int clone3_refused;

static pid_t clone_into(int cgroup_fd) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (uint64_t)cgroup_fd;
  return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}
#endif

pid_t mn_child_fork(int cgroup_fd, int *placed) {
  *placed = 0;
#if defined(SYS_clone3) && defined(CLONE_INTO_CGROUP)
  if (cgroup_fd >= 0 && !__atomic_load_n(&clone3_refused, __ATOMIC_RELAXED)) {
    pid_t pid = clone_into(cgroup_fd);
    if (pid >= 0) {
      *placed = 1;
      return pid;
    }
    /* ENOSYS, E2BIG (no CLONE_INTO_CGROUP) or EPERM from a filter: for
     * good. Anything else (EAGAIN, a cgroup that refuses, ...) is left to
     * the fork below and the child's own join to report. */
    if (errno == ENOSYS || errno == E2BIG || errno == EPERM)
      __atomic_store_n(&clone3_refused, 1, __ATOMIC_RELAXED);
  }
#else
  (void)cgroup_fd;
#endif
  return fork();
}

int mn_child_join_cgroup(int cgroup_fd) {
  int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, "0", 1);
  int e = errno;
  close(fd);
  if (n != 1) {
    errno = n < 0 ? e : EIO;
    return -1;
  }
  return 0;
}

void mn_child_reset_signals(void) {
  struct sigaction dfl;
  sigset_t none;

  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction(sig, &dfl, NULL); /* fails harmlessly for reserved signals */
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}
