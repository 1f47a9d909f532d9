/* Self-pipe signal handling: the handlers only write one byte per arrival
 * and record the first termination request. */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int self_pipe[2] = {-1, -1};
static volatile sig_atomic_t first_termination;

static void on_signal(int signo) {
  int saved = errno;
  unsigned char b = (unsigned char)signo;
  if ((signo == SIGTERM || signo == SIGINT) && first_termination == 0)
    first_termination = signo;
  /* a full pipe drops the byte: SIGCHLD is level-checked by waitpid and
   * 64 KiB of pending SIGTERMs are more than enough forwarding */
  if (write(self_pipe[1], &b, 1) < 0) {
  }
  errno = saved;
}

static int set_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return -errno;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
    return -errno;
  return 0;
}

int mn_signals_install(void) {
  struct sigaction sa;
  static const int handled[] = {SIGTERM, SIGINT, SIGCHLD};
  int rc;
  if (self_pipe[0] >= 0)
    return 0;
  if (pipe(self_pipe) < 0)
    return -errno;
  if ((rc = set_flags(self_pipe[0])) < 0 || (rc = set_flags(self_pipe[1])) < 0)
    return rc;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = SIG_IGN;
  if (sigaction(SIGPIPE, &sa, NULL) < 0)
    return -errno;
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
    if (sigaction(handled[i], &sa, NULL) < 0)
      return -errno;
  return 0;
}

int mn_signals_fd(void) { return self_pipe[0]; }

int mn_signals_next(void) {
  unsigned char b;
  ssize_t n;
  do
    n = read(self_pipe[0], &b, 1);
  while (n < 0 && errno == EINTR);
  return n == 1 ? (int)b : 0;
}

int mn_signals_termination(void) { return (int)first_termination; }
