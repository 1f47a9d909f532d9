/* state_file.h — the per-execution record: a small JSON text, the extended
 * attribute user.multinode.record of the execution's log
 * <dir>/<execution_id>.log, replaced whole by each write, so it survives
 * the daemon (docs/local.md, "What a launch leaves on disk"). Where the
 * file system has no user extended attributes, it is the file
 * <dir>/<execution_id>.json instead (a temporary file renamed into place,
 * then rewritten in place). A log without a record is a launch that did
 * not finish. */
#ifndef MN_LOCAL_STATE_FILE_H
#define MN_LOCAL_STATE_FILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MN_LOCAL_ID_MAX 128
#define MN_LOCAL_RECORD_XATTR "user.multinode.record"

enum mn_local_status {
  MN_LOCAL_RUNNING = 1, /* spawned; pid + start_time identify it */
  MN_LOCAL_EXITED,      /* exit_code + reason are final */
};

struct mn_local_record {
  char execution_id[MN_LOCAL_ID_MAX + 1];
  char cluster_id[256];
  int status; /* enum mn_local_status */
  pid_t pid;
  uint64_t start_time; /* /proc/<pid>/stat field 22 */
  int exit_code;
  char reason[256];
  int64_t created_us;
  int64_t kill_deadline_us; /* SIGKILL due at this wall time; 0: none */
  int released;
  char cgroup[PATH_MAX]; /* the execution's cgroup directory, or "" */
};

/* 1 when id is usable as a file name: 1..MN_LOCAL_ID_MAX characters of
 * [A-Za-z0-9._-], not starting with '.'. */
int mn_local_id_valid(const char *id);

/* <dir>/<id><suffix>. Returns 0, or -ENAMETOOLONG. */
int mn_local_record_path(const char *dir, const char *id, const char *suffix, char *out,
                         size_t size);

/* Returns 0, -ENOENT (no record), or another negative errno (-EINVAL: what
 * is there is not a record; why then says what is wrong). */
int mn_local_record_read(const char *dir, const char *id, struct mn_local_record *out, char *why,
                         size_t why_size);

/* Writes the record; the log must exist (a launch creates it first).
 * Returns 0 or a negative errno. */
int mn_local_record_write(const char *dir, const struct mn_local_record *rec);

/* Deletes the record and the log of id (a missing one is no error).
 * Returns 0 or a negative errno. */
int mn_local_record_remove(const char *dir, const char *id);

/* Calls cb for the id of every execution with a log or a record file in
 * dir (in no particular order; its record may be missing: a launch cut
 * short); stops when cb returns nonzero. Returns 0 or a negative errno. */
typedef int mn_local_record_id_fn(void *ctx, const char *id);
int mn_local_record_foreach(const char *dir, mn_local_record_id_fn *cb, void *ctx);

#endif
