/* The worker's stderr tail ring buffer and UTF-8 helpers (worker/tail.c,
 * common/utf8.c). The worker does not link mn_core, so its dependency-free
 * sources are compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../worker/tail.c"
#include "multinode/common/limits.h"

#define ERROR_MESSAGE_LIMIT MN_ERROR_MESSAGE_LENGTH_LIMIT

static struct mn_tail *tail_new(void) {
  struct mn_tail *t = malloc(sizeof *t);
  assert_non_null(t);
  mn_tail_init(t);
  return t;
}

static void short_text_is_kept_whole_without_trailing_space(void **state) {
  struct mn_tail *t = tail_new();
  mn_tail_append(t, "line one\n", 9);
  mn_tail_append(t, "line two\n\n \t", 12);
  char *text = mn_tail_text(t);
  assert_string_equal(text, "line one\nline two");
  free(text);
  free(t);
}

static void empty_tail_is_empty(void **state) {
  struct mn_tail *t = tail_new();
  char *text = mn_tail_text(t);
  assert_string_equal(text, "");
  free(text);
  mn_tail_append(t, "\n\n", 2);
  text = mn_tail_text(t);
  assert_string_equal(text, "");
  free(text);
  free(t);
}

/* Many appends of every size around the wrap keep exactly the last
 * MN_TAIL_CAPACITY bytes of everything appended. */
static void keeps_the_last_bytes_across_wraps(void **state) {
  size_t total = 5 * MN_TAIL_CAPACITY + 123, off = 0, step = 1;
  char *all = malloc(total);
  struct mn_tail *t = tail_new();
  for (size_t i = 0; i < total; i++)
    all[i] = (char)('a' + (i * 7 + i / 26) % 26);
  while (off < total) {
    size_t n = step % 5000 + (step % 3 == 0 ? MN_TAIL_CAPACITY - 1 : 0);
    if (n > total - off)
      n = total - off;
    mn_tail_append(t, all + off, n);
    off += n;
    step = step * 31 + 7;
    size_t keep = off < MN_TAIL_CAPACITY ? off : MN_TAIL_CAPACITY;
    char *text = mn_tail_text(t);
    assert_int_equal(strlen(text), keep);
    assert_memory_equal(text, all + off - keep, keep);
    free(text);
  }
  assert_int_equal(t->total, total);
  free(all);
  free(t);
}

static void one_append_larger_than_the_ring(void **state) {
  size_t n = 3 * MN_TAIL_CAPACITY;
  char *big = malloc(n);
  struct mn_tail *t = tail_new();
  for (size_t i = 0; i < n; i++)
    big[i] = (char)('0' + i % 10);
  mn_tail_append(t, "xyz", 3);
  mn_tail_append(t, big, n);
  char *text = mn_tail_text(t);
  assert_int_equal(strlen(text), MN_TAIL_CAPACITY);
  assert_memory_equal(text, big + n - MN_TAIL_CAPACITY, MN_TAIL_CAPACITY);
  free(text);
  free(big);
  free(t);
}

/* Multi-byte text cut by the ring: the partial character at the start is
 * dropped, the result is valid UTF-8 and under the error_message limit. */
static void cut_character_is_dropped_and_result_fits(void **state) {
  struct mn_tail *t = tail_new();
  const char *euro = "\xE2\x82\xAC"; /* 3 bytes */
  for (int i = 0; i < 20000; i++)
    mn_tail_append(t, euro, 3);
  mn_tail_append(t, "\xC3\xA9", 2); /* so the ring starts inside a euro sign */
  char *text = mn_tail_text(t);
  size_t len = strlen(text);
  assert_int_equal(mn_utf8_invalid_at(text, len), len);
  assert_true(mn_utf8_length(text, len) < ERROR_MESSAGE_LIMIT);
  assert_true(len >= MN_TAIL_CAPACITY - 3);
  assert_memory_equal(text + len - 5, "\xE2\x82\xAC\xC3\xA9", 5);
  assert_memory_equal(text, euro, 3);
  free(text);
  free(t);
}

/* Binary stderr: every bad byte becomes U+FFFD, one character per byte, so
 * even a full ring of garbage stays under the limit. */
static void invalid_bytes_are_replaced(void **state) {
  struct mn_tail *t = tail_new();
  mn_tail_append(t, "a\xFF" "b\0c\xC0\x80", 7);
  char *text = mn_tail_text(t);
  assert_string_equal(text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD");
  free(text);
  char junk[MN_TAIL_CAPACITY + 10];
  memset(junk, 0xFF, sizeof junk);
  mn_tail_append(t, junk, sizeof junk);
  text = mn_tail_text(t);
  assert_int_equal(mn_utf8_length(text, strlen(text)), MN_TAIL_CAPACITY);
  assert_true(MN_TAIL_CAPACITY < ERROR_MESSAGE_LIMIT);
  free(text);
  free(t);
}

static void utf8_sequences(void **state) {
  static const struct {
    const char *s;
    size_t len;
  } cases[] = {
      {"A", 1},
      {"\xC3\xA9", 2},
      {"\xE2\x82\xAC", 3},
      {"\xF0\x9F\x98\x80", 4},
      {"\xF4\x8F\xBF\xBF", 4}, /* U+10FFFF */
      {"\xC0\x80", 0},         /* overlong NUL */
      {"\xC1\xBF", 0},         /* overlong */
      {"\xE0\x80\xAF", 0},     /* overlong */
      {"\xED\xA0\x80", 0},     /* surrogate */
      {"\xF4\x90\x80\x80", 0}, /* above U+10FFFF */
      {"\xF5\x80\x80\x80", 0},
      {"\x80", 0},         /* stray continuation */
      {"\xE2\x82", 0},     /* truncated */
      {"\xE2\x28\xA1", 0}, /* bad continuation */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_int_equal(mn_utf8_seq_len((const unsigned char *)cases[i].s, strlen(cases[i].s)),
                     cases[i].len);
  assert_int_equal(mn_utf8_invalid_at("ok\xC3\xA9", 4), 4);
  assert_int_equal(mn_utf8_invalid_at("ok\xC3", 3), 2);
  assert_int_equal(mn_utf8_invalid_at("a\0b", 3), 1);
  assert_int_equal(mn_utf8_length("h\xC3\xA9\xE2\x82\xAC", 6), 3);
  /* chunked counting agrees */
  assert_int_equal(mn_utf8_length("h\xC3", 2) + mn_utf8_length("\xA9", 1), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(short_text_is_kept_whole_without_trailing_space),
      cmocka_unit_test(empty_tail_is_empty),
      cmocka_unit_test(keeps_the_last_bytes_across_wraps),
      cmocka_unit_test(one_append_larger_than_the_ring),
      cmocka_unit_test(cut_character_is_dropped_and_result_fits),
      cmocka_unit_test(invalid_bytes_are_replaced),
      cmocka_unit_test(utf8_sequences),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
