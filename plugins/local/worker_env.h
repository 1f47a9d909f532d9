/* worker_env.h — the environment and command line of a worker process.
 *
 * Environment: exactly the launch spec's env, plus PATH (bin_dir first, then
 * the spec's PATH, else the daemon's, else a default), plus HOME and LANG
 * when the spec does not set them (HOME: the execution's working directory
 * when the worker runs as another user than the daemon, else the
 * daemon's), plus MULTINODE_LOG_MAX_BYTES (the log's cap, which
 * multinode-worker reads and removes). argv: the worker executable
 * (resolved through that PATH) followed by the spec's command. */
#ifndef MN_LOCAL_WORKER_ENV_H
#define MN_LOCAL_WORKER_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "multinode/provider.h"

struct mn_local_daemon_env {
  char *path; /* copies taken at init; NULL when unset */
  char *home;
  char *lang;
};

int mn_local_daemon_env_init(struct mn_local_daemon_env *env);
void mn_local_daemon_env_release(struct mn_local_daemon_env *env);

struct mn_local_worker_cmd {
  char **envp; /* NULL-terminated, owned */
  char **argv; /* NULL-terminated, owned */
  char *path;  /* the resolved executable, owned */
};

/* What the provider adds to a worker's environment. */
struct mn_local_worker_extra {
  const char *home;       /* HOME unless the spec sets it; NULL: the daemon's */
  uint64_t max_log_bytes; /* 0: no cap */
};

/* Builds envp and argv for spec. Returns 0, or MN_PROVIDER_E_INVALID with
 * why (a bad env key, the worker not found). */
int mn_local_worker_cmd_init(struct mn_local_worker_cmd *cmd, const struct mn_launch_spec *spec,
                             const char *worker, const char *bin_dir,
                             const struct mn_local_daemon_env *daemon,
                             const struct mn_local_worker_extra *extra, char *why,
                             size_t why_size);
void mn_local_worker_cmd_release(struct mn_local_worker_cmd *cmd);

/* Finds worker (a path, or a name looked up in search_path). Returns 0 with
 * a malloc'd *out, or -ENOENT / -EACCES / -ENOMEM. */
int mn_local_worker_resolve(const char *worker, const char *search_path, char **out);

/* The PATH a worker gets: "<bin_dir>:<base>". malloc'd; NULL on ENOMEM. */
char *mn_local_worker_path(const char *bin_dir, const char *spec_path,
                           const struct mn_local_daemon_env *daemon);

#endif
