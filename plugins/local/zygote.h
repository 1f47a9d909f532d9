/* zygote.h — the provider's side of `multinode-worker --spawner`
 * (worker/spawner.h; the wire format is multinode/spawner.h).
 *
 * Forking the daemon (large, multi-threaded) and exec'ing multinode-worker
 * (which loads libcurl and 30-odd libraries) costs milliseconds per
 * execution. Instead, one spawner per provider instance is exec'd once; for
 * each launch it forks a fresh child that sets itself up exactly as the
 * fork + exec path does (own session, cgroup, log, limits), waits until the
 * record is written, then runs the worker in-process (in its working
 * directory, as the workers' user). The spawner reports
 * each child's exit status; the monitor hands it to the child's watch.
 *
 * Used only when the launch's worker is the built-in multinode-worker (the
 * configured worker's file name) and `spawner` is not switched off; any
 * other worker keeps fork + exec. A program that does not answer as a
 * spawner turns it off for the instance. The spawner's own messages go to
 * <data_dir>/<provider>/.spawner.log. A spawner that dies is restarted
 * by the next launch (a launch it took down fails TRANSIENT); after three
 * such failures in a row the instance falls back to fork + exec. */
#ifndef MN_LOCAL_ZYGOTE_H
#define MN_LOCAL_ZYGOTE_H

#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

struct mn_local;
struct mn_local_worker_cmd;
struct mn_local_child_limits;
struct mn_local_identity;
struct mn_local_masks;

struct mn_local_zygote {
  pthread_mutex_t lock; /* serialises starts and requests */
  int wanted;           /* configured, and the worker is multinode-worker */
  int disabled;         /* no (working) spawner: fork + exec from now on */
  int failures;         /* launches lost to a dying spawner, in a row */
  pid_t pid;            /* the spawner process (our child), or -1 */
  char path[PATH_MAX];  /* the worker executable it is */
  /* Under the provider's lock (the monitor polls sock): */
  int sock;     /* the control socket; -1 when there is no live spawner */
  unsigned gen; /* counts starts; a watch notes the one that spawned it */
};

/* A launch in progress through the spawner. */
struct mn_local_zygote_launch {
  pid_t pid;    /* the waiting child */
  int sock;     /* our end of its launch socket */
  unsigned gen; /* the spawner that forked it */
};

/* The launch does not go through the spawner: use fork + exec. */
#define MN_LOCAL_ZYGOTE_UNUSED 1

/* Right after the state is allocated; release is then always safe. */
void mn_local_zygote_init(struct mn_local *l);
/* Ends the spawner (its children keep running). The monitor is stopped. */
void mn_local_zygote_release(struct mn_local *l);
/* Once the configuration is loaded: decides whether a spawner is wanted
 * and starts it ahead of the first launch (failures are logged). */
void mn_local_zygote_prestart(struct mn_local *l);

/* Forks the waiting child of one execution through the spawner. Returns 0
 * (zl filled), MN_LOCAL_ZYGOTE_UNUSED, or an MN_PROVIDER_E_* code with why. */
int mn_local_zygote_launch(struct mn_local *l, const char *execution_id,
                           const struct mn_local_worker_cmd *cmd, int log_fd,
                           const struct mn_local_child_limits *limits, const char *cwd,
                           const struct mn_local_identity *identity,
                           const struct mn_local_masks *masks,
                           struct mn_local_zygote_launch *zl, char *why, size_t why_size);
/* Lets the child run. 0, or -errno (it is gone). Closes zl->sock. */
int mn_local_zygote_go(struct mn_local_zygote_launch *zl);
/* Makes the waiting child exit without running anything. */
void mn_local_zygote_abort(struct mn_local_zygote_launch *zl);

/* For the monitor, with the provider's lock held: the socket to poll (or
 * -1), and reading what arrived on it (exit reports; end-of-file). */
int mn_local_zygote_fd_locked(struct mn_local *l);
void mn_local_zygote_read_locked(struct mn_local *l);

#endif
