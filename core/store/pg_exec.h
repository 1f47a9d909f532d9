/* Running the PostgreSQL tools for the embedded cluster (internal to
 * core/store): fork + exec with an argv (no shell), as the `postgres` user
 * when the daemon runs as root, output appended to a log file. */
#ifndef MN_STORE_PG_EXEC_H
#define MN_STORE_PG_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

struct mn_pg_user {
  bool drop;  /* switch to uid/gid before exec (we are root) */
  uid_t uid;
  gid_t gid;
};

/* Who runs Postgres: ourselves, or `postgres` when we are root. */
int mn_pg_user_init(struct mn_pg_user *u, struct mn_error *err);

/* Runs argv[0] with argv, stdin from /dev/null, stdout+stderr appended to
 * log_path, in directory cwd, with default signal dispositions and no
 * inherited descriptors. Waits for it with waitpid(pid) (so a SIGCHLD set
 * to SIG_IGN elsewhere in the process would hide its status). Returns the
 * exit status (0..255), or -1 when it could not run or died of a signal. */
int mn_pg_exec(const struct mn_pg_user *u, char *const argv[], const char *log_path,
               const char *cwd);

/* The directory holding initdb and pg_ctl: $MN_PG_BINDIR, `pg_config
 * --bindir`, or the highest /usr/lib/postgresql/N/bin. Heap string. */
int mn_pg_find_bindir(char **out, struct mn_error *err);

/* True when pid is a live (not zombie) process named postgres. */
bool mn_pg_process_alive(pid_t pid);

/* True unless pid is known to work in another directory (a postmaster
 * works in its data directory). */
bool mn_pg_process_in_dir(pid_t pid, const char *dir);

/* Can user u enter every directory on the way to path? Sets *blocker to
 * the first one it cannot (heap string) when not. */
bool mn_pg_user_can_reach(const struct mn_pg_user *u, const char *path, char **blocker);

/* The last non-empty line of a text file (for error messages). */
void mn_pg_log_tail(const char *path, char *buf, size_t size);

#endif
