/* How the worker turns the end of a command into what /finish reports
 * (worker/report.c, worker/output.c): outcome, final output (one trailing
 * newline removed, the size limit), error message (stderr tail or status),
 * ABORTED after a forwarded termination. The worker's dependency-free
 * sources are compiled into this test directly. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../../worker/oom.c"
#include "../../worker/output.c"
#include "../../worker/report.c"
#include "../../worker/tail.c"

static struct mn_run_result *result_new(void) {
  struct mn_run_result *r = calloc(1, sizeof *r);
  assert_non_null(r);
  mn_output_init(&r->out);
  mn_tail_init(&r->err_tail);
  return r;
}

static void result_free(struct mn_run_result *r) {
  mn_output_release(&r->out);
  free(r->report);
  free(r);
}

/* What the command wrote to its report pipe (run.h). */
static void set_report(struct mn_run_result *r, const char *text) {
  free(r->report);
  r->report = strdup(text);
  r->report_len = strlen(text);
}

static void out_append(struct mn_run_result *r, const char *s) {
  assert_int_equal(mn_output_append(&r->out, s, strlen(s)), 0);
}

/* Appends n copies of s to the output, in chunks of odd sizes. */
static void out_repeat(struct mn_run_result *r, const char *s, size_t n) {
  size_t len = strlen(s), total = len * n, chunk = 7919;
  char *all = malloc(total);
  for (size_t i = 0; i < n; i++)
    memcpy(all + i * len, s, len);
  for (size_t off = 0; off < total; off += chunk)
    assert_int_equal(
        mn_output_append(&r->out, all + off, total - off < chunk ? total - off : chunk), 0);
  free(all);
}

/* decide, and check outcome, output (NULL: none) and error message. */
static void expect(struct mn_run_result *r, const char *outcome, const char *output,
                   const char *error) {
  struct mn_report rep;
  assert_int_equal(mn_report_decide(r, "cmd", &rep), 0);
  assert_string_equal(rep.outcome, outcome);
  if (output)
    assert_string_equal(rep.final_output, output);
  else
    assert_null(rep.final_output);
  if (error)
    assert_string_equal(rep.error_message, error);
  else
    assert_null(rep.error_message);
  mn_report_release(&rep);
}

static void exit_zero_succeeds_with_one_newline_removed(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_append(r, "hello\n");
  out_append(r, "world\n\n");
  expect(r, "SUCCEEDED", "hello\nworld\n", NULL);
  result_free(r);

  r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_append(r, "no newline");
  expect(r, "SUCCEEDED", "no newline", NULL);
  result_free(r);
}

/* Nothing (or a lone newline) on stdout: final_output null, which keeps
 * the last progress output. */
static void empty_output_is_null(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(0, 0);
  expect(r, "SUCCEEDED", NULL, NULL);
  out_append(r, "\n");
  expect(r, "SUCCEEDED", NULL, NULL);
  result_free(r);
}

static void output_limit_is_in_characters(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_repeat(r, "\xC3\xA9", 249999); /* 249999 characters, 499998 bytes: fits */
  out_append(r, "\n");
  struct mn_report rep;
  assert_int_equal(mn_report_decide(r, "cmd", &rep), 0);
  assert_string_equal(rep.outcome, "SUCCEEDED");
  assert_int_equal(strlen(rep.final_output), 499998);
  mn_report_release(&rep);
  result_free(r);

  r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_repeat(r, "x", 250000);
  expect(r, "FAILED", NULL, "output is 250000 characters; the limit is 249999");
  result_free(r);

  /* far past what is kept in memory: still counted */
  r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_repeat(r, "\xE2\x82\xAC", 1000000);
  out_append(r, "\n");
  expect(r, "FAILED", NULL, "output is 1000000 characters; the limit is 249999");
  assert_true(r->out.kept.len <= MN_OUTPUT_KEEP_BYTES);
  result_free(r);
}

