/* worker_limits.h — enforcing vcpus and memory_gb on a worker.
 *
 * Preferred: cgroup v2. Every execution gets a leaf cgroup
 * <dir>/mn-<execution_id> with cpu.max = vcpus*100000 100000,
 * memory.max = memory_gb GiB and memory.swap.max = 0. <dir> is
 * providers.<name>.cgroup_parent, or by default "multinode-<tag>" inside
 * the daemon's own cgroup, where the tag names the provider and its folder
 * in data_dir (two daemons in one cgroup, say tests run side by side, may
 * use the same execution ids, and must not kill each other's workers); the controllers are enabled in <dir>'s parent
 * and in <dir>. No process but the workers is ever moved.
 *
 * Fallback (no cgroup v2, controllers bound to cgroup v1, or the daemon's
 * cgroup holds processes so the "no internal processes" rule forbids
 * delegating): memory_gb becomes RLIMIT_DATA of the worker process (and of
 * everything it starts, each on its own), and vcpus is not enforced.
 *
 * Cleanup: wherever cgroup v2 lets the daemon create cgroups — with
 * controllers or without any (a hybrid machine whose controllers are all
 * bound to v1) — every execution still gets its leaf, which holds every
 * process the worker starts however it detaches itself; when the worker
 * ends the leaf is killed (cgroup.kill, or its processes one by one on
 * kernels before 5.14) and removed at release. providers.<name>.cgroups:
 * false turns all of it off. */
#ifndef MN_LOCAL_WORKER_LIMITS_H
#define MN_LOCAL_WORKER_LIMITS_H

#include <limits.h>
#include <stddef.h>
#include <sys/resource.h>

struct mn_local_limits {
  int cgroup_cpu;         /* vcpus enforced through cpu.max */
  int cgroup_memory;      /* memory_gb enforced through memory.max */
  int cgroup_track;       /* leaves are made (for cleanup) even without those */
  int made_dir;           /* dir is ours (not cgroup_parent): removed when empty */
  char dir[PATH_MAX];     /* where the leaf cgroups go, when either is set */
  char description[1024]; /* one line for the log */
};

/* Detects what the machine offers (use_cgroups 0: nothing is asked of
 * cgroups). Returns 0, or -1 (with why) only when cgroup_parent ("" = not
 * configured) was configured and is unusable. */
/* At the provider's stop: removes the default <dir> when no leaf is left
 * in it (workers left running keep theirs, and so the folder). */
void mn_local_limits_release(struct mn_local_limits *limits);

int mn_local_limits_init(struct mn_local_limits *limits, const char *cgroup_parent,
                         const char *tag, int use_cgroups, char *why,
                         size_t why_size);

/* What one child needs applied between fork and exec. */
struct mn_local_child_limits {
  int cgroup_fd;       /* the leaf cgroup's directory, open; -1: none */
  int set_data_rlimit; /* apply data_rlimit as RLIMIT_DATA (prlimit) */
  struct rlimit data_rlimit;
  char cgroup[PATH_MAX]; /* the leaf cgroup created, or "" */
};

/* Creates the execution's leaf cgroup (if cgroups are in use) and fills
 * out. vcpus/memory_gb <= 0 mean "no limit". Returns 0, or a negative errno
 * with why. On failure nothing is left behind. */
int mn_local_limits_prepare(const struct mn_local_limits *limits, const char *execution_id,
                            double vcpus, double memory_gb, struct mn_local_child_limits *out,
                            char *why, size_t why_size);

/* Closes cgroup_fd (the cgroup stays). */
void mn_local_child_limits_release(struct mn_local_child_limits *child);

/* Kills every process in the cgroup (cgroup.kill; before Linux 5.14, each
 * process listed in cgroup.procs, a few rounds). Returns 0 or -errno (a
 * missing cgroup: -ENOENT). */
int mn_local_cgroup_kill(const char *cgroup);

/* How long killed processes get to leave a cgroup before it is removed. */
#define MN_LOCAL_CGROUP_EMPTY_WAIT_MS 1000

/* Waits (poll on cgroup.events) until the cgroup holds no process, at most
 * timeout_ms. 0, -ETIMEDOUT or -errno; a missing cgroup is empty. */
int mn_local_cgroup_wait_empty(const char *cgroup, int timeout_ms);

/* Removes the (empty) cgroup; a missing one is success. -EBUSY while
 * processes remain. */
int mn_local_cgroup_remove(const char *cgroup);

#endif
