/* The worker's capped log and its reaping of what a command leaves behind
 * (worker/logcap.c, worker/reap.c, compiled in: the worker does not link
 * mn_core). Real files and real processes. */
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../worker/logcap.c"
#include "../../worker/reap.c"

static int temp_fd(char *path, size_t size) {
  snprintf(path, size, "/tmp/mn-logcap-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  return fd;
}

/* The file's content, NUL-terminated (caller frees). */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
    n++;
  return n;
}

static void test_no_cap_passes_through(void **state) {
  (void)state;
  char path[64];
  struct mn_logcap c;
  int fd = temp_fd(path, sizeof path);
  mn_logcap_init(&c, fd, 0);
  for (int i = 0; i < 1000; i++)
    mn_logcap_write(&c, "0123456789abcdef\n", 17);
  assert_int_equal(mn_logcap_flush(&c), 0);
  size_t len;
  char *text = slurp(path, &len);
  assert_int_equal(len, 17000);
  free(text);
  mn_logcap_release(&c);
  close(fd);
  unlink(path);
}

static void test_under_the_cap_nothing_changes(void **state) {
  (void)state;
  char path[64];
  struct mn_logcap c;
  int fd = temp_fd(path, sizeof path);
  mn_logcap_init(&c, fd, 65536);
  mn_logcap_write(&c, "one\n", 4);
  mn_logcap_write(&c, "two", 3);
  assert_int_equal(mn_logcap_flush(&c), 0);
  mn_logcap_write(&c, "after\n", 6);
  size_t len;
  char *text = slurp(path, &len);
  assert_string_equal(text, "one\ntwoafter\n");
  free(text);
  mn_logcap_release(&c);
  close(fd);
  unlink(path);
}

/* Numbered lines well past a 64 KiB cap: the first lines whole, one marker,
 * a tail that starts at a whole line and ends with the last one, the file
 * no larger than the cap and the marker. */
static void test_head_marker_tail(void **state) {
  (void)state;
  char path[64], line[64];
  struct mn_logcap c;
  int fd = temp_fd(path, sizeof path);
  const uint64_t max = 65536;
  mn_logcap_init(&c, fd, max);
  uint64_t total = 0;
  for (int i = 1; i <= 20000; i++) {
    int n = snprintf(line, sizeof line, "line %d\n", i);
    mn_logcap_write(&c, line, (size_t)n);
    total += (uint64_t)n;
  }
  uint64_t dropped = mn_logcap_flush(&c);
  mn_logcap_write(&c, "closing line\n", 13);
  size_t len;
  char *text = slurp(path, &len);
  assert_true(len <= max + 256 + 13);
  assert_int_equal(count(text, "the log reached its cap of 65536 bytes"), 1);
  assert_memory_equal(text, "line 1\nline 2\n", 14);
  char *marker = strstr(text, "multinode-worker: the log reached");
  assert_non_null(marker);
  assert_true(marker[-1] == '\n'); /* the head ends with a whole line */
  char *tail = strchr(marker, '\n') + 1;
  assert_memory_equal(tail, "line ", 5); /* and the tail starts with one */
  assert_non_null(strstr(text, "line 20000\nclosing line\n"));
  /* what is in the file plus what was left out is everything written */
  uint64_t head = (uint64_t)(marker - text);
  uint64_t kept = (uint64_t)(strstr(text, "closing line") - tail);
  assert_true(head + kept + dropped == total);
  free(text);
  mn_logcap_release(&c);
  close(fd);
  unlink(path);
}

/* One write far larger than the cap (and than the tail). */
static void test_one_huge_write(void **state) {
  (void)state;
  char path[64];
  struct mn_logcap c;
  int fd = temp_fd(path, sizeof path);
  size_t n = 1 << 20;
  char *big = malloc(n);
  assert_non_null(big);
  for (size_t i = 0; i < n; i++)
    big[i] = (i % 100 == 99) ? '\n' : (char)('a' + (i / 100) % 26);
  mn_logcap_init(&c, fd, 8192);
  mn_logcap_write(&c, big, n);
  uint64_t dropped = mn_logcap_flush(&c);
  size_t len;
  char *text = slurp(path, &len);
  assert_true(len <= 8192 + 256);
  assert_true(dropped >= n - 8192);
  assert_int_equal(count(text, "reached its cap"), 1);
  /* the tail is the end of what was written, and a newline after it */
  assert_int_equal(text[len - 1], '\n');
  assert_memory_equal(text + len - 101, big + n - 100, 100);
  free(text);
  free(big);
  mn_logcap_release(&c);
  close(fd);
  unlink(path);
}

