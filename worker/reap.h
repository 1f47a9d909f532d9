/* Ending every process a command left behind.
 *
 * The worker and the local provider's spawner are child subreapers
 * (PR_SET_CHILD_SUBREAPER): a process whose parent dies is re-parented to
 * the nearest of them rather than to init. Whatever a command starts — in
 * its process group, double-forked `(cmd &)`, in a session of its own
 * (`setsid cmd &`) — therefore stays a child or a descendant of the worker
 * until it is reaped, and of the spawner if the worker itself is killed.
 * These helpers find those children (/proc/self/task/<tid>/children, or a
 * scan of /proc where the kernel lacks it), SIGKILL them and the process
 * group each leads, and reap them. Dependency-free; async-signal-safety is
 * not needed (the callers are single-threaded at that point). */
#ifndef MN_WORKER_REAP_H
#define MN_WORKER_REAP_H

#include <stddef.h>
#include <sys/types.h>

/* Makes the calling process a child subreaper. 0 or -errno. */
int mn_reap_become_subreaper(void);

/* Returns 1 to spare child pid (e.g. a worker the spawner runs), 0 to kill
 * it. */
typedef int mn_reap_keep_fn(void *ctx, pid_t pid);

/* One pass: SIGKILLs every child of the calling process that keep (NULL:
 * none) does not spare, and the process group it leads. Does not wait.
 * Returns how many were signalled, or -errno when the children cannot be
 * listed. */
int mn_reap_kill_children(mn_reap_keep_fn *keep, void *ctx);

/* Kills and reaps every child of the calling process (none is spared), again
 * and again as orphans of the killed ones arrive, until it has none or
 * deadline_ms have passed. The exit statuses are discarded. Returns how
 * many were reaped, or -ETIMEDOUT when some are left (a process stuck in
 * uninterruptible sleep). */
int mn_reap_all(int deadline_ms);

#endif
