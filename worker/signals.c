/* Self-pipe signal handling: the handlers only write one byte per arrival
 * and record the first termination request. */
#define _GNU_SOURCE /* pipe2 */
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

static const int handled[] = {SIGTERM, SIGINT, SIGCHLD};

int mn_signals_install(void) {
  struct sigaction sa;
  if (self_pipe[0] >= 0)
    return 0;
  /* one system call, not seven (bench/README.md, "Worker CPU") */
  if (pipe2(self_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
    return -errno;
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

void mn_signals_child_defaults(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &sa, NULL);
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
    sigaction(handled[i], &sa, NULL);
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
