/* The paging offset "<creation_time_us>,<invocation_id>": round trips and
 * the inputs that give OffsetIsInvalid (docs/compatibility.md §7 type tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

static void test_round_trip(void **state) {
  static const struct {
    int64_t t;
    const char *id;
  } cases[] = {{0, "inv-0"},
               {1700000000123456, "inv-0123456789abcdef0123456789abcdef"},
               {-5, "x"},
               {INT64_MAX, "a,b,c"},
               {INT64_MIN, ""},
               {42, "with space"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = mn_page_offset_format(cases[i].t, cases[i].id);
    assert_non_null(text);
    struct mn_page_offset o;
    assert_int_equal(mn_page_offset_parse(text, &o), 0);
    assert_true(o.creation_time == cases[i].t);
    assert_string_equal(o.invocation_id, cases[i].id);
    free(text);
  }
}

static void test_format(void **state) {
  char *text = mn_page_offset_format(1700000000000001, "inv-ab");
  assert_string_equal(text, "1700000000000001,inv-ab");
  free(text);
  assert_null(mn_page_offset_format(1, NULL));
}

static void test_split_at_first_comma(void **state) {
  struct mn_page_offset o;
  assert_int_equal(mn_page_offset_parse("12,inv-a,b", &o), 0);
  assert_true(o.creation_time == 12);
  assert_string_equal(o.invocation_id, "inv-a,b");
  assert_int_equal(mn_page_offset_parse("7,", &o), 0);
  assert_true(o.creation_time == 7);
  assert_string_equal(o.invocation_id, "");
  /* Python's int() accepts blanks and a sign */
  assert_int_equal(mn_page_offset_parse(" +3 ,id", &o), 0);
  assert_true(o.creation_time == 3);
  assert_int_equal(mn_page_offset_parse("-3,id", &o), 0);
  assert_true(o.creation_time == -3);
}

static void test_invalid(void **state) {
  static const char *const bad[] = {
      "",          "123",   "inv-abc",          ",inv-a", "abc,inv-a", "12x,inv-a",
      "1.5,inv-a", "+,id",  " ,id",             "1 2,id", "0x10,id",
      "99999999999999999999,id", /* does not fit in 64 bits */
  };
  struct mn_page_offset o = {.creation_time = 77, .invocation_id = "kept"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(mn_page_offset_parse(bad[i], &o), MN_EOFFSET_INVALID);
    assert_true(o.creation_time == 77); /* untouched on failure */
    assert_string_equal(o.invocation_id, "kept");
  }
  assert_int_equal(mn_page_offset_parse(NULL, &o), MN_EOFFSET_INVALID);
  /* an id longer than any id can be */
  char long_text[300];
  memset(long_text, 'a', sizeof long_text - 1);
  long_text[sizeof long_text - 1] = '\0';
  long_text[0] = '1';
  long_text[1] = ',';
  assert_int_equal(mn_page_offset_parse(long_text, &o), MN_EOFFSET_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_split_at_first_comma),
      cmocka_unit_test(test_invalid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
