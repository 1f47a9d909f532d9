/* Runs the function's command: its own process group, the input written to
 * its standard input, its standard output kept (output.h), its standard
 * error passed through to ours (within the log's cap, logcap.h) and its
 * tail kept (tail.h), termination signals forwarded to its process group.
 * When it ends, every process it started is killed and reaped (reap.h:
 * the worker is a child subreaper). One poll() loop, no threads. */
#ifndef MN_WORKER_RUN_H
#define MN_WORKER_RUN_H

#include <stddef.h>

#include "output.h"
#include "multinode/common/worker_env.h"
#include "tail.h"

struct mn_run_result {
  int spawn_errno;       /* non-zero: the command could not be started */
  int status;            /* its waitpid() status */
  unsigned term_signals; /* bit (1u << signo) for each signal forwarded */
  int oom_killed;        /* SIGKILLed while our cgroup's OOM-kill count rose */
  unsigned long long log_dropped; /* stderr bytes left out of the capped log */
  struct mn_output out;
  struct mn_tail err_tail;
  /* What the command wrote to its report pipe (MN_RUN_REPORT_FD, named in
   * its environment as MULTINODE_REPORT_FD): at most MN_RUN_REPORT_MAX
   * bytes, NUL-terminated; NULL when it wrote nothing. */
  char *report;
  size_t report_len;
};

/* The command's report channel: an in-task runtime (the Python package's)
 * writes one JSON object there, {"error_message": "..."}, before it fails,
 * so that the error is its own words rather than the tail of stderr (which
 * holds its traceback). */
#define MN_RUN_REPORT_FD 3
#define MN_RUN_REPORT_FD_TEXT "3"
#define MN_RUN_REPORT_ENV MN_WORKER_ENV_REPORT_FD
#define MN_RUN_REPORT_MAX 65536

void mn_run_result_init(struct mn_run_result *r);
void mn_run_result_release(struct mn_run_result *r);

/* Runs argv (argv[0] looked up in PATH; our environment passed through,
 * plus MULTINODE_REPORT_FD)
 * until it ends. Returns 0 when the command ran (whatever its status) or
 * could not be started (r->spawn_errno), -errno when the worker itself
 * failed (pipes, poll, memory). mn_signals_install() must have run. */
int mn_run(char *const argv[], const char *input, size_t input_len, struct mn_run_result *r);

#endif