static void invalid_output_fails_clearly(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_append(r, "ab\xFF");
  expect(r, "FAILED", NULL, "output is not valid UTF-8 text (invalid byte 0xff at offset 2)");
  result_free(r);

  r = result_new();
  r->status = W_EXITCODE(0, 0);
  assert_int_equal(mn_output_append(&r->out, "a\0b", 3), 0);
  expect(r, "FAILED", NULL, "output is not valid UTF-8 text (NUL byte 0x00 at offset 1)");
  result_free(r);

  /* a megabyte of continuation bytes counts few characters but is not text */
  r = result_new();
  r->status = W_EXITCODE(0, 0);
  out_repeat(r, "\x80", 2 * MN_OUTPUT_KEEP_BYTES);
  expect(r, "FAILED", NULL, "output is not valid UTF-8 text (2000000 bytes)");
  result_free(r);
}

static void failure_reports_the_stderr_tail(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(3, 0);
  out_append(r, "partial output");
  mn_tail_append(&r->err_tail, "Traceback...\nValueError: boom\n", 30);
  expect(r, "FAILED", NULL, "Traceback...\nValueError: boom");
  result_free(r);
}

static void failure_without_stderr_reports_the_status(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(3, 0);
  expect(r, "FAILED", NULL, "exited with code 3");
  r->status = W_EXITCODE(0, SIGKILL);
  expect(r, "FAILED", NULL, "killed by signal 9");
  r->spawn_errno = ENOENT;
  expect(r, "FAILED", NULL, "cannot run \"cmd\": No such file or directory");
  result_free(r);
}

static void termination_gives_aborted(void **state) {
  struct mn_run_result *r = result_new();
  r->term_signals = 1u << SIGTERM;
  r->status = W_EXITCODE(0, SIGTERM); /* died of the forwarded signal */
  mn_tail_append(&r->err_tail, "Terminated", 10);
  expect(r, "ABORTED", NULL, NULL);

  r->status = W_EXITCODE(0, 0); /* caught it and exited 0: its output is sent */
  out_append(r, "cleaned up\n");
  expect(r, "ABORTED", "cleaned up", NULL);

  r->status = W_EXITCODE(1, 0); /* caught it and failed */
  expect(r, "FAILED", NULL, "Terminated");

  r->status = W_EXITCODE(0, SIGKILL); /* died of another signal */
  expect(r, "FAILED", NULL, "Terminated");

  r->term_signals = (1u << SIGTERM) | (1u << SIGINT);
  r->status = W_EXITCODE(0, SIGINT);
  expect(r, "ABORTED", NULL, NULL);
  result_free(r);
}

/* A signal the worker did not forward is a failure, not an abort. */
static void unforwarded_signal_is_failure(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(0, SIGTERM);
  expect(r, "FAILED", NULL, "killed by signal 15");
  result_free(r);
}

static void oom_kill_says_out_of_memory(void **state) {
  struct mn_run_result *r = result_new();
  r->status = W_EXITCODE(0, SIGKILL);
  r->oom_killed = 1;
  mn_tail_append(&r->err_tail, "partial line", 12); /* the kill is the news, not stderr */
  expect(r, "FAILED", NULL, "out of memory: the command was killed at its memory limit (signal 9)");
  result_free(r);
}

/* memory.events (v2) and memory.oom_control (v1) as the kernel writes them */
static void oom_counter_parse(void **state) {
  assert_int_equal(mn_oom_kills_parse("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n"), 2);
  assert_int_equal(
      mn_oom_kills_parse("oom_kill_disable 0\nunder_oom 0\noom_kill 17\n"), 17);
  assert_int_equal(mn_oom_kills_parse("oom_kill_disable 0\nunder_oom 0\n"), -1);
  assert_int_equal(mn_oom_kills_parse("oom_kill x\n"), -1);
  assert_int_equal(mn_oom_kills_parse(""), -1);
}

/* Our cgroup from /proc/self/cgroup's text, read once for both hierarchies
 * (oom.c): v2's "0::" line, v1's memory controller alone or among others. */
