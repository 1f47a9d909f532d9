/* The local provider's containment helpers, compiled in
 * (plugins/local/{worker_user,workdir}.c and the byte-count parser of
 * local_conf.c): resolving the workers' user, switching to it and probing
 * what it can reach (as root: through real child processes), working
 * directories, and removing a tree a task filled with links and depth. */
#define _GNU_SOURCE /* the provider's sources below need it */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../plugins/local/local_conf.c"
#include "../../plugins/local/workdir.c"
#include "../../plugins/local/worker_user.c"

static char root[64];

static int setup(void **state) {
  (void)state;
  snprintf(root, sizeof root, "/tmp/mn-contain-XXXXXX");
  assert_non_null(mkdtemp(root));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char *slash = strrchr(root, '/');
  *slash = '\0';
  mn_local_tree_remove(root, slash + 1);
  *slash = '/';
  return 0;
}

static void test_resolve_identity(void **state) {
  (void)state;
  struct mn_local_identity id;
  char why[512];
  /* as root: nobody by default */
  assert_int_equal(mn_local_identity_resolve(NULL, 0, 0, &id, why, sizeof why), 0);
  assert_string_equal(id.name, "nobody");
  assert_int_equal(id.uid, 65534);
  assert_true(id.switch_user);
  assert_true(id.n_groups >= 1);
  /* root only when allowed, and then there is nothing to switch */
  assert_int_equal(mn_local_identity_resolve("root", 0, 0, &id, why, sizeof why), -1);
  assert_non_null(strstr(why, "allow_root: true"));
  assert_int_equal(mn_local_identity_resolve("0", 0, 0, &id, why, sizeof why), -1);
  assert_int_equal(mn_local_identity_resolve("root", 1, 0, &id, why, sizeof why), 0);
  assert_false(id.switch_user);
  /* a uid with no passwd entry is its own group */
  assert_int_equal(mn_local_identity_resolve("4242", 0, 0, &id, why, sizeof why), 0);
  assert_int_equal(id.uid, 4242);
  assert_int_equal(id.gid, 4242);
  assert_int_equal(mn_local_identity_resolve("no-such-user-x", 0, 0, &id, why, sizeof why), -1);
  assert_non_null(strstr(why, "no such user \"no-such-user-x\""));
  /* not root: the daemon's own user, nobody else */
  assert_int_equal(mn_local_identity_resolve(NULL, 0, 1000, &id, why, sizeof why), 0);
  assert_false(id.switch_user);
  assert_int_equal(id.uid, 1000);
  assert_int_equal(mn_local_identity_resolve("nobody", 0, 1000, &id, why, sizeof why), -1);
  assert_non_null(strstr(why, "not as root"));
}

/* A child switched to nobody is nobody for good, and the probe sees what
 * nobody sees: not a 0700 folder of root's, and which folder is in the way. */
