/* test_support_file_log.c — the provider toolkit's file-log pager
 * (plugins/support/file_log.h) over real files: offsets round-trip (every
 * page size gives the same lines, a full page resumes at the refused line),
 * a long line cut in pieces never splits a UTF-8 character, offsets the
 * pager did not issue (past the end, not decimal) are refused, and a growing
 * file is served line by line, its unfinished last line only once final. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <multinode/provider.h>

#include "file_log.h"

#define MAX_LINES 64

/* A page that keeps its lines and takes at most `room` of them. */
struct test_page {
  struct mn_log_page page;
  int room;
  int n;
  char *lines[MAX_LINES];
  size_t lens[MAX_LINES];
};

static int keep_line(struct mn_log_page *page, const char *line, size_t len) {
  struct test_page *t = (struct test_page *)page;
  if (t->n >= t->room || t->n >= MAX_LINES)
    return 1;
  t->lines[t->n] = malloc(len + 1);
  assert_non_null(t->lines[t->n]);
  memcpy(t->lines[t->n], line, len);
  t->lines[t->n][len] = '\0';
  t->lens[t->n++] = len;
  return 0;
}

static void page_init(struct test_page *t, int room) {
  memset(t, 0, sizeof *t);
  t->page.add_line = keep_line;
  t->room = room;
}

static void page_release(struct test_page *t) {
  for (int i = 0; i < t->n; i++)
    free(t->lines[i]);
  t->n = 0;
}

static char path[64];