static void oom_own_cgroup(void **state) {
  (void)state;
  char cg[64];
  const char *v1 = "12:cpu,cpuacct:/a\n9:name=systemd:/\n4:blkio,memory:/docker/abc\n";
  assert_int_equal(own_cgroup(v1, 0, cg, sizeof cg), 1);
  assert_string_equal(cg, "/docker/abc");
  assert_int_equal(own_cgroup(v1, 1, cg, sizeof cg), 0);
  assert_int_equal(own_cgroup("3:memory:/x\n0::/user.slice/u.scope", 1, cg, sizeof cg), 1);
  assert_string_equal(cg, "/user.slice/u.scope"); /* no final newline */
  assert_int_equal(own_cgroup("3:memory:/x\n0::/y\n", 0, cg, sizeof cg), 1);
  assert_string_equal(cg, "/x");
  /* "memory" must be a whole controller name; a path too long is no match */
  assert_int_equal(own_cgroup("5:memory_x,pids:/z\n", 0, cg, sizeof cg), 0);
  char longer[200];
  snprintf(longer, sizeof longer, "0::/%0100d\n", 0);
  assert_int_equal(own_cgroup(longer, 1, cg, sizeof cg), 0);
  assert_int_equal(own_cgroup("", 1, cg, sizeof cg), 0);
  assert_int_equal(own_cgroup("garbage without colons\n", 0, cg, sizeof cg), 0);
}

/* A runtime's own words win over its stderr (a Python traceback). */
static void failure_reports_what_the_command_reported(void **state) {
  (void)state;
  struct mn_run_result *r = result_new();
  const char *tb = "Traceback (most recent call last):\n  File ...\nValueError: boom\n";
  mn_tail_append(&r->err_tail, tb, strlen(tb));
  set_report(r, "{\"error_message\": \"ValueError: boom\"}\n");
  r->status = 1 << 8; /* exit 1 */
  expect(r, "FAILED", NULL, "ValueError: boom");
  /* the API's limit: at most 16383 characters (here 2-byte ones) */
  size_t n = 20000;
  json_t *doc = json_object();
  char *text = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++)
    memcpy(text + 2 * i, "\xc3\xa9", 2);
  text[2 * n] = '\0';
  json_object_set_new(doc, "error_message", json_string(text));
  char *dumped = json_dumps(doc, 0);
  set_report(r, dumped);
  struct mn_report rep;
  assert_int_equal(mn_report_decide(r, "cmd", &rep), 0);
  assert_string_equal(rep.outcome, "FAILED");
  assert_int_equal(mn_utf8_length(rep.error_message, strlen(rep.error_message)), 16383);
  assert_memory_equal(rep.error_message, text, 2 * 16383);
  mn_report_release(&rep);
  free(dumped);
  free(text);
  json_decref(doc);
  /* success ignores the report */
  r->status = 0;
  out_append(r, "42\n");
  expect(r, "SUCCEEDED", "42", NULL);
  result_free(r);
}

/* Not JSON, no error_message, an empty one: the stderr tail as before. */
static void unusable_report_falls_back_to_the_tail(void **state) {
  (void)state;
  const char *reports[] = {"not json", "{\"other\": 1}", "{\"error_message\": \"\"}",
                           "{\"error_message\": 7}", "[\"error_message\"]"};
  for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
    struct mn_run_result *r = result_new();
    mn_tail_append(&r->err_tail, "the tail\n", 9);
    set_report(r, reports[i]);
    r->status = 2 << 8;
    expect(r, "FAILED", NULL, "the tail");
    result_free(r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exit_zero_succeeds_with_one_newline_removed),
      cmocka_unit_test(empty_output_is_null),
      cmocka_unit_test(output_limit_is_in_characters),
      cmocka_unit_test(invalid_output_fails_clearly),
      cmocka_unit_test(failure_reports_the_stderr_tail),
      cmocka_unit_test(failure_without_stderr_reports_the_status),
      cmocka_unit_test(termination_gives_aborted),
      cmocka_unit_test(unforwarded_signal_is_failure),
      cmocka_unit_test(oom_kill_says_out_of_memory),
      cmocka_unit_test(oom_counter_parse),
      cmocka_unit_test(oom_own_cgroup),
      cmocka_unit_test(failure_reports_what_the_command_reported),
      cmocka_unit_test(unusable_report_falls_back_to_the_tail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
