/* spawn.h — start one worker process: fork, set it up, exec.
 *
 * Two steps so that nothing runs before the daemon has recorded the
 * process: mn_local_spawn_start forks a child that sets itself up (own
 * session, limits, stdin /dev/null, stdout+stderr to the log, every other
 * descriptor close-on-exec) and then waits; mn_local_spawn_go lets it exec.
 * If the daemon dies in between, the child sees end-of-file and exits 127
 * without running anything. Only async-signal-safe calls run in the child. */
#ifndef MN_LOCAL_SPAWN_H
#define MN_LOCAL_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "worker_limits.h"
#include "worker_user.h"

struct mn_local_spawn_request {
  const char *path;  /* the executable (absolute or relative to the cwd) */
  char *const *argv; /* NULL-terminated */
  char *const *envp; /* NULL-terminated; the complete environment */
  int log_fd;        /* stdout and stderr */
  int stdin_fd;      /* standard input; -1: /dev/null */
  const struct mn_local_child_limits *limits;
  const char *cwd;                         /* NULL: the daemon's */
  const struct mn_local_identity *identity; /* NULL: the daemon's user */
  const struct mn_local_masks *masks;       /* NULL: none */
};

struct mn_local_spawn {
  pid_t pid;
  int sock; /* parent's end of the handshake socket */
};

/* Forks the waiting child. Returns 0, or a negative errno with why. */
int mn_local_spawn_start(const struct mn_local_spawn_request *req, struct mn_local_spawn *sp,
                         char *why, size_t why_size);

/* Lets the child exec and waits until it has (or failed to). Returns 0, or
 * a negative errno with why (the child was reaped). */
int mn_local_spawn_go(struct mn_local_spawn *sp, char *why, size_t why_size);

/* Makes the waiting child exit without running anything, and reaps it. */
void mn_local_spawn_abort(struct mn_local_spawn *sp);

#endif
