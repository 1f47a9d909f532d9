/* local.h — the local provider's state, shared by its files (never
 * installed; the daemon sees only include/multinode/provider.h).
 *
 * Locking: one mutex guards the watch list and every record file; every
 * *_locked function expects it held. */
#ifndef MN_LOCAL_LOCAL_H
#define MN_LOCAL_LOCAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "local_conf.h"
#include "multinode/provider.h"
#include "state_file.h"
#include "worker_env.h"
#include "worker_limits.h"
#include "zygote.h"

/* A worker process this daemon watches until it exits. */
struct mn_local_watch {
  char execution_id[MN_LOCAL_ID_MAX + 1];
  pid_t pid;
  uint64_t start_time;
  int pidfd;                /* -1: polled once a second through /proc */
  int64_t kill_deadline_us; /* SIGKILL the group at this wall time; 0: none */
  int launching;            /* the launch has not let it run yet: not finished */
  unsigned zygote_gen;      /* spawned by this spawner, which reports its exit; 0: not */
  int done;                 /* exited; the outcome below awaits its record write */
  int exit_code;
  char reason[256];
};

struct mn_local {
  const struct mn_host *host;
  int64_t started_us; /* when this provider instance started (host clock) */
  struct mn_local_conf conf;
  struct mn_local_limits limits;
  struct mn_local_daemon_env daemon_env;
  char dir[PATH_MAX];  /* <data_dir>/<provider_name> */
  char work[PATH_MAX]; /* <dir>/work: the executions' working directories */
  /* What the workers must not see (the config file), covered in each
   * worker's mount namespace when the machine allows (worker_user.h). */
  struct mn_local_masks masks;
  char mask_source[PATH_MAX]; /* <dir>/.mask: empty, mode 0000 */
  char config_file[PATH_MAX];

  pthread_mutex_t lock;
  struct mn_local_watch *watches;
  size_t n_watches, cap_watches;
  char **launching; /* execution ids whose launch is in progress (unlocked) */
  pthread_cond_t launch_done; /* signalled when one leaves `launching` */
  size_t n_launching, cap_launching;
  int *closing; /* pidfds to close once the monitor is out of poll() */
  size_t n_closing, cap_closing;

  struct mn_local_zygote zygote;

  pthread_t monitor;
  int monitor_started;
  int stop;
  int wake[2]; /* pipe: wakes the monitor */
};

/* errno of a failed system call -> MN_PROVIDER_E_* (launch.c) */
int mn_local_errno_code(int e);
/* Whether a launch of execution id is in progress (launch.c). */
bool mn_local_launching_locked(const struct mn_local *l, const char *id);

/* provider operations, one file each */
int mn_local_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                    struct mn_provider_error *err);
int mn_local_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                          struct mn_worker_state *states_out, struct mn_provider_error *err);
int mn_local_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                        struct mn_provider_error *err);
int mn_local_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                       struct mn_provider_error *err);
int mn_local_release(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err);
int mn_local_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                  struct mn_log_page *page, struct mn_provider_error *err);

/* watch.c */
struct mn_local_watch *mn_local_watch_find_locked(struct mn_local *l, const char *execution_id);
int mn_local_watch_add_locked(struct mn_local *l, const char *execution_id, pid_t pid,
                              uint64_t start_time, int pidfd, int64_t kill_deadline_us);
void mn_local_watch_remove_locked(struct mn_local *l, struct mn_local_watch *w);
/* 1 when the process exited (w->done, exit_code and reason set), else 0. */
int mn_local_watch_check(struct mn_local_watch *w);
/* Records a waitpid() status as the outcome. */
void mn_local_watch_exited(struct mn_local_watch *w, int wait_status);
/* 1 while the process runs (even when its exit is not known yet). */
int mn_local_watch_alive(struct mn_local_watch *w);
/* Closes fd once the monitor is out of poll(). */
void mn_local_close_later_locked(struct mn_local *l, int fd);

/* monitor.c: the thread that reaps workers and fires pending kills */
int mn_local_monitor_start(struct mn_local *l, struct mn_provider_error *err);
void mn_local_monitor_stop(struct mn_local *l);
void mn_local_monitor_wake(struct mn_local *l);

/* command_access.c: at prepare, whether the workers' user can run the
 * function's command (its program, the files its arguments name). 0, or
 * an MN_PROVIDER_E_* code with why. */
int mn_local_command_access_check(struct mn_local *l, const struct mn_function_desc *function,
                                  char *why, size_t why_size);

/* prune.c: deletes what released workers left, past the retention; takes
 * the lock itself, one record at a time (call it without the lock) */
void mn_local_prune(struct mn_local *l);

/* lifecycle.c */
/* Brings a RUNNING record up to date (it may become EXITED). */
void mn_local_refresh_locked(struct mn_local *l, struct mn_local_record *rec);
/* The monitor's pass over every watch: reap, record, fire due kills.
 * Returns the earliest pending kill deadline, or 0. */
int64_t mn_local_sweep_locked(struct mn_local *l);
/* Sends sig to the worker's process group if the worker still runs. */
void mn_local_signal_locked(struct mn_local *l, const struct mn_local_record *rec, int sig);
/* At init: watch the records left RUNNING by an earlier daemon. */
void mn_local_adopt(struct mn_local *l);
/* Fills state from rec. */
void mn_local_record_state(const struct mn_local_record *rec, struct mn_worker_state *state);

#endif
