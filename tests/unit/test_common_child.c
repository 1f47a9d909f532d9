/* Starting a worker's process (multinode/common/child.h): a child born in
 * its cgroup (clone3 with CLONE_INTO_CGROUP) is in it before it runs a
 * line, a child forked without it joins; signals start from their
 * defaults. Needs a writable cgroup v2 hierarchy (the local provider's
 * own requirement for cgroups); without one the cgroup tests say so and
 * pass nothing off as checked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "multinode/common/child.h"

struct leaf {
  char mount[256];  /* where cgroup v2 is mounted */
  char own[512];    /* this process's cgroup, relative to it ("/..." ) */
  char path[1024];  /* the leaf made for the test */
  int fd;
};

/* The cgroup v2 mount and this process's place in it; 0 or -1. */
static int find_v2(struct leaf *l) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[1024];
  int found = 0;
  if (!f)
    return -1;
  while (!found && fgets(line, sizeof line, f)) {
    char mnt[256];
    const char *sep = strstr(line, " - cgroup2 ");
    if (sep && sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1) {
      snprintf(l->mount, sizeof l->mount, "%s", mnt);
      found = 1;
    }
  }
  fclose(f);
  if (!found || !(f = fopen("/proc/self/cgroup", "r")))
    return -1;
  found = 0;
  while (!found && fgets(line, sizeof line, f))
    if (strncmp(line, "0::", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(l->own, sizeof l->own, "%s", line + 3);
      found = 1;
    }
  fclose(f);
  return found ? 0 : -1;
}

/* A leaf beside this process's cgroup (a cgroup with processes may not
 * have children that take them, so it goes in the parent); 0 or -1. */
static int make_leaf(struct leaf *l) {
  memset(l, 0, sizeof *l);
  l->fd = -1;
  if (find_v2(l) != 0)
    return -1;
  char parent[768];
  snprintf(parent, sizeof parent, "%s%s", l->mount, strcmp(l->own, "/") == 0 ? "" : l->own);
  if (strcmp(l->own, "/") != 0)
    *strrchr(parent, '/') = '\0';
  static int made;
  snprintf(l->path, sizeof l->path, "%s/mn-test-child-%ld-%d", parent, (long)getpid(), ++made);
  if (mkdir(l->path, 0755) != 0)
    return -1;
  l->fd = open(l->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return l->fd >= 0 ? 0 : -1;
}

static void drop_leaf(struct leaf *l) {
  if (l->fd >= 0)
    close(l->fd);
  rmdir(l->path);
}

/* In the child: 0 when /proc/self/cgroup names the leaf. */
static int in_leaf(const struct leaf *l) {
  char line[1024], want[1024];
  FILE *f = fopen("/proc/self/cgroup", "r");
  int ok = 0;
  if (!f)
    return 0;
  snprintf(want, sizeof want, "0::%s\n", l->path + strlen(l->mount));
  while (fgets(line, sizeof line, f))
    if (strcmp(line, want) == 0)
      ok = 1;
  fclose(f);
  return ok;
}

static int child_status(pid_t pid) {
  int status = -1;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* clone3 into a cgroup is promised by Linux 5.7, refused by valgrind
 * (ENOSYS) and not asked for in a sanitizer build. */
static int expect_born_in(void) {
#ifdef MN_SANITIZER_BUILD
  return 0;
#else
  struct utsname u;
  int major = 0, minor = 0;
  const char *preload = getenv("LD_PRELOAD");
  if (preload && strstr(preload, "vgpreload"))
    return 0;
  if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
    return 0;
  return major > 5 || (major == 5 && minor >= 7);
#endif
}

/* A leaf for the test, or the test is skipped (no writable cgroup v2). */
static void leaf_or_skip(struct leaf *l) {
  if (make_leaf(l) != 0) {
    drop_leaf(l);
    skip();
  }
}

static void born_in_its_cgroup(void **state) {
  (void)state;
  struct leaf l;
  leaf_or_skip(&l);
  int placed = -1;
  pid_t pid = mn_child_fork(l.fd, &placed);
  if (pid == 0) {
    /* before anything else: in the leaf already, or about to join it */
    if (!placed && mn_child_join_cgroup(l.fd) != 0)
      _exit(2);
    _exit(in_leaf(&l) ? 0 : 1);
  }
  assert_true(pid > 0);
  assert_int_equal(child_status(pid), 0);
  if (expect_born_in())
    assert_int_equal(placed, 1);
  drop_leaf(&l);
}

static void joined_without_clone3(void **state) {
  (void)state;
  struct leaf l;
  leaf_or_skip(&l);
  int placed = -1;
  pid_t pid = mn_child_fork(-1, &placed); /* no cgroup: a plain fork */
  if (pid == 0)
    _exit(placed != 0 ? 3 : in_leaf(&l) ? 4 : mn_child_join_cgroup(l.fd) != 0 ? 2
                                                 : in_leaf(&l)                 ? 0
                                                                              : 1);
  assert_true(pid > 0);
  assert_int_equal(child_status(pid), 0);
  assert_int_equal(placed, 0);
  drop_leaf(&l);
}

static void joining_what_is_not_a_cgroup_fails(void **state) {
  (void)state;
  int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* not a cgroup */
  assert_true(fd >= 0);
  errno = 0;
  assert_int_equal(mn_child_join_cgroup(fd), -1);
  assert_int_not_equal(errno, 0);
  close(fd);
}

static void on_usr1(int sig) {
  (void)sig;
}

static void signals_start_from_defaults(void **state) {
  (void)state;
  struct sigaction sa;
  sigset_t block, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
  signal(SIGUSR2, SIG_IGN);
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  int placed;
  pid_t pid = mn_child_fork(-1, &placed);
  if (pid == 0) {
    struct sigaction now1, now2;
    sigset_t mask;
    mn_child_reset_signals();
    sigaction(SIGUSR1, NULL, &now1);
    sigaction(SIGUSR2, NULL, &now2);
    sigprocmask(SIG_SETMASK, NULL, &mask);
    _exit(now1.sa_handler == SIG_DFL && now2.sa_handler == SIG_DFL && !sigismember(&mask, SIGTERM)
              ? 0
              : 1);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
  assert_true(pid > 0);
  assert_int_equal(child_status(pid), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(born_in_its_cgroup),
      cmocka_unit_test(joined_without_clone3),
      cmocka_unit_test(joining_what_is_not_a_cgroup_fails),
      cmocka_unit_test(signals_start_from_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
