/* The Docker provider's saved-log cap (plugins/docker/log_cap.c, compiled
 * in): head, marker with the first left-out timestamp, tail of whole lines;
 * the marker and the tail parse as log lines (log_frames.c), in time order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/docker/log_cap.c"
#include "../../plugins/docker/log_frames.c"

struct saved {
  char *text;
  size_t len;
  FILE *f;
};

static void saved_open(struct saved *s) {
  memset(s, 0, sizeof *s);
  s->f = open_memstream(&s->text, &s->len);
  assert_non_null(s->f);
}

static void saved_close(struct saved *s) {
  fclose(s->f);
  s->f = NULL;
}

/* "2024-05-01T12:00:00.<9 digits>Z line N" */
static int stamped(char *out, size_t size, int n) {
  return snprintf(out, size, "2024-05-01T12:00:00.%09dZ line %d", n, n);
}

static void test_no_cap(void **state) {
  (void)state;
  struct saved s;
  struct mn_docker_log_cap c;
  char line[128];
  saved_open(&s);
  mn_docker_log_cap_init(&c, s.f, 0);
  for (int i = 1; i <= 1000; i++) {
    int n = stamped(line, sizeof line, i);
    assert_int_equal(mn_docker_log_cap_line(&c, line, (size_t)n), 0);
  }
  assert_int_equal(mn_docker_log_cap_finish(&c), 0);
  saved_close(&s);
  assert_null(strstr(s.text, "multinode:"));
  assert_non_null(strstr(s.text, "line 1000\n"));
  free(s.text);
}

static void test_head_marker_tail(void **state) {
  (void)state;
  struct saved s;
  struct mn_docker_log_cap c;
  char line[128];
  const uint64_t max = 16384;
  saved_open(&s);
  mn_docker_log_cap_init(&c, s.f, max);
  for (int i = 1; i <= 5000; i++) {
    int n = stamped(line, sizeof line, i);
    assert_int_equal(mn_docker_log_cap_line(&c, line, (size_t)n), 0);
  }
  assert_int_equal(mn_docker_log_cap_finish(&c), 0);
  saved_close(&s);
  char *marker = strstr(s.text, " multinode: the log reached its cap of 16384 bytes");
  assert_non_null(marker);
  assert_null(strstr(marker + 12, "multinode:"));
  assert_true(s.len <= max + 200);
  assert_memory_equal(s.text, "2024-05-01T12:00:00.000000001Z line 1\n", 38);
  assert_non_null(strstr(s.text, "line 5000\n"));
  /* every line parses, the times never go back, and the marker carries the
   * time of the first line left out */
  int64_t last = 0, ts;
  const char *text;
  size_t text_len;
  int lines = 0, marker_seen = 0;
  for (char *p = s.text; *p;) {
    char *nl = strchr(p, '\n');
    assert_non_null(nl);
    assert_int_equal(mn_docker_log_line_parse(p, (size_t)(nl - p), &ts, &text, &text_len), 0);
    assert_true(ts >= last);
    if (strncmp(text, "multinode:", 10) == 0) {
      marker_seen = 1;
      assert_true(ts > last); /* the first line left out comes after the head */
    }
    last = ts;
    lines++;
    p = nl + 1;
  }
  assert_int_equal(marker_seen, 1);
  assert_int_equal((uint64_t)lines - 1 + c.dropped_lines, 5000);
  free(s.text);
}

/* A line longer than the whole tail is left out, and counted. */
static void test_a_line_longer_than_the_tail(void **state) {
  (void)state;
  struct saved s;
  struct mn_docker_log_cap c;
  char line[128];
  saved_open(&s);
  mn_docker_log_cap_init(&c, s.f, 8192);
  for (int i = 1; i <= 200; i++) {
    int n = stamped(line, sizeof line, i);
    assert_int_equal(mn_docker_log_cap_line(&c, line, (size_t)n), 0);
  }
  size_t big_len = 100000;
  char *big = malloc(big_len);
  assert_non_null(big);
  memset(big, 'y', big_len);
  memcpy(big, "2024-05-01T12:00:01.000000000Z ", 31);
  assert_int_equal(mn_docker_log_cap_line(&c, big, big_len), 0);
  int n = stamped(line, sizeof line, 999999999);
  assert_int_equal(mn_docker_log_cap_line(&c, line, (size_t)n), 0);
  assert_int_equal(mn_docker_log_cap_finish(&c), 0);
  saved_close(&s);
  assert_null(strstr(s.text, "yyyy"));
  assert_non_null(strstr(s.text, "line 999999999\n"));
  assert_true(s.len <= 8192 + 200);
  free(big);
  free(s.text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_cap),
      cmocka_unit_test(test_head_marker_tail),
      cmocka_unit_test(test_a_line_longer_than_the_tail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
