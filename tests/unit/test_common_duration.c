/* The one grammar of durations and sizes (multinode/common/duration.h): the
 * union of what the daemon's config, the manifest, the CLI's options and the
 * providers' max_log_bytes accepted before, and the refusals they agreed on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "multinode/common/duration.h"
#include "multinode/common/error.h"

static void test_duration_good(void **state) {
  static const struct {
    const char *text;
    double seconds; /* exact */
    int64_t whole;  /* mn_duration_parse: rounded up */
    int64_t ms;     /* mn_duration_parse_ms */
  } cases[] = {
      {"0", 0, 0, 0},
      {"120", 120, 120, 120000},
      {"90s", 90, 90, 90000},
      {"5m", 300, 300, 300000},
      {"1h", 3600, 3600, 3600000},
      {"1d", 86400, 86400, 86400000},
      {"2h30m", 9000, 9000, 9000000},
      {"1h0m5s", 3605, 3605, 3605000},
      {"7d", 604800, 604800, 604800000},
      {"1d1h1m1s", 90061, 90061, 90061000},
      /* the manifest's forms: spaces between parts, fractions */
      {"1m 30s", 90, 90, 90000},
      {"1h  30m", 5400, 5400, 5400000},
      {"1.5h", 5400, 5400, 5400000},
      {"0.5s", 0.5, 1, 500},
      {".5", 0.5, 1, 500},
      {"2.", 2, 2, 2000},
      /* the CLI's forms: milliseconds, bare fractional seconds */
      {"250ms", 0.25, 1, 250},
      {"1s 500ms", 1.5, 2, 1500},
      {"1.5", 1.5, 2, 1500},
      {"0.001s", 0.001, 1, 1},
      {"0.0001s", 0.0001, 1, 1},
      {"36500d", 36500.0 * 86400, 36500LL * 86400, 36500LL * 86400000},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double s = -1;
    int64_t whole = -1, ms = -1;
    int rc1 = mn_duration_parse_seconds(cases[i].text, &s);
    int rc2 = mn_duration_parse(cases[i].text, &whole);
    int rc3 = mn_duration_parse_ms(cases[i].text, &ms);
    if (rc1 || rc2 || rc3 || s != cases[i].seconds || whole != cases[i].whole ||
        ms != cases[i].ms)
      fail_msg("\"%s\": rc %d/%d/%d, got %g s, %lld s, %lld ms; want %g, %lld, %lld",
               cases[i].text, rc1, rc2, rc3, s, (long long)whole, (long long)ms,
               cases[i].seconds, (long long)cases[i].whole, (long long)cases[i].ms);
  }
}

static void test_duration_bad(void **state) {
  static const char *const cases[] = {
      "",      "s",     "5x",    "-5",    "-5s",   "5 m",  " 5m",  "5m ",   "1h5",
      "h1",    "5mm",   "+5",    "5M",    "0x10",  "1e3",  "1e3s", "inf",   "nan",
      "1 hour", "1h30", "5min",  "5sec",  "1..5s", ".s",   "5 30", "1m,30s", "1h\t30m",
      "1.5.5s", "36501d", "99999999999999999999", "9223372036854775807d",
      "1000000000000000000000000000000000000000000000000000000000000000s",
  };
  (void)state;
  double s = 42;
  int64_t v = 42;
  assert_int_equal(mn_duration_parse(NULL, &v), MN_EINVAL);
  assert_int_equal(mn_duration_parse_ms(NULL, &v), MN_EINVAL);
  assert_int_equal(mn_duration_parse_seconds(NULL, &s), MN_EINVAL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (mn_duration_parse_seconds(cases[i], &s) != MN_EINVAL ||
        mn_duration_parse(cases[i], &v) != MN_EINVAL ||
        mn_duration_parse_ms(cases[i], &v) != MN_EINVAL)
      fail_msg("\"%s\" should be rejected", cases[i]);
    assert_int_equal(v, 42); /* untouched on failure */
    assert_true(s == 42);
  }
}

static void test_size_good(void **state) {
  static const struct {
    const char *text;
    uint64_t bytes;
  } cases[] = {
      {"0", 0},
      {"67108864", 67108864},
      {"512B", 512},
      {"1k", 1024},
      {"1K", 1024},
      {"64KiB", 64 << 10},
      {"64MiB", UINT64_C(64) << 20},
      {"64 MiB", UINT64_C(64) << 20},
      {"2G", UINT64_C(2) << 30},
      {"2GiB", UINT64_C(2) << 30},
      {"1T", UINT64_C(1) << 40},
      {"1024 TiB", UINT64_C(1) << 50},
      {"1.5K", 1536},
      {"0.5B", 1}, /* rounded up to a whole byte */
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint64_t v = 42;
    int rc = mn_size_parse(cases[i].text, &v);
    if (rc != 0 || v != cases[i].bytes)
      fail_msg("\"%s\": rc %d, got %llu, want %llu", cases[i].text, rc, (unsigned long long)v,
               (unsigned long long)cases[i].bytes);
  }
}

static void test_size_bad(void **state) {
  static const char *const cases[] = {
      "",      "-1",   "64mb", "64MB",  "x",    "MiB",  "16 GB", "16 gib", "512 ", " 512",
      "1P",    "1e3",  "+5",   "1025 TiB", "2000000000GiB", "99999999999999999999",
      "16 GiBs", "nan GiB",
  };
  (void)state;
  uint64_t v = 42;
  assert_int_equal(mn_size_parse(NULL, &v), MN_EINVAL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (mn_size_parse(cases[i], &v) != MN_EINVAL)
      fail_msg("\"%s\" should be rejected, got %llu", cases[i], (unsigned long long)v);
    assert_int_equal(v, 42);
  }
}

static void test_memory_good(void **state) {
  static const struct {
    const char *text;
    double gb;
  } cases[] = {
      {"16 GiB", 16.0},  {"16GiB", 16.0},          {"512 MiB", 0.5}, {"16G", 16.0},
      {"1.5 GiB", 1.5},  {"64 KiB", 64.0 / 1048576}, {"1024 MiB", 1.0},
      {"0.25 GiB", 0.25}, {"16 TiB", 16384.0}, {"0 GiB", 0.0},
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
      "",       "GiB",     "16",    "16 GB",  "16 gib", "0", "-1 GiB",
      "16 PiB", "16 GiB ", "abc",   "nan GiB", "16 GiBs", "1 GiB 5 MiB",
  };
  (void)state;
  double v = 42;
  assert_int_equal(mn_memory_parse_gb(NULL, &v), MN_EINVAL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = mn_memory_parse_gb(cases[i], &v);
    if (rc != MN_EINVAL)
      fail_msg("\"%s\" should be rejected, got rc %d value %g", cases[i], rc, v);
    assert_true(v == 42);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duration_good), cmocka_unit_test(test_duration_bad),
      cmocka_unit_test(test_size_good),     cmocka_unit_test(test_size_bad),
      cmocka_unit_test(test_memory_good),   cmocka_unit_test(test_memory_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