static void test_small_caps_are_raised(void **state) {
  (void)state;
  struct mn_logcap c;
  mn_logcap_init(&c, -1, 10);
  assert_int_equal(c.max, MN_LOGCAP_MIN);
  assert_int_equal(c.head_max + c.ring_cap, MN_LOGCAP_MIN);
  mn_logcap_init(&c, -1, UINT64_C(64) << 20);
  assert_int_equal(c.ring_cap, MN_LOGCAP_TAIL_MAX);
  assert_int_equal(c.head_max, (UINT64_C(64) << 20) - MN_LOGCAP_TAIL_MAX);
}

static void test_environment_is_read_and_removed(void **state) {
  (void)state;
  setenv(MN_LOGCAP_ENV, "123456", 1);
  assert_int_equal(mn_logcap_stderr_init(), 0);
  assert_null(getenv(MN_LOGCAP_ENV));
  assert_int_equal(mn_logcap_stderr()->max, 123456);
  setenv(MN_LOGCAP_ENV, "12x", 1);
  assert_int_equal(mn_logcap_stderr_init(), -1);
  assert_null(getenv(MN_LOGCAP_ENV));
  assert_int_equal(mn_logcap_stderr()->max, 0);
  setenv(MN_LOGCAP_ENV, "-5", 1);
  assert_int_equal(mn_logcap_stderr_init(), -1);
  assert_int_equal(mn_logcap_stderr_init(), 0); /* unset: no cap */
  assert_int_equal(mn_logcap_stderr()->max, 0);
}

static int alive(pid_t pid) {
  char path[64], stat[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *close = strrchr(stat, ')');
  return close && close[2] != 'Z' && close[2] != 'X';
}

/* A subreaper whose command left a double-forked process, one in a session
 * of its own and one ignoring SIGTERM: mn_reap_all ends and reaps them all.
 * Runs in a child process (the subreaper), which reports through its exit
 * status and a file of the pids. */
static void test_reap_all_ends_what_a_command_left(void **state) {
  (void)state;
  char pids[64];
  snprintf(pids, sizeof pids, "/tmp/mn-reap-XXXXXX");
  int fd = mkstemp(pids);
  assert_true(fd >= 0);
  close(fd);
  pid_t sub = fork();
  if (sub == 0) {
    if (mn_reap_become_subreaper() != 0)
      _exit(10);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "(sleep 100 & echo $! >>%s); setsid sleep 100 & echo $! >>%s; "
             "(trap '' TERM; exec sleep 100) & echo $! >>%s; exit 0",
             pids, pids, pids);
    if (system(cmd) != 0)
      _exit(11);
    int reaped = mn_reap_all(5000);
    if (reaped < 3)
      _exit(12);
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
      _exit(13);
    _exit(0);
  }
  int status;
  assert_int_equal(waitpid(sub, &status, 0), sub);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  FILE *f = fopen(pids, "r");
  assert_non_null(f);
  long pid;
  int n = 0;
  while (fscanf(f, "%ld", &pid) == 1) {
    assert_false(alive((pid_t)pid));
    n++;
  }
  fclose(f);
  unlink(pids);
  assert_int_equal(n, 3);
}

static int spare(void *ctx, pid_t pid) { return pid == *(pid_t *)ctx; }

/* One pass kills every child but the spared one, and does not wait. */
static void test_kill_children_spares(void **state) {
  (void)state;
  pid_t kept = fork();
  if (kept == 0) {
    pause();
    _exit(0);
  }
  pid_t doomed = fork();
  if (doomed == 0) {
    pause();
    _exit(0);
  }
  assert_true(mn_reap_kill_children(spare, &kept) >= 1);
  int status;
  assert_int_equal(waitpid(doomed, &status, 0), doomed);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  assert_int_equal(waitpid(kept, &status, WNOHANG), 0);
  kill(kept, SIGKILL);
  waitpid(kept, &status, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_cap_passes_through),
      cmocka_unit_test(test_under_the_cap_nothing_changes),
      cmocka_unit_test(test_head_marker_tail),
      cmocka_unit_test(test_one_huge_write),
      cmocka_unit_test(test_small_caps_are_raised),
      cmocka_unit_test(test_environment_is_read_and_removed),
      cmocka_unit_test(test_reap_all_ends_what_a_command_left),
      cmocka_unit_test(test_kill_children_spares),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
