/* Durations ("90s", "5m", "1h", "2h30m", "1d", bare seconds) and memory
 * sizes ("16 GiB", "512 MiB", "64 KiB") as people write them in config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/duration.h"
#include "util/error.h"

static void test_duration_good(void **state) {
  static const struct {
    const char *text;
    int64_t seconds;
  } cases[] = {
      {"0", 0},         {"120", 120},      {"90s", 90},        {"5m", 300},
      {"1h", 3600},     {"1d", 86400},     {"2h30m", 9000},    {"1h0m5s", 3605},
      {"0s", 0},        {"7d", 604800},    {"1d1h1m1s", 90061}, {"3600s", 3600},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t v = -1;
    int rc = mn_duration_parse(cases[i].text, &v);
    if (rc != 0 || v != cases[i].seconds)
      fail_msg("\"%s\": rc %d, got %lld, want %lld", cases[i].text, rc, (long long)v,
               (long long)cases[i].seconds);
  }
}

static void test_duration_bad(void **state) {
  static const char *const cases[] = {
      "",     "s",      "5x",  "-5",   "-5s", "5 m", " 5m", "5m ",
      "1.5h", "1h5",    "h1",  "5mm",  "+5",  "5M",  "0x10",
      "99999999999999999999", "9223372036854775807d",
  };
  (void)state;
  int64_t v = 42;
  assert_int_equal(mn_duration_parse(NULL, &v), MN_EINVAL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    v = 42;
    int rc = mn_duration_parse(cases[i], &v);
    if (rc != MN_EINVAL)
      fail_msg("\"%s\" should be rejected, got rc %d value %lld", cases[i], rc, (long long)v);
    assert_int_equal(v, 42); /* untouched on failure */
  }
}

static void test_memory_good(void **state) {
  static const struct {
    const char *text;
    double gb;
  } cases[] = {
      {"16 GiB", 16.0},  {"16GiB", 16.0},          {"512 MiB", 0.5},
      {"1.5 GiB", 1.5},  {"64 KiB", 64.0 / 1048576}, {"1024 MiB", 1.0},
      {"0.25 GiB", 0.25},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v = -1;
    int rc = mn_memory_parse_gb(cases[i].text, &v);
    if (rc != 0 || v != cases[i].gb)
      fail_msg("\"%s\": rc %d, got %g, want %g", cases[i].text, rc, v, cases[i].gb);
  }
}

static void test_memory_bad(void **state) {
  static const char *const cases[] = {
      "",       "GiB",     "16",    "16 GB",  "16 gib", "0 GiB", "-1 GiB",
      "16 TiB", "16 GiB ", "abc",   "nan GiB", "16 GiBs",
  };
  (void)state;
  double v = 42;
  assert_int_equal(mn_memory_parse_gb(NULL, &v), MN_EINVAL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    v = 42;
    int rc = mn_memory_parse_gb(cases[i], &v);
    if (rc != MN_EINVAL)
      fail_msg("\"%s\" should be rejected, got rc %d value %g", cases[i], rc, v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duration_good),
      cmocka_unit_test(test_duration_bad),
      cmocka_unit_test(test_memory_good),
      cmocka_unit_test(test_memory_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
