/* worker_user.c — resolving the workers' user; switching to it; probing
 * what it can reach. */
#define _GNU_SOURCE /* getgrouplist */
#include "worker_user.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_USER "nobody"

#ifndef CLONE_NEWNS
#define CLONE_NEWNS 0x00020000
#endif

/* The 32-bit-id system calls where the plain ones take 16-bit ids. */
#ifdef SYS_setresuid32
#define MN_SYS_SETGROUPS SYS_setgroups32
#define MN_SYS_SETRESGID SYS_setresgid32
#define MN_SYS_SETRESUID SYS_setresuid32
#else
#define MN_SYS_SETGROUPS SYS_setgroups
#define MN_SYS_SETRESGID SYS_setresgid
#define MN_SYS_SETRESUID SYS_setresuid
#endif

static int all_digits(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

/* The passwd entry of name (or of the uid it spells); 0, or -1. */
static int lookup(const char *user, struct passwd *pw, char *buf, size_t size) {
  struct passwd *found = NULL;
  if (getpwnam_r(user, pw, buf, size, &found) == 0 && found)
    return 0;
  if (all_digits(user) && strlen(user) < 11) {
    unsigned long v = strtoul(user, NULL, 10);
    if (v <= UINT32_MAX - 1 && getpwuid_r((uid_t)v, pw, buf, size, &found) == 0 && found)
      return 0;
  }
  return -1;
}

int mn_local_identity_resolve(const char *user, int allow_root, uid_t daemon_uid,
                              struct mn_local_identity *out, char *why, size_t why_size) {
  struct passwd pw;
  char buf[4096];
  memset(out, 0, sizeof *out);

  if (daemon_uid != 0) {
    /* Not root: the workers run as the daemon's own user. */
    out->uid = daemon_uid;
    out->gid = getegid();
    if (getpwuid_r(daemon_uid, &pw, buf, sizeof buf, &(struct passwd *){NULL}) == 0 &&
        pw.pw_name)
      snprintf(out->name, sizeof out->name, "%s", pw.pw_name);
    else
      snprintf(out->name, sizeof out->name, "%lu", (unsigned long)daemon_uid);
    if (user && user[0] && strcmp(user, out->name) != 0 &&
        !(all_digits(user) && strtoul(user, NULL, 10) == (unsigned long)daemon_uid)) {
      snprintf(why, why_size,
               "cannot run workers as \"%s\": the daemon runs as \"%s\", not as root, "
               "and can start processes only as itself (leave user unset)",
               user, out->name);
      return -1;
    }
    return 0;
  }

  const char *name = user && user[0] ? user : DEFAULT_USER;
  if (lookup(name, &pw, buf, sizeof buf) == 0) {
    out->uid = pw.pw_uid;
    out->gid = pw.pw_gid;
    snprintf(out->name, sizeof out->name, "%s", pw.pw_name);
    int n = MN_LOCAL_GROUPS_MAX;
    if (getgrouplist(pw.pw_name, pw.pw_gid, out->groups, &n) < 0)
      n = MN_LOCAL_GROUPS_MAX; /* more than that: the first ones */
    out->n_groups = (size_t)n;
  } else if (all_digits(name) && strlen(name) < 11 &&
             strtoul(name, NULL, 10) <= UINT32_MAX - 1) {
    /* a uid without a passwd entry: its own number as its group */
    out->uid = (uid_t)strtoul(name, NULL, 10);
    out->gid = (gid_t)out->uid;
    out->groups[0] = out->gid;
    out->n_groups = 1;
    snprintf(out->name, sizeof out->name, "%s", name);
  } else {
    snprintf(why, why_size, "no such user \"%s\"%s", name,
             user && user[0] ? "" : " (the default for a daemon running as root); name one");
    return -1;
  }
  if (out->uid == 0 && !allow_root) {
    snprintf(why, why_size,
             "workers would run as root (\"%s\"), with every right on this machine; "
             "name an unprivileged user, or set allow_root: true to accept that",
             out->name);
    return -1;
  }
  out->switch_user = out->uid != 0 || out->gid != 0;
  return 0;
}

int mn_local_identity_apply(const struct mn_local_identity *id) {
  if (!id || !id->switch_user)
    return 0;
  if (syscall(MN_SYS_SETGROUPS, id->n_groups, id->groups) != 0 ||
      syscall(MN_SYS_SETRESGID, id->gid, id->gid, id->gid) != 0 ||
      syscall(MN_SYS_SETRESUID, id->uid, id->uid, id->uid) != 0)
    return -errno;
  if (getuid() != id->uid || geteuid() != id->uid || getgid() != id->gid)
    return -EPERM;
  return 0;
}

int mn_local_masks_apply(const struct mn_local_masks *masks) {
  if (!masks || masks->n == 0)
    return 0;
  /* a namespace of our own, whose mounts do not propagate back */
  if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
    return -errno;
  for (size_t i = 0; i < masks->n; i++)
    if (mount(masks->source, masks->paths[i], "none", MS_BIND, NULL) != 0)
      return -errno;
  return 0;
}

/* In the probe child: the first directory prefix of path the user cannot
 * pass through (its length), 0 if none. */
static size_t blocking_prefix(const char *path) {
  char prefix[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof prefix)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if (path[i] != '/')
      continue;
    memcpy(prefix, path, i);
    prefix[i] = '\0';
    if (access(prefix, X_OK) != 0)
      return i;
  }
  return 0;
}

int mn_local_identity_probe(const struct mn_local_identity *id, const struct mn_local_masks *masks,
                            const char *const *paths, const int *modes, size_t n,
                            struct mn_local_access *out) {
  int fds[2];
  sigset_t all, old;
  int rc = 0;

  memset(out, 0, n * sizeof *out);
  if (n == 0)
    return 0;
  if (pipe2(fds, O_CLOEXEC) != 0)
    return -errno;
  /* No handler of the daemon may run in the child. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    /* Async-signal-safe calls only: the daemon has other threads. */
    close(fds[0]);
    if (mn_local_masks_apply(masks) != 0 || mn_local_identity_apply(id) != 0)
      _exit(2);
    for (size_t i = 0; i < n; i++) {
      struct mn_local_access a;
      memset(&a, 0, sizeof a); /* the padding too: it crosses the pipe */
      if (access(paths[i], modes[i]) != 0) {
        a.err = errno;
        if (a.err == EACCES)
          a.blocked = blocking_prefix(paths[i]);
      }
      if (write(fds[1], &a, sizeof a) != (ssize_t)sizeof a)
        _exit(3);
    }
    _exit(0);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return -fork_errno;
  }
  size_t want = n * sizeof *out, got = 0;
  while (got < want) {
    ssize_t r = read(fds[0], (char *)out + got, want - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got < want || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    rc = WIFEXITED(status) && WEXITSTATUS(status) == 2 ? -EPERM : -EIO;
  return rc;
}

void mn_local_access_describe(const char *path, const struct mn_local_access *a, char *out,
                              size_t size) {
  if (a->err == EACCES && a->blocked > 0)
    snprintf(out, size, "\"%s\" (blocked at \"%.*s\")", path, (int)a->blocked, path);
  else
    snprintf(out, size, "\"%s\" (%s)", path, strerror(a->err));
}
