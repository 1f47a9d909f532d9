/* The common growing buffer (include/multinode/common/buf.h): appends that
 * cross the doubling steps keep every byte and the NUL, printf, consume,
 * take (empty and full), reading a descriptor to its end or past a bound,
 * and out of memory that sticks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "multinode/common/buf.h"

static void test_grow_consume_take(void **state) {
  (void)state;
  struct mn_buf b;
  mn_buf_init(&b);
  char chunk[1000];
  for (size_t i = 0; i < 20; i++) { /* 20,000 bytes: 4096 -> 32768 */
    memset(chunk, 'a' + (int)i, sizeof chunk);
    assert_int_equal(mn_buf_append(&b, chunk, sizeof chunk), 0);
  }
  assert_int_equal(b.len, 20000);
  assert_true(b.cap >= 20001 && b.cap <= 32768);
  assert_int_equal(b.data[b.len], '\0');
  assert_int_equal(b.data[999], 'a');
  assert_int_equal(b.data[19999], 't');
  assert_int_equal(mn_buf_printf(&b, "|%d|%s", 42, "x"), 0);
  assert_string_equal(b.data + 20000, "|42|x");
  mn_buf_consume(&b, 19000);
  assert_int_equal(b.len, 1005);
  assert_int_equal(b.data[0], 't');
  assert_string_equal(b.data + 1000, "|42|x");
  size_t len = 0;
  char *text = mn_buf_take(&b, &len);
  assert_non_null(text);
  assert_int_equal(len, 1005);
  assert_int_equal(strlen(text), 1005);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  free(text);
  /* empty: an empty string, not NULL */
  text = mn_buf_take(&b, NULL);
  assert_string_equal(text, "");
  free(text);
  mn_buf_release(&b);
}

static void test_failure_sticks(void **state) {
  (void)state;
  struct mn_buf b = {0};
  assert_int_equal(mn_buf_append(&b, "ok", 2), 0);
  assert_int_equal(mn_buf_reserve(&b, SIZE_MAX - 1), -1); /* cannot be had */
  assert_true(b.failed);
  assert_int_equal(mn_buf_append(&b, "more", 4), -1);
  assert_int_equal(mn_buf_printf(&b, "%s", "more"), -1);
  assert_string_equal(b.data, "ok"); /* what was there stays readable */
  assert_null(mn_buf_take(&b, NULL));
  assert_null(b.data);
  assert_false(b.failed);
}

/* 10,000 bytes through a pipe (more than one read, more than the first
 * capacity); then the same with a bound of 5,000: EFBIG. */
static void read_pipe(size_t max, int want_rc, size_t want_len_at_least) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  char chunk[10000];
  for (size_t i = 0; i < sizeof chunk; i++)
    chunk[i] = (char)('a' + i % 26);
  assert_int_equal(write(fds[1], chunk, sizeof chunk), (ssize_t)sizeof chunk);
  close(fds[1]);
  struct mn_buf b = {0};
  assert_int_equal(mn_buf_append(&b, ">", 1), 0);
  errno = 0;
  int rc = mn_buf_read_fd(&b, fds[0], max);
  assert_int_equal(rc, want_rc);
  assert_true(b.len >= want_len_at_least);
  if (rc == 0) {
    assert_int_equal(b.len, 10001);
    assert_memory_equal(b.data + 1, chunk, sizeof chunk);
    assert_int_equal(b.data[b.len], '\0');
  } else {
    assert_int_equal(errno, EFBIG);
  }
  close(fds[0]);
  mn_buf_release(&b);
}

static void test_read_fd(void **state) {
  (void)state;
  read_pipe(SIZE_MAX, 0, 10001);
  read_pipe(5000, -1, 5001);
  /* a read error: a closed descriptor */
  struct mn_buf b = {0};
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  close(fds[0]);
  close(fds[1]);
  assert_int_equal(mn_buf_read_fd(&b, fds[0], SIZE_MAX), -1);
  assert_int_equal(errno, EBADF);
  mn_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_grow_consume_take),
                                     cmocka_unit_test(test_read_fd),
                                     cmocka_unit_test(test_failure_sticks)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
