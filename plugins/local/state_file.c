/* state_file.c — per-execution records: small JSON texts, kept as an
 * extended attribute of the execution's log (state_file.h). */
#include "state_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define RECORD_SUFFIX ".json"
#define LOG_SUFFIX ".log"

int mn_local_id_valid(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > MN_LOCAL_ID_MAX || id[0] == '.')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    if (!ok)
      return 0;
  }
  return 1;
}

int mn_local_record_path(const char *dir, const char *id, const char *suffix, char *out,
                         size_t size) {
  int n = snprintf(out, size, "%s/%s%s", dir, id, suffix);
  return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

static int copy_string(json_t *root, const char *key, char *out, size_t size) {
  json_t *v = json_object_get(root, key);
  if (!v)
    return 0; /* optional */
  if (!json_is_string(v) || json_string_length(v) >= size)
    return -1;
  memcpy(out, json_string_value(v), json_string_length(v) + 1);
  return 0;
}

static int copy_int(json_t *root, const char *key, long long min, long long max, long long *out) {
  json_t *v = json_object_get(root, key);
  if (!v)
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
    return -1;
  *out = json_integer_value(v);
  return 0;
}

static int record_from_json(json_t *root, struct mn_local_record *rec, const char **bad) {
  long long pid = 0, start = 0, code = -1, created = 0, deadline = 0;
  const char *status;
  memset(rec, 0, sizeof *rec);
  *bad = "";
  if (!json_is_object(root))
    return (*bad = "not an object", -1);
  if (copy_string(root, "execution_id", rec->execution_id, sizeof rec->execution_id))
    return (*bad = "execution_id", -1);
  if (copy_string(root, "cluster_id", rec->cluster_id, sizeof rec->cluster_id))
    return (*bad = "cluster_id", -1);
  if (copy_string(root, "reason", rec->reason, sizeof rec->reason))
    return (*bad = "reason", -1);
  if (copy_string(root, "cgroup", rec->cgroup, sizeof rec->cgroup))
    return (*bad = "cgroup", -1);
  if (copy_int(root, "pid", 1, INT32_MAX, &pid) || pid == 0)
    return (*bad = "pid", -1);
  if (copy_int(root, "start_time", 0, INT64_MAX, &start))
    return (*bad = "start_time", -1);
  if (copy_int(root, "exit_code", -1, 255, &code))
    return (*bad = "exit_code", -1);
  if (copy_int(root, "created_us", 0, INT64_MAX, &created))
    return (*bad = "created_us", -1);
  if (copy_int(root, "kill_deadline_us", 0, INT64_MAX, &deadline))
    return (*bad = "kill_deadline_us", -1);
  status = json_string_value(json_object_get(root, "status"));
  if (status && strcmp(status, "running") == 0)
    rec->status = MN_LOCAL_RUNNING;
  else if (status && strcmp(status, "exited") == 0)
    rec->status = MN_LOCAL_EXITED;
  else
    return (*bad = "status", -1);
  rec->released = json_is_true(json_object_get(root, "released"));
  rec->pid = (pid_t)pid;
  rec->start_time = (uint64_t)start;
  rec->exit_code = (int)code;
  rec->created_us = created;
  rec->kill_deadline_us = deadline;
  return 0;
}

/* the largest record: a page, or a record with a long cgroup path */
#define RECORD_MAX (8192 + PATH_MAX)

/* Where the file system has no user extended attributes (tmpfs before
 * Linux 6.6, some network file systems), or for a record too large for
 * one attribute, the record is the file <id>.json instead. */
static int no_xattr(int e) { return e == ENOTSUP || e == EOPNOTSUPP; }

static int parse_record(const char *buf, size_t len, const char *where, const char *id,
                        struct mn_local_record *out, char *why, size_t why_size) {
  json_error_t jerr;
  const char *bad;
  json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    snprintf(why, why_size, "%s: %s", where, jerr.text);
    return -EINVAL;
  }
  int rc = 0;
  if (record_from_json(root, out, &bad) != 0) {
    snprintf(why, why_size, "%s: bad field \"%s\"", where, bad);
    rc = -EINVAL;
  } else if (strcmp(out->execution_id, id) != 0) {
    snprintf(why, why_size, "%s: holds another execution id", where);
    rc = -EINVAL;
  }
  json_decref(root);
  return rc;
}

