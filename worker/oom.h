/* Whether the kernel's OOM killer acted in the worker's memory cgroup: the
 * command of a worker under a memory limit (a container, the local
 * provider's cgroup) is the biggest process there, so the kernel kills it
 * and not the worker, which must then say "out of memory" itself. */
#ifndef MN_WORKER_OOM_H
#define MN_WORKER_OOM_H

/* The oom_kill counter of the memory cgroup this process is in (cgroup v2
 * memory.events, or v1 memory.oom_control), or -1 when it cannot be read. */
long mn_oom_kills(void);

/* The counter from one of those files' text ("... oom_kill N ..."), or -1. */
long mn_oom_kills_parse(const char *text);

#endif
