#include "store/pg_exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int mn_pg_user_init(struct mn_pg_user *u, struct mn_error *err) {
  memset(u, 0, sizeof *u);
  if (geteuid() != 0) {
    u->uid = geteuid();
    u->gid = getegid();
    return 0;
  }
  struct passwd pw, *found = NULL;
  char buf[4096];
  if (getpwnam_r("postgres", &pw, buf, sizeof buf, &found) != 0 || !found)
    return mn_fail(err, MN_ECONFIG,
                   "embedded postgres: running as root needs a \"postgres\" user to run "
                   "the cluster as (or set store.postgres.dsn)");
  u->drop = true;
  u->uid = pw.pw_uid;
  u->gid = pw.pw_gid;
  return 0;
}

/* In the child after fork: only async-signal-safe calls. */
static void close_inherited_fds(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
    return;
#endif
  struct rlimit rl;
  long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur
                                                                        : 65536;
  for (long fd = 3; fd < max; fd++)
    close((int)fd);
}

int mn_pg_exec(const struct mn_pg_user *u, char *const argv[], const char *log_path,
               const char *cwd) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0)
      dup2(in, 0);
    if (u->drop && (setgroups(1, &u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0))
      _exit(126);
    if (log_path) {
      int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
    }
    close_inherited_fds();
    if (cwd && chdir(cwd) < 0)
      _exit(126);
    /* exec keeps ignored signals ignored: give Postgres the defaults */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < 32; sig++)
      if (sig != SIGKILL && sig != SIGSTOP)
        sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, environ);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool has_tools(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/initdb", dir);
  if (access(path, X_OK) != 0)
    return false;
  snprintf(path, sizeof path, "%s/pg_ctl", dir);
  return access(path, X_OK) == 0;
}

/* `pg_config --bindir`, or "" when it cannot be run. */
static void pg_config_bindir(char *out, size_t size) {
  int fds[2];
  out[0] = '\0';
  if (pipe(fds) < 0)
    return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  char *argv[] = {"pg_config", "--bindir", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "pg_config", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  size_t len = 0;
  if (rc == 0) {
    ssize_t n;
    while (len + 1 < size && (n = read(fds[0], out + len, size - 1 - len)) != 0) {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      len += (size_t)n;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  }
  close(fds[0]);
  out[len] = '\0';
  out[strcspn(out, "\r\n")] = '\0';
}

/* The highest /usr/lib/postgresql/<major>[.<minor>]/bin with the tools. */
static void debian_bindir(char *out, size_t size) {
  out[0] = '\0';
  DIR *d = opendir("/usr/lib/postgresql");
  if (!d)
    return;
  long best_major = -1, best_minor = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long major = strtol(e->d_name, &end, 10), minor = 0;
    if (end == e->d_name || (*end && *end != '.'))
      continue;
    if (*end == '.')
      minor = strtol(end + 1, NULL, 10);
    char dir[512];
    snprintf(dir, sizeof dir, "/usr/lib/postgresql/%s/bin", e->d_name);
    if (!has_tools(dir))
      continue;
    if (major > best_major || (major == best_major && minor > best_minor)) {
      best_major = major;
      best_minor = minor;
      snprintf(out, size, "%s", dir);
    }
  }
  closedir(d);
}

int mn_pg_find_bindir(char **out, struct mn_error *err) {
  char dir[4096] = "";
  const char *env = getenv("MN_PG_BINDIR");
  if (env && *env) {
    if (!has_tools(env))
      return mn_fail(err, MN_ECONFIG, "embedded postgres: MN_PG_BINDIR \"%s\" has no "
                     "initdb and pg_ctl", env);
    snprintf(dir, sizeof dir, "%s", env);
  }
  if (!dir[0]) {
    pg_config_bindir(dir, sizeof dir);
    if (dir[0] && !has_tools(dir))
      dir[0] = '\0';
  }
  if (!dir[0])
    debian_bindir(dir, sizeof dir);
  if (!dir[0])
    return mn_fail(err, MN_ECONFIG,
                   "embedded postgres: cannot find the PostgreSQL server programs (initdb, "
                   "pg_ctl): install the postgresql package or set store.postgres.dsn");
  *out = strdup(dir);
  return *out ? 0 : mn_fail(err, MN_ENOMEM, "out of memory");
}

bool mn_pg_process_alive(pid_t pid) {
  if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
    return false;
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return errno != ENOENT; /* no procfs: trust kill() */
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *open = strchr(buf, '('), *close = strrchr(buf, ')');
  if (!open || !close || close[1] == '\0' || close[2] == '\0')
    return false;
  char state = close[2];
  if (state == 'Z' || state == 'X' || state == 'x')
    return false; /* dead, waiting for a parent that may never reap it */
  *close = '\0';
  /* a recycled pid is not our postmaster */
  return strcmp(open + 1, "postgres") == 0 || strcmp(open + 1, "postmaster") == 0;
}

bool mn_pg_process_in_dir(pid_t pid, const char *dir) {
  char link[64], cwd[4096], real[4096];
  snprintf(link, sizeof link, "/proc/%ld/cwd", (long)pid);
  ssize_t n = readlink(link, cwd, sizeof cwd - 1);
  if (n < 0)
    return true; /* cannot tell (no procfs, other user): trust the pid file */
  cwd[n] = '\0';
  return realpath(dir, real) && strcmp(cwd, real) == 0;
}

static bool may_enter(const struct mn_pg_user *u, const struct stat *st) {
  if (!u->drop)
    return true;
  if (st->st_uid == u->uid)
    return st->st_mode & S_IXUSR;
  if (st->st_gid == u->gid)
    return st->st_mode & S_IXGRP;
  return st->st_mode & S_IXOTH;
}

bool mn_pg_user_can_reach(const struct mn_pg_user *u, const char *path, char **blocker) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  size_t len = strlen(buf);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char saved = buf[i];
    buf[i] = '\0';
    struct stat st;
    bool ok = stat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || may_enter(u, &st);
    if (!ok) {
      *blocker = strdup(buf);
      return false;
    }
    buf[i] = saved;
  }
  return true;
}

void mn_pg_log_tail(const char *path, char *buf, size_t size) {
  char chunk[4096];
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  if (fseek(f, 0, SEEK_END) == 0) {
    long end = ftell(f);
    fseek(f, end > (long)sizeof chunk - 1 ? end - (long)sizeof chunk + 1 : 0, SEEK_SET);
  }
  size_t n = fread(chunk, 1, sizeof chunk - 1, f);
  fclose(f);
  chunk[n] = '\0';
  while (n > 0 && (chunk[n - 1] == '\n' || chunk[n - 1] == '\r' || chunk[n - 1] == ' '))
    chunk[--n] = '\0';
  char *line = strrchr(chunk, '\n');
  snprintf(buf, size, "%s", line ? line + 1 : chunk);
}
