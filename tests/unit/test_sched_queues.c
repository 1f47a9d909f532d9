/* The scheduler's set of functions with a queue (scheduler/queues.c): add,
 * remove, membership, notification payloads, the key view the store takes,
 * and growth past thousands of functions with removals in between. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/queues.h"

static void add_remove_has(void **state) {
  (void)state;
  struct mn_queues *q = mn_queues_new();
  assert_non_null(q);
  assert_int_equal(mn_queues_add(q, "p", "ver-1", "f"), 0);
  assert_int_equal(mn_queues_add(q, "p", "ver-1", "f"), 0); /* once */
  assert_int_equal(mn_queues_add(q, "p", "ver-1", "g"), 0);
  assert_int_equal(mn_queues_count(q), 2);
  assert_true(mn_queues_has(q, "p", "ver-1", "f"));
  assert_false(mn_queues_has(q, "p", "ver-2", "f"));
  /* the separator keeps ("ab", "c") apart from ("a", "bc") */
  assert_int_equal(mn_queues_add(q, "ab", "c", "d"), 0);
  assert_false(mn_queues_has(q, "a", "bc", "d"));
  mn_queues_remove(q, "p", "ver-1", "f");
  mn_queues_remove(q, "p", "ver-1", "f"); /* absent: nothing */
  assert_false(mn_queues_has(q, "p", "ver-1", "f"));
  assert_int_equal(mn_queues_count(q), 2);
  struct mn_fn_keys k = mn_queues_keys(q);
  assert_int_equal(k.n, 2);
  int seen_g = 0;
  for (size_t i = 0; i < k.n; i++)
    seen_g += strcmp(k.keys[i].function_name, "g") == 0 &&
              strcmp(k.keys[i].version_ref, "ver-1") == 0 &&
              strcmp(k.keys[i].project_name, "p") == 0;
  assert_int_equal(seen_g, 1);
  mn_queues_free(q);
  mn_queues_free(NULL);
}

static void payloads(void **state) {
  (void)state;
  struct mn_queues *q = mn_queues_new();
  assert_int_equal(mn_queues_add_payload(q, "queue\x1fproj\x1fver-9\x1fsquare"), 0);
  assert_true(mn_queues_has(q, "proj", "ver-9", "square"));
  /* other channels' payloads and malformed ones change nothing */
  assert_int_equal(mn_queues_add_payload(q, "project"), 0);
  assert_int_equal(mn_queues_add_payload(q, "execution"), 0);
  assert_int_equal(mn_queues_add_payload(q, "queue\x1fonly-project"), 0);
  assert_int_equal(mn_queues_add_payload(q, "queue\x1fp\x1fv"), 0);
  assert_int_equal(mn_queues_count(q), 1);
  mn_queues_free(q);
}

static void grows_and_keeps_everything(void **state) {
  (void)state;
  struct mn_queues *q = mn_queues_new();
  char f[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(f, sizeof f, "f%d", i);
    assert_int_equal(mn_queues_add(q, "p", "v", f), 0);
    if (i % 3 == 0)
      mn_queues_remove(q, "p", "v", f);
  }
  assert_int_equal(mn_queues_count(q), 5000 - 1667);
  for (int i = 0; i < 5000; i++) {
    snprintf(f, sizeof f, "f%d", i);
    assert_int_equal(mn_queues_has(q, "p", "v", f), i % 3 != 0);
  }
  assert_int_equal(mn_queues_keys(q).n, 5000 - 1667);
  mn_queues_free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(add_remove_has),
      cmocka_unit_test(payloads),
      cmocka_unit_test(grows_and_keeps_everything),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
