/* What may be a name (api/names.h): the rules, and the scan of raw request
 * targets that finds a control character before decoding could cut it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/names.h"

static void test_name_rules(void **state) {
  static const char *const good[] = {"p", "my_project", "a.b", "...", ".hidden", "caf\xc3\xa9",
                                     "with space", "x/y"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_null(mn_name_problem(good[i], strlen(good[i])));
  static const struct {
    const char *s;
    size_t len;
    const char *want;
  } bad[] = {
      {".", 1, "string must not be \".\" or \"..\""},
      {"..", 2, "string must not be \".\" or \"..\""},
      {"a\0b", 3, "string must not contain control characters"},
      {"a\nb", 3, "string must not contain control characters"},
      {"\t", 1, "string must not contain control characters"},
      {"x\x7f", 2, "string must not contain control characters"},
      {"x\xc2\x80", 3, "string must not contain control characters"},
      {"x\xc2\x9f", 3, "string must not contain control characters"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_string_equal(mn_name_problem(bad[i].s, bad[i].len), bad[i].want);
  /* U+00A0 (c2 a0) is not a control character */
  assert_null(mn_name_problem("x\xc2\xa0", 3));
}

static void test_target_scan(void **state) {
  struct mn_uri_problem w;
  assert_false(mn_uri_find_control("/projects/p", &w));
  assert_false(mn_uri_find_control("/projects/p%2e%2e", &w)); /* dots: the router's business */
  assert_false(mn_uri_find_control("/bad%escape%4", &w));     /* left as is, like MHD */
  assert_true(mn_uri_find_control("/projects/a%00b", &w));
  assert_false(w.in_query);
  assert_int_equal(w.segment, 1);
  assert_true(mn_uri_find_control("/a/b/c%1F", &w));
  assert_int_equal(w.segment, 2);
  assert_true(mn_uri_find_control("/a\x01", &w));
  assert_int_equal(w.segment, 0);
  assert_true(mn_uri_find_control("/a/b%C2%9B", &w)); /* C1, percent-encoded */
  assert_int_equal(w.segment, 1);
  assert_true(mn_uri_find_control("/a?k=v&name=%0a", &w));
  assert_true(w.in_query);
  assert_string_equal(w.key, "name");
  assert_true(mn_uri_find_control("/a?na%00me=v", &w));
  assert_true(w.in_query);
  assert_string_equal(w.key, "");
  assert_true(mn_uri_find_control("/a?x+y=%7f", &w));
  assert_string_equal(w.key, "x y");
  assert_false(mn_uri_find_control("/a?x=1&&y=&=z", &w));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_rules),
      cmocka_unit_test(test_target_scan),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
