/* multinode/common/child.h — starting a worker's process: a fork whose
 * child is born in its execution's cgroup, and the signal state every
 * worker child starts from. Used by the local provider's own fork + exec
 * path and by `multinode-worker --spawner` (docs/local.md, "How a worker
 * starts"). libc only. */
#ifndef MULTINODE_COMMON_CHILD_H
#define MULTINODE_COMMON_CHILD_H

#include <sys/types.h>

/* Forks, as fork() does. With cgroup_fd >= 0 (an open cgroup v2
 * directory) the child is created inside that cgroup (clone3 with
 * CLONE_INTO_CGROUP, Linux 5.7): no migration, whose write to cgroup.procs
 * waits for an RCU grace period (7-14 ms per worker measured). *placed
 * says whether that happened; when it did not (an older kernel, a seccomp
 * filter refusing clone3, a sanitizer build), the child must join the
 * cgroup itself with mn_child_join_cgroup.
 * For a SINGLE-THREADED caller only (the spawner): after clone3 the C
 * library does not reset in the child what fork() resets (at-fork
 * handlers, its list of threads), so in the child of a multithreaded
 * process set*id() would still try to reach the parent's other threads. A
 * multithreaded process forks and lets the child join. */
pid_t mn_child_fork(int cgroup_fd, int *placed);

/* In the child: moves the calling process into the cgroup directory
 * cgroup_fd (writes "0" to its cgroup.procs). 0, or -1 with errno.
 * Async-signal-safe. */
int mn_child_join_cgroup(int cgroup_fd);

/* In the child: every signal back to its default action, none blocked.
 * Async-signal-safe. */
void mn_child_reset_signals(void);

#endif
