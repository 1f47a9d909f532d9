/* The shared UTF-8 helpers: sequence lengths at the RFC 3629 edges,
 * validity, code-point length, and scrubbing of invalid bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "multinode/common/utf8.h"

static size_t seq(const char *s) {
  return mn_utf8_seq_len((const unsigned char *)s, strlen(s));
}

static void sequence_lengths(void **state) {
  (void)state;
  assert_int_equal(seq("a"), 1);
  assert_int_equal(seq("\xc3\xa9"), 2);         /* é */
  assert_int_equal(seq("\xe2\x82\xac"), 3);     /* € */
  assert_int_equal(seq("\xf0\x9f\x98\x80"), 4); /* 😀 */
  assert_int_equal(seq("\xc0\xaf"), 0);         /* overlong */
  assert_int_equal(seq("\xe0\x80\xaf"), 0);     /* overlong */
  assert_int_equal(seq("\xed\xa0\x80"), 0);     /* surrogate */
  assert_int_equal(seq("\xf4\x90\x80\x80"), 0); /* above U+10FFFF */
  assert_int_equal(seq("\xe2\x82"), 0);         /* cut */
  assert_int_equal(seq("\x80"), 0);             /* lone continuation */
}

static void validity_and_length(void **state) {
  (void)state;
  assert_true(mn_utf8_valid(""));
  assert_true(mn_utf8_valid("caf\xc3\xa9 \xe2\x82\xac"));
  assert_false(mn_utf8_valid("caf\xc3"));
  assert_int_equal(mn_utf8_length("caf\xc3\xa9", 5), 4);
  assert_int_equal(mn_utf8_length("\xf0\x9f\x98\x80" "a", 5), 2);
}

static void scrub_replaces_only_bad_bytes(void **state) {
  (void)state;
  char s[] = "ok \xc3\xa9 cut \xe2\x82 end \xff";
  mn_utf8_scrub(s);
  assert_string_equal(s, "ok \xc3\xa9 cut ?? end ?");
  assert_true(mn_utf8_valid(s));
}

/* Every code point encodes to what the decoder accepts back, with the same
 * length; surrogates and values above U+10FFFF are refused. */
static void encode_round_trips(void **state) {
  (void)state;
  char b[5];
  for (unsigned long cp = 1; cp <= 0x10FFFF; cp++) {
    size_t n = mn_utf8_encode(cp, b);
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      assert_int_equal(n, 0);
      continue;
    }
    size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n != want || mn_utf8_seq_len((const unsigned char *)b, n) != n)
      fail_msg("U+%04lX: encoded to %zu bytes, want %zu", cp, n, want);
  }
  assert_int_equal(mn_utf8_encode(0x110000, b), 0);
  assert_int_equal(mn_utf8_encode(0xFFFFFFFFul, b), 0);
  assert_int_equal(mn_utf8_encode(0xE9, b), 2);
  assert_memory_equal(b, "\xc3\xa9", 2);
  assert_int_equal(mn_utf8_encode(0x1F600, b), 4);
  assert_memory_equal(b, "\xf0\x9f\x98\x80", 4);
}

/* Cutting to a length in characters never splits a sequence. */
static void prefix_cuts_between_characters(void **state) {
  (void)state;
  const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* a é € 😀 z */
  size_t n = strlen(s);
  const size_t want[] = {0, 1, 3, 6, 10, 11, 11};
  for (size_t chars = 0; chars < sizeof want / sizeof want[0]; chars++)
    assert_int_equal(mn_utf8_prefix(s, n, chars), want[chars]);
  assert_int_equal(mn_utf8_prefix(s, 3, 5), 3);
  assert_int_equal(mn_utf8_prefix("", 0, 5), 0);
  /* cutting to a byte budget backs off an incomplete last sequence only */
  assert_int_equal(mn_utf8_cut(s, n), n);
  assert_int_equal(mn_utf8_cut(s, 10), 10); /* after the emoji */
  assert_int_equal(mn_utf8_cut(s, 9), 6);   /* inside the emoji: before it */
  assert_int_equal(mn_utf8_cut(s, 7), 6);
  assert_int_equal(mn_utf8_cut(s, 5), 3);   /* inside the euro sign */
  assert_int_equal(mn_utf8_cut(s, 2), 1);   /* inside the e-acute */
  assert_int_equal(mn_utf8_cut(s, 1), 1);
}

/* Repair replaces each bad byte (and NUL) by U+FFFD and keeps the rest. */
static void sanitize_replaces_each_bad_byte(void **state) {
  (void)state;
  const char in[] = "ok\xc3\xa9\xff\0x\xe2\x82"; /* é, a stray byte, NUL, a cut € */
  size_t n = sizeof in - 1;
  assert_int_equal(mn_utf8_invalid_at(in, n), 4);
  assert_int_equal(mn_utf8_invalid_at("ok\xc3\xa9", 4), 4);
  char *out = mn_utf8_sanitize(in, n);
  assert_non_null(out);
  assert_string_equal(out, "ok\xc3\xa9\xef\xbf\xbd\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd");
  assert_int_equal(mn_utf8_length(out, strlen(out)), mn_utf8_length(in, n) + 1);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sequence_lengths),
      cmocka_unit_test(validity_and_length),
      cmocka_unit_test(scrub_replaces_only_bad_bytes),
      cmocka_unit_test(encode_round_trips),
      cmocka_unit_test(prefix_cuts_between_characters),
      cmocka_unit_test(sanitize_replaces_each_bad_byte),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
