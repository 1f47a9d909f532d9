/* test_registry_auth.c — where `multinode deploy` finds the login it pushes
 * with (client/registry_auth.c, compiled in): the daemon's answer first,
 * then MULTINODE_REGISTRY_USERNAME/PASSWORD, then the Docker config's
 * "auths"; a repository without a registry host and a broken Docker config
 * are clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../client/registry_auth.c"

static char dir[] = "/tmp/mn-regauth.XXXXXX";

static void write_config(const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  assert_non_null(mkdtemp(dir));
  setenv("DOCKER_CONFIG", dir, 1);
  unsetenv("MULTINODE_REGISTRY_USERNAME");
  unsetenv("MULTINODE_REGISTRY_PASSWORD");
  return 0;
}

static int teardown(void **state) {
  char path[256];
  (void)state;
  snprintf(path, sizeof path, "%s/config.json", dir);
  unlink(path);
  rmdir(dir);
  return 0;
}

static void test_order(void **state) {
  struct mn_registry_login l;
  char why[256];
  (void)state;
  /* "cHVzaGVyOnMzY3I6ZXQ=" is base64 of "pusher:s3cr:et" (a colon in the password) */
  write_config("{\"auths\": {\"https://reg.example.com:5000/v1/\": {\"auth\": \"bm8=\"},"
               " \"127.0.0.1:5443\": {\"auth\": \"cHVzaGVyOnMzY3I6ZXQ=\"}}}");
  assert_int_equal(mn_registry_login_find("127.0.0.1:5443/multinode", "AWS", "tok", &l, why,
                                          sizeof why), 0);
  assert_string_equal(l.server, "127.0.0.1:5443");
  assert_string_equal(l.username, "AWS");
  assert_string_equal(l.password, "tok");
  setenv("MULTINODE_REGISTRY_USERNAME", "env-user", 1);
  setenv("MULTINODE_REGISTRY_PASSWORD", "env-pass", 1);
  assert_int_equal(mn_registry_login_find("127.0.0.1:5443/multinode", "", "", &l, why, sizeof why), 0);
  assert_string_equal(l.username, "env-user");
  assert_string_equal(l.password, "env-pass");
  unsetenv("MULTINODE_REGISTRY_USERNAME");
  assert_int_equal(mn_registry_login_find("127.0.0.1:5443/a/b", NULL, NULL, &l, why, sizeof why), 0);
  assert_string_equal(l.username, "pusher");
  assert_string_equal(l.password, "s3cr:et");
  assert_string_equal(l.source, "the Docker config");
  /* another host: no login, not an error */
  assert_int_equal(mn_registry_login_find("localhost/multinode", NULL, NULL, &l, why, sizeof why), 0);
  assert_string_equal(l.username, "");
  assert_string_equal(l.source, "no credentials");
  mn_registry_login_clear(&l);
}

static void test_errors(void **state) {
  struct mn_registry_login l;
  char why[256];
  (void)state;
  /* no registry host: "multinode" alone, or a first part that is no host */
  assert_int_equal(mn_registry_login_find("multinode", NULL, NULL, &l, why, sizeof why), -1);
  assert_non_null(strstr(why, "names no registry host"));
  assert_int_equal(mn_registry_login_find("library/multinode", NULL, NULL, &l, why, sizeof why), -1);
  assert_non_null(strstr(why, "\"library/multinode\""));
  /* a broken Docker config */
  write_config("{\"auths\": ");
  assert_int_equal(mn_registry_login_find("reg.example.com/m", NULL, NULL, &l, why, sizeof why), -1);
  assert_non_null(strstr(why, "config.json"));
  write_config("{\"auths\": {\"reg.example.com\": {\"auth\": \"bm8=\"}}}"); /* "no": no colon */
  assert_int_equal(mn_registry_login_find("reg.example.com/m", NULL, NULL, &l, why, sizeof why), -1);
  assert_non_null(strstr(why, "is not base64 of user:password"));
  write_config("{\"auths\": {\"reg.example.com\": {\"auth\": \"%%%\"}}}");
  assert_int_equal(mn_registry_login_find("reg.example.com/m", NULL, NULL, &l, why, sizeof why), -1);
  /* no Docker config at all: no login */
  teardown(NULL);
  assert_int_equal(mn_registry_login_find("reg.example.com/m", NULL, NULL, &l, why, sizeof why), 0);
  assert_string_equal(l.source, "no credentials");
  assert_int_equal(mkdir(dir, 0700), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