/* The record file <dir>/<id>.json, read with one read() (json_load_file
 * would read it a byte at a time). */
static int read_file_record(const char *dir, const char *id, struct mn_local_record *out,
                            char *why, size_t why_size) {
  char path[PATH_MAX];
  char buf[RECORD_MAX];
  int rc = mn_local_record_path(dir, id, RECORD_SUFFIX, path, sizeof path);
  if (rc < 0)
    return rc;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n;
  size_t len = 0;
  while (len < sizeof buf && ((n = read(fd, buf + len, sizeof buf - len)) > 0 ||
                              (n < 0 && errno == EINTR)))
    len += n > 0 ? (size_t)n : 0;
  close(fd);
  if (len == sizeof buf) {
    snprintf(why, why_size, "%s: larger than %d bytes", path, RECORD_MAX);
    return -EINVAL;
  }
  return parse_record(buf, len, path, id, out, why, why_size);
}

int mn_local_record_read(const char *dir, const char *id, struct mn_local_record *out, char *why,
                         size_t why_size) {
  char log[PATH_MAX], where[PATH_MAX + 32];
  char buf[RECORD_MAX];
  int rc = mn_local_record_path(dir, id, LOG_SUFFIX, log, sizeof log);
  if (rc < 0)
    return rc;
  ssize_t n = getxattr(log, MN_LOCAL_RECORD_XATTR, buf, sizeof buf);
  if (n < 0 && (errno == ENODATA || no_xattr(errno)))
    return read_file_record(dir, id, out, why, why_size); /* -ENOENT: none */
  snprintf(where, sizeof where, "%s (attribute %s)", log, MN_LOCAL_RECORD_XATTR);
  if (n < 0 && errno == ERANGE) {
    snprintf(why, why_size, "%s: larger than %d bytes", where, RECORD_MAX);
    return -EINVAL;
  }
  if (n < 0)
    return -errno; /* -ENOENT: no log, no record */
  return parse_record(buf, (size_t)n, where, id, out, why, why_size);
}

static json_t *record_to_json(const struct mn_local_record *rec) {
  return json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:I, s:I, s:b, s:s}", "execution_id",
                   rec->execution_id, "cluster_id", rec->cluster_id, "status",
                   rec->status == MN_LOCAL_RUNNING ? "running" : "exited", "pid",
                   (json_int_t)rec->pid, "start_time", (json_int_t)rec->start_time, "exit_code",
                   rec->exit_code, "reason", rec->reason, "created_us", (json_int_t)rec->created_us,
                   "kill_deadline_us", (json_int_t)rec->kill_deadline_us, "released", rec->released,
                   "cgroup", rec->cgroup);
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The record file: a change that fits one page is written in place, as one
 * page-sized write at offset 0 padded with spaces (JSON allows trailing
 * white space), whole or absent when the daemon dies; a new record is
 * created whole, a temporary file renamed into place. */
#define RECORD_PAGE 4096

static int write_in_place(const char *path, const char *text, size_t len) {
  char page[RECORD_PAGE];
  struct stat st;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) /* a daemon killed meanwhile leaves no record, never an empty one */
    return errno == ENOENT ? 1 : -errno;
  if (fstat(fd, &st) != 0 || st.st_size > RECORD_PAGE) {
    close(fd);
    return 1; /* written whole before: replace it whole */
  }
  memcpy(page, text, len);
  memset(page + len, ' ', RECORD_PAGE - len - 1);
  page[RECORD_PAGE - 1] = '\n';
  ssize_t n;
  while ((n = pwrite(fd, page, RECORD_PAGE, 0)) < 0 && errno == EINTR) {
  }
  int rc = n == RECORD_PAGE ? 0 : n < 0 ? -errno : -EIO;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