static void test_apply_and_probe(void **state) {
  (void)state;
  struct mn_local_identity id;
  char why[512], closed[128], open_file[128], inside[160];
  if (geteuid() != 0)
    skip();
  assert_int_equal(mn_local_identity_resolve(NULL, 0, 0, &id, why, sizeof why), 0);
  pid_t pid = fork();
  if (pid == 0) {
    if (mn_local_identity_apply(&id) != 0)
      _exit(1);
    if (getuid() != 65534 || geteuid() != 65534 || setuid(0) == 0)
      _exit(2);
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  snprintf(closed, sizeof closed, "%s/closed", root);
  snprintf(inside, sizeof inside, "%s/closed/file", root);
  snprintf(open_file, sizeof open_file, "%s/open", root);
  assert_int_equal(chmod(root, 0755), 0);
  assert_int_equal(mkdir(closed, 0700), 0);
  FILE *f = fopen(inside, "w");
  fclose(f);
  f = fopen(open_file, "w");
  fclose(f);
  assert_int_equal(chmod(open_file, 0644), 0);
  const char *paths[] = {open_file, inside, closed};
  const int modes[] = {R_OK, R_OK, R_OK};
  struct mn_local_access got[3];
  assert_int_equal(mn_local_identity_probe(&id, NULL, paths, modes, 3, got), 0);
  assert_int_equal(got[0].err, 0);
  assert_int_equal(got[1].err, EACCES);
  assert_int_equal(got[1].blocked, strlen(closed));
  assert_int_equal(got[2].err, EACCES);
  char text[256];
  mn_local_access_describe(inside, &got[1], text, sizeof text);
  assert_non_null(strstr(text, "blocked at"));
  assert_non_null(strstr(text, closed));
}

/* Behind a mask, even a world-readable file is closed to the workers. */
static void test_masks_hide_a_file(void **state) {
  (void)state;
  struct mn_local_identity id;
  char why[512], secret[128], source[128];
  if (geteuid() != 0)
    skip();
  assert_int_equal(mn_local_identity_resolve(NULL, 0, 0, &id, why, sizeof why), 0);
  assert_int_equal(chmod(root, 0755), 0);
  snprintf(secret, sizeof secret, "%s/secret.yaml", root);
  snprintf(source, sizeof source, "%s/.mask", root);
  FILE *f = fopen(secret, "w");
  fputs("api_key: k\n", f);
  fclose(f);
  assert_int_equal(chmod(secret, 0644), 0);
  int fd = open(source, O_WRONLY | O_CREAT, 0);
  assert_true(fd >= 0);
  close(fd);
  struct mn_local_masks masks = {.source = source, .paths = {secret}, .n = 1};
  const char *paths[] = {secret};
  const int modes[] = {R_OK};
  struct mn_local_access got[1];
  assert_int_equal(mn_local_identity_probe(&id, NULL, paths, modes, 1, got), 0);
  assert_int_equal(got[0].err, 0); /* readable: 0644 */
  int rc = mn_local_identity_probe(&id, &masks, paths, modes, 1, got);
  if (rc == -EPERM)
    skip(); /* no mount namespaces here */
  assert_int_equal(rc, 0);
  assert_int_equal(got[0].err, EACCES);
}

static void test_workdir_create(void **state) {
  (void)state;
  struct mn_local_identity id;
  char why[512], path[PATH_MAX], link[128];
  struct stat st;
  if (geteuid() != 0)
    skip();
  assert_int_equal(mn_local_identity_resolve(NULL, 0, 0, &id, why, sizeof why), 0);
  assert_int_equal(mn_local_workdir_create(root, "exe-1", &id, path, sizeof path, why, sizeof why),
                   0);
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_uid, id.uid);
  assert_int_equal(st.st_mode & 07777, 0700);
  /* taken over after a crash: still its own, still 0700 */
  assert_int_equal(chmod(path, 0755), 0);
  assert_int_equal(mn_local_workdir_create(root, "exe-1", &id, path, sizeof path, why, sizeof why),
                   0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  /* a link in its place is not followed */
  snprintf(link, sizeof link, "%s/exe-2", root);
  assert_int_equal(symlink("/etc", link), 0);
  assert_true(mn_local_workdir_create(root, "exe-2", &id, path, sizeof path, why, sizeof why) < 0);
  assert_int_equal(stat("/etc", &st), 0);
  assert_int_not_equal(st.st_uid, id.uid);
}

/* A tree as a task may leave it: links to folders outside, a folder it
 * closed (mode 0), and far deeper than the remover descends. */
static void test_tree_remove(void **state) {
  (void)state;
  char outside[128], keep[160], tree[128], path[8192];
  snprintf(outside, sizeof outside, "%s/outside", root);
  snprintf(keep, sizeof keep, "%s/keep-me", outside);
  snprintf(tree, sizeof tree, "%s/tree", root);
  assert_int_equal(mkdir(outside, 0755), 0);
  FILE *f = fopen(keep, "w");
  fclose(f);
  assert_int_equal(mkdir(tree, 0700), 0);
  snprintf(path, sizeof path, "%s/link", tree);
  assert_int_equal(symlink(outside, path), 0);
  snprintf(path, sizeof path, "%s/file-link", tree);
  assert_int_equal(symlink(keep, path), 0);
  snprintf(path, sizeof path, "%s/closed", tree);
  assert_int_equal(mkdir(path, 0700), 0);
  snprintf(path + strlen(path), sizeof path - strlen(path), "/x");
  f = fopen(path, "w");
  fclose(f);
  snprintf(path, sizeof path, "%s/closed", tree);
  assert_int_equal(chmod(path, 0), 0);
  /* 200 levels, a file and a link at each */
  int dir = open(tree, O_RDONLY | O_DIRECTORY);
  assert_true(dir >= 0);
  for (int i = 0; i < 200; i++) {
    assert_int_equal(mkdirat(dir, "d", 0755), 0);
    int fd = openat(dir, "f", O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlinkat(outside, dir, "l"), 0);
    int next = openat(dir, "d", O_RDONLY | O_DIRECTORY);
    assert_true(next >= 0);
    close(dir);
    dir = next;
  }
  close(dir);
  assert_int_equal(mn_local_tree_remove(root, "tree"), 0);
  struct stat st;
  assert_int_equal(lstat(tree, &st), -1);
  assert_int_equal(errno, ENOENT);
  assert_int_equal(stat(keep, &st), 0); /* nothing through the links */
  assert_int_equal(mn_local_tree_remove(root, "tree"), 0); /* gone: success */
  /* a plain file by that name */
  snprintf(path, sizeof path, "%s/plain", root);
  f = fopen(path, "w");
  fclose(f);
  assert_int_equal(mn_local_tree_remove(root, "plain"), 0);
  assert_int_equal(lstat(path, &st), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolve_identity),
      cmocka_unit_test_setup_teardown(test_apply_and_probe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_masks_hide_a_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_workdir_create, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tree_remove, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
