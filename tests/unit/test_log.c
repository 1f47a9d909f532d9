/* Log lines escape what they print: text from clients (a function name, a
 * path) cannot start a line of its own nor drive a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

static void test_escape(void **state) {
  char out[128];
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"plain text", "plain text"},
      {"a\nb", "a\\x0ab"},
      {"\r\n2026-01-01T00:00:00Z error forged", "\\x0d\\x0a2026-01-01T00:00:00Z error forged"},
      {"tab\there", "tab\\x09here"},
      {"esc\x1b[31mred", "esc\\x1b[31mred"},
      {"del\x7f", "del\\x7f"},
      {"c1 \xc2\x9b csi", "c1 \\xc2\\x9b csi"},       /* U+009B, a terminal's CSI */
      {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"}, /* other UTF-8 stays */
      {"back\\slash", "back\\slash"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = mn_log_escape(out, sizeof out, cases[i].in);
    assert_string_equal(out, cases[i].want);
    assert_int_equal(n, strlen(cases[i].want));
  }
  /* never more than the room there is, and never half an escape */
  char small[8];
  assert_int_equal(mn_log_escape(small, sizeof small, "abcd\nxyz"), 4);
  assert_string_equal(small, "abcd");
  assert_int_equal(mn_log_escape(small, sizeof small, "abcdefghij"), 7);
  assert_string_equal(small, "abcdefg");
  assert_int_equal(mn_log_escape(small, 0, "x"), 0);
}

/* Runs fn with stderr going to a file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void)) {
  char path[] = "/tmp/mn-log-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char *buf = calloc(1, 8192);
  ssize_t n = pread(fd, buf, 8191, 0);
  close(fd);
  unlink(path);
  assert_true(n > 0);
  return buf;
}

static void emit_forgery(void) {
  const char *name = "f\n2026-01-01T00:00:00.000000Z info api: forged";
  mn_log_info("scheduler", "function \"%s\" is ready", name);
  mn_log_warn("api", "%s", "ends with a newline\n");
}

static void test_one_line_per_event(void **state) {
  mn_log_set_level(MN_LOG_INFO);
  char *text = capture_stderr(emit_forgery);
  int lines = 0;
  for (char *p = text; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, 2);
  assert_non_null(strstr(text, "scheduler: function \"f\\x0a2026-01-01T00:00:00.000000Z info "
                               "api: forged\" is ready\n"));
  assert_non_null(strstr(text, "api: ends with a newline\\x0a\n"));
  /* no line starts with the forged text */
  assert_null(strstr(text, "\n2026-01-01T00:00:00.000000Z"));
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape),
      cmocka_unit_test(test_one_line_per_event),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