static int fresh_file(void **state) {
  (void)state;
  snprintf(path, sizeof path, "/tmp/mn-file-log-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0)
    return -1;
  close(fd);
  return 0;
}

static int remove_file(void **state) {
  (void)state;
  unlink(path);
  return 0;
}

static void append(const char *data, size_t len) {
  FILE *f = fopen(path, "ab");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* One call; returns the pager's code, with why in msg. */
static int page_once(const char *offset, int max_lines, int final, size_t line_max,
                     struct test_page *t, char *msg, size_t msg_size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  msg[0] = '\0';
  int rc = mn_file_log_page(fd, offset, max_lines, final, line_max, &t->page, msg, msg_size);
  close(fd);
  return rc;
}

/* Reads the whole file page by page (max_lines a call, room lines taken a
 * page) and returns every line joined with '\n', and the calls it took. */
static char *read_all(int max_lines, int room, size_t line_max, int *calls) {
  char offset[MN_LOG_OFFSET_MAX] = "", msg[256];
  size_t cap = 1 << 16, len = 0;
  char *all = calloc(1, cap);
  assert_non_null(all);
  *calls = 0;
  for (;;) {
    struct test_page t;
    page_init(&t, room);
    assert_int_equal(page_once(offset, max_lines, 1, line_max, &t, msg, sizeof msg), 0);
    ++*calls;
    for (int i = 0; i < t.n; i++) {
      assert_true(len + t.lens[i] + 2 < cap);
      memcpy(all + len, t.lines[i], t.lens[i]);
      len += t.lens[i];
      all[len++] = '\n';
    }
    int got = t.n;
    page_release(&t);
    assert_true(t.page.next_offset[0] != '\0'); /* always an offset to continue from */
    if (got == 0)
      break;
    snprintf(offset, sizeof offset, "%s", t.page.next_offset);
    assert_true(*calls < 1000);
  }
  return all;
}

static void test_offsets_round_trip(void **state) {
  (void)state;
  const char text[] = "first\n\nthird line\nfourth\nfifth, unfinished";
  append(text, sizeof text - 1);
  const char *want = "first\n\nthird line\nfourth\nfifth, unfinished\n";
  int calls;
  /* 1, 2 or 100 lines a call; pages that refuse after 1 or 3 lines */
  int shapes[][2] = {{1, 1}, {2, 2}, {100, 100}, {100, 1}, {100, 3}, {3, 2}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    char *all = read_all(shapes[i][0], shapes[i][1], 0, &calls);
    assert_string_equal(all, want);
    free(all);
  }
  free(read_all(1, 1, 0, &calls));
  assert_int_equal(calls, 6); /* 5 lines, then an empty page */

  /* An offset a page issued starts exactly at the next line. */
  char msg[256];
  struct test_page t;
  page_init(&t, 2);
  assert_int_equal(page_once(NULL, 10, 1, 0, &t, msg, sizeof msg), 0);
  assert_int_equal(t.n, 2);
  assert_string_equal(t.page.next_offset, "7"); /* "first\n\n" */
  page_release(&t);
  page_init(&t, 1);
  assert_int_equal(page_once("7", 10, 1, 0, &t, msg, sizeof msg), 0);
  assert_string_equal(t.lines[0], "third line");
  assert_string_equal(t.page.next_offset, "18");
  page_release(&t);
  /* At the end: no lines, the offset stays there. */
  page_init(&t, 10);
  char end[32];
  snprintf(end, sizeof end, "%zu", sizeof text - 1);
  assert_int_equal(page_once(end, 10, 1, 0, &t, msg, sizeof msg), 0);
  assert_int_equal(t.n, 0);
  assert_string_equal(t.page.next_offset, end);
  page_release(&t);
}

/* Well-formed UTF-8, as RFC 3629 has it (enough for the pieces here). */
static int utf8_whole(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    size_t n = s[i] < 0x80             ? 1
               : (s[i] & 0xE0) == 0xC0 ? 2
               : (s[i] & 0xF0) == 0xE0 ? 3
               : (s[i] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (n == 0 || i + n > len)
      return 0;
    for (size_t k = 1; k < n; k++)
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
    i += n;
  }
  return 1;
}

static void test_utf8_at_a_piece_edge(void **state) {
  (void)state;
  /* Lines of 2-, 3- and 4-byte characters ("é" C3 A9, "€" E2 82 AC,
   * "😀" F0 9F 98 80) shifted by 0 to 7 ASCII bytes, so that the edge of an
   * 8-byte piece falls at every place within each character. */
  const char *chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
  int shorter = 0; /* pieces cut short before a character */
  for (int shift = 0; shift < 8; shift++) {
    char line[256];
    size_t len = 0;
    for (int i = 0; i < shift; i++)
      line[len++] = 'x';
    for (int round = 0; round < 12; round++) {
      const char *c = chars[round % 3];
      memcpy(line + len, c, strlen(c));
      len += strlen(c);
    }
    line[len++] = '\n';
    remove_file(NULL);
    assert_int_equal(fresh_file(NULL), 0);
    append(line, len);
    int calls;
    char *all = read_all(1, 1, 8, &calls);
    size_t joined = 0; /* the pieces, one a line: join them again */
    for (size_t i = 0; all[i]; i++)
      if (all[i] != '\n')
        all[joined++] = all[i];
    assert_int_equal(joined, len - 1);
    assert_memory_equal(all, line, len - 1); /* nothing lost or doubled */
    free(all);

    /* Each piece is whole UTF-8 and at most 8 bytes. */
    char offset[MN_LOG_OFFSET_MAX] = "", msg[256];
    for (;;) {
      struct test_page t;
      page_init(&t, 1);
      assert_int_equal(page_once(offset, 1, 1, 8, &t, msg, sizeof msg), 0);
      if (t.n == 0)
        break;
      assert_true(t.lens[0] <= 8);
      if (!utf8_whole((unsigned char *)t.lines[0], t.lens[0]))
        fail_msg("shift %d: the piece at offset %s splits a character", shift,
                 offset[0] ? offset : "0");
      shorter += t.lens[0] < 8 && strcmp(t.page.next_offset, "") != 0 &&
                 (size_t)atoi(t.page.next_offset) < len - 1;
      snprintf(offset, sizeof offset, "%s", t.page.next_offset);
      page_release(&t);
    }
  }
  assert_true(shorter > 0); /* the cut happened, not only lucky edges */

  /* Bytes that are not UTF-8 pass through, cut at the limit. */
  remove_file(NULL);
  assert_int_equal(fresh_file(NULL), 0);
  char msg[256];
  append("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xE2\x82\n", 12);
  struct test_page t;
  page_init(&t, 10);
  assert_int_equal(page_once(NULL, 10, 1, 8, &t, msg, sizeof msg), 0);
  assert_int_equal(t.n, 2);
  assert_int_equal(t.lens[0], 8);
  assert_int_equal(t.lens[1], 3); /* FF E2 82: the truncated sequence ends its line */
  page_release(&t);
}

static void test_offsets_not_issued(void **state) {
  (void)state;
  append("0123456789", 10);
  const char *bad[] = {"11", "100", "-1", "abc", "1x", " 1", "99999999999999999999"};
  char msg[256];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct test_page t;
    page_init(&t, 10);
    assert_int_equal(page_once(bad[i], 10, 1, 0, &t, msg, sizeof msg), MN_PROVIDER_E_INVALID);
    if (!strstr(msg, "was not issued") || !strstr(msg, bad[i]))
      fail_msg("offset \"%s\": %s", bad[i], msg);
    assert_int_equal(t.n, 0);
    assert_string_equal(t.page.next_offset, "");
  }
  struct test_page t;
  page_init(&t, 10);
  assert_int_equal(page_once("10", 10, 1, 0, &t, msg, sizeof msg), 0); /* the end itself */
  assert_int_equal(t.n, 0);
  assert_string_equal(t.page.next_offset, "10");
}

static void test_growing_file(void **state) {
  (void)state;
  char msg[256];
  struct test_page t;
  append("one\ntw", 6);
  page_init(&t, 10);
  assert_int_equal(page_once(NULL, 10, 0, 0, &t, msg, sizeof msg), 0);
  assert_int_equal(t.n, 1); /* "tw" may still grow */
  assert_string_equal(t.lines[0], "one");
  assert_string_equal(t.page.next_offset, "4");
  page_release(&t);

  append("o\nthr", 5);
  page_init(&t, 10);
  assert_int_equal(page_once("4", 10, 0, 0, &t, msg, sizeof msg), 0);
  assert_int_equal(t.n, 1);
  assert_string_equal(t.lines[0], "two");
  assert_string_equal(t.page.next_offset, "8");
  page_release(&t);

  append("ee", 2); /* the worker exits without a final newline */
  page_init(&t, 10);
  assert_int_equal(page_once("8", 10, 1, 0, &t, msg, sizeof msg), 0);
  assert_int_equal(t.n, 1);
  assert_string_equal(t.lines[0], "three");
  assert_string_equal(t.page.next_offset, "13");
  page_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_offsets_round_trip, fresh_file, remove_file),
      cmocka_unit_test_setup_teardown(test_utf8_at_a_piece_edge, fresh_file, remove_file),
      cmocka_unit_test_setup_teardown(test_offsets_not_issued, fresh_file, remove_file),
      cmocka_unit_test_setup_teardown(test_growing_file, fresh_file, remove_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
