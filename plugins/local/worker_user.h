/* worker_user.h — the user local workers run as, and what that user can
 * reach.
 *
 * A daemon running as root runs its workers as providers.<name>.user
 * (default "nobody"), never as root unless allow_root is set; a daemon
 * running as another user runs them as itself (it cannot switch). The
 * switch happens in the worker process before anything of the worker runs
 * (spawn.c, worker/spawner.c), for good: real, effective and saved ids,
 * the user's groups. */
#ifndef MN_LOCAL_WORKER_USER_H
#define MN_LOCAL_WORKER_USER_H

#include <stddef.h>
#include <sys/types.h>

#define MN_LOCAL_GROUPS_MAX 64

struct mn_local_identity {
  int switch_user; /* 1: set uid/gid/groups in the worker; 0: the daemon's own */
  uid_t uid;
  gid_t gid;
  size_t n_groups;
  gid_t groups[MN_LOCAL_GROUPS_MAX];
  char name[64]; /* for messages: the user name, or the uid */
};

/* Files hidden from the workers: each of paths[] is covered, in the
 * worker's own mount namespace, by source (an empty file no one but root
 * may open). Needs root with CAP_SYS_ADMIN; worker_user.c probes for it. */
#define MN_LOCAL_MASKS_MAX 4
struct mn_local_masks {
  const char *source;
  const char *paths[MN_LOCAL_MASKS_MAX];
  size_t n;
};

/* Resolves the configured user (a name or a numeric uid; NULL: the
 * default) for a daemon whose effective uid is daemon_uid. Returns 0, or -1
 * with why: an unknown user, a switch a non-root daemon cannot make, root
 * without allow_root. */
int mn_local_identity_resolve(const char *user, int allow_root, uid_t daemon_uid,
                              struct mn_local_identity *out, char *why, size_t why_size);

/* Switches the calling process to the identity, for good. Only raw system
 * calls: safe in the child of a fork() of a multi-threaded process.
 * 0 or -errno. */
int mn_local_identity_apply(const struct mn_local_identity *id);

/* Moves the calling process into a mount namespace of its own where the
 * masked files are covered (nothing when masks is NULL or empty). Only
 * system calls. 0 or -errno. */
int mn_local_masks_apply(const struct mn_local_masks *masks);

/* What a probe found about one path. */
struct mn_local_access {
  int err;        /* 0: allowed; else the errno the user got */
  size_t blocked; /* err == EACCES: the length of the path prefix (a
                   * directory) the user cannot pass through, 0 if none */
};

/* Asks, as the identity (in a short-lived child process, behind masks when
 * not NULL), whether each path[i] allows mode[i] (R_OK, W_OK, X_OK;
 * access(2)); fills out[i]. Returns 0, or -errno when the probe itself
 * failed (-EPERM: the identity or the masks could not be applied). */
int mn_local_identity_probe(const struct mn_local_identity *id, const struct mn_local_masks *masks,
                            const char *const *paths, const int *modes, size_t n,
                            struct mn_local_access *out);

/* One line about a probe result for path, e.g.
 * `"/root/x" (blocked at "/root")` or `"/a/b" (permission denied)`. */
void mn_local_access_describe(const char *path, const struct mn_local_access *a, char *out,
                              size_t size);

#endif