static int write_file_record(const char *dir, const char *id, const char *text) {
  char path[PATH_MAX], tmp[PATH_MAX];
  int rc = mn_local_record_path(dir, id, RECORD_SUFFIX, path, sizeof path);
  if (rc < 0 || (rc = mn_local_record_path(dir, id, RECORD_SUFFIX ".tmp", tmp, sizeof tmp)) < 0)
    return rc;
  if (strlen(text) < RECORD_PAGE && (rc = write_in_place(path, text, strlen(text))) <= 0)
    return rc;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  rc = write_all(fd, text, strlen(text));
  if (rc == 0)
    rc = write_all(fd, "\n", 1);
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  return rc;
}

/* The record is an extended attribute of the execution's log, replaced
 * whole by one setxattr (the daemon dies before it or after it, never
 * within it), so a launch creates two inodes (the working directory and
 * the log) instead of three (and a rename): on ext4 without a journal each
 * new inode scans past the recently deleted ones, which cost a third of
 * the daemon's CPU in the dispatch benchmark (docs/local.md). No fsync
 * either way: a record describes processes of this machine, which an OS
 * crash (the only thing fsync guards against) ends as well. */
int mn_local_record_write(const char *dir, const struct mn_local_record *rec) {
  char log[PATH_MAX];
  int rc = mn_local_record_path(dir, rec->execution_id, LOG_SUFFIX, log, sizeof log);
  if (rc < 0)
    return rc;
  json_t *root = record_to_json(rec);
  char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
  json_decref(root);
  if (!text)
    return -ENOMEM;
  if (setxattr(log, MN_LOCAL_RECORD_XATTR, text, strlen(text), 0) == 0) {
    rc = 0;
  } else if (no_xattr(errno)) {
    rc = write_file_record(dir, rec->execution_id, text);
  } else if (errno == E2BIG || errno == ENOSPC || errno == ERANGE) {
    /* too large for an attribute (a very long cgroup path): the file,
     * which a read finds once the attribute is gone */
    rc = write_file_record(dir, rec->execution_id, text);
    if (rc == 0 && removexattr(log, MN_LOCAL_RECORD_XATTR) != 0 && errno != ENODATA)
      rc = -errno;
  } else {
    rc = -errno;
  }
  free(text);
  return rc;
}

int mn_local_record_remove(const char *dir, const char *id) {
  static const char *const suffixes[] = {RECORD_SUFFIX, LOG_SUFFIX};
  char path[PATH_MAX];
  int rc = 0;
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
    if (mn_local_record_path(dir, id, suffixes[i], path, sizeof path) == 0 &&
        unlink(path) != 0 && errno != ENOENT)
      rc = -errno;
  return rc;
}

/* The id of name when it ends in suffix, in id; else 0. */
static int id_of(const char *name, const char *suffix, char id[MN_LOCAL_ID_MAX + 1]) {
  size_t n = strlen(name), k = strlen(suffix);
  if (n <= k || n - k > MN_LOCAL_ID_MAX || strcmp(name + n - k, suffix) != 0)
    return 0;
  memcpy(id, name, n - k);
  id[n - k] = '\0';
  return mn_local_id_valid(id);
}

int mn_local_record_foreach(const char *dir, mn_local_record_id_fn *cb, void *ctx) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char id[MN_LOCAL_ID_MAX + 1], log[MN_LOCAL_ID_MAX + sizeof LOG_SUFFIX];
  if (!d)
    return -errno;
  while ((e = readdir(d)) != NULL) {
    if (id_of(e->d_name, LOG_SUFFIX, id)) {
      if (cb(ctx, id) != 0)
        break;
    } else if (id_of(e->d_name, RECORD_SUFFIX, id)) {
      /* a record file beside its log was listed with the log */
      snprintf(log, sizeof log, "%s%s", id, LOG_SUFFIX);
      if (faccessat(dirfd(d), log, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        continue;
      if (cb(ctx, id) != 0)
        break;
    }
  }
  closedir(d);
  return 0;
}
