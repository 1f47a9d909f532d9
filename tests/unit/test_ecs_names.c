/* test_ecs_names.c — the ECS provider's pure parts, compiled in from
 * plugins/ecs: the Fargate size table and its rounding, task definition
 * family naming, client tokens, startedBy, image references, log streams,
 * the classification of AWS errors (the toolkit's aws/error.c), the launch
 * token bucket, and the list of calls mn_ecs_call allows (calls.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../plugins/ecs/calls.c"
#include "../plugins/ecs/fargate_sizes.c"
#include "../plugins/ecs/names.c"
#include "../plugins/ecs/token_bucket.c"
#include "../plugins/support/aws/error.c"

static void expect_size(double vcpus, double gb, int cpu, int memory) {
  struct mn_ecs_fargate_size s = {0, 0};
  if (mn_ecs_fargate_size(vcpus, gb, &s) != 0)
    fail_msg("%g vCPU %g GB: no size", vcpus, gb);
  if (s.cpu != cpu || s.memory != memory)
    fail_msg("%g vCPU %g GB: got %d/%d, want %d/%d", vcpus, gb, s.cpu, s.memory, cpu, memory);
  assert_true(mn_ecs_fargate_valid(s.cpu, s.memory));
}

static void test_fargate_rounding(void **state) {
  (void)state;
  /* the client's default, and the examples of docs/compatibility.md §5.6 (where the table
   * now has a smaller size that covers the request) */
  expect_size(0.1, 0.25, 256, 512);
  expect_size(1, 14, 2048, 14336);  /* was 2048/16384 with the old subset */
  expect_size(7, 1, 8192, 16384);
  expect_size(0.25, 0.5, 256, 512);
  expect_size(0.25, 1.5, 256, 2048); /* 0.25 vCPU: 512, 1024, 2048 only */
  expect_size(0.25, 3, 512, 3072);   /* past 2 GB: the next CPU size */
  expect_size(0.5, 0.5, 512, 1024);  /* the smallest memory of 0.5 vCPU */
  expect_size(1, 4, 1024, 4096);
  expect_size(1, 4.1, 1024, 5120);
  expect_size(1, 9, 2048, 9216);
  expect_size(4, 30, 4096, 30720);
  expect_size(4, 31, 8192, 32768); /* 8 vCPU: 4 GB steps */
  expect_size(8, 16.5, 8192, 20480);
  expect_size(16, 120, 16384, 122880);
  expect_size(9, 1, 16384, 32768);
  expect_size(16, 33, 16384, 40960); /* 16 vCPU: 8 GB steps */
  expect_size(0, 0, 256, 512);
  expect_size(2.0000001, 4, 2048, 4096); /* float noise is not a larger request */
  struct mn_ecs_fargate_size s;
  assert_int_equal(mn_ecs_fargate_size(17, 4, &s), -1);
  assert_int_equal(mn_ecs_fargate_size(1, 121, &s), -1);
  assert_int_equal(mn_ecs_fargate_size(0.0 / 0.0, 1, &s), -1);
  assert_int_equal(mn_ecs_fargate_size(1, 1e300, &s), -1);
}

/* Every row of AWS's table, and nothing between rows. */
static void test_fargate_table(void **state) {
  (void)state;
  int n = 0;
  for (int cpu = 128; cpu <= 32768; cpu *= 2)
    for (int mem = 512; mem <= 131072; mem += 512)
      n += mn_ecs_fargate_valid(cpu, mem);
  /* 3 + 4 + 7 + 13 + 23 + 12 + 12 combinations */
  assert_int_equal(n, 74);
  assert_false(mn_ecs_fargate_valid(256, 1536));
  assert_false(mn_ecs_fargate_valid(8192, 17408));
  assert_true(mn_ecs_fargate_valid(8192, 20480));
  assert_true(mn_ecs_fargate_valid(16384, 40960));
  assert_false(mn_ecs_fargate_valid(16384, 36864));
}

static int family_ok(const char *f) {
  size_t n = strlen(f);
  if (n == 0 || n > 255)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!family_char(f[i]))
      return 0;
  return 1;
}

static void test_family(void **state) {
  (void)state;
  char a[256], b[256], c[256];
  assert_int_equal(mn_ecs_family("cid", "proj", "fn", a, sizeof a), 0);
  assert_true(strncmp(a, "multinode-proj-fn-", 18) == 0);
  assert_int_equal(strlen(a), 18 + 8);
  assert_true(family_ok(a));
  /* deterministic */
  assert_int_equal(mn_ecs_family("cid", "proj", "fn", b, sizeof b), 0);
  assert_string_equal(a, b);
  /* names that read the same once joined or cleaned stay apart */
  assert_int_equal(mn_ecs_family("cid", "a-b", "c", a, sizeof a), 0);
  assert_int_equal(mn_ecs_family("cid", "a", "b-c", b, sizeof b), 0);
  assert_string_not_equal(a, b);
  assert_int_equal(mn_ecs_family("cid", "my project", "f.n/x", a, sizeof a), 0);
  assert_true(family_ok(a));
  assert_true(strncmp(a, "multinode-my-project-f-n-x-", 27) == 0);
  assert_int_equal(mn_ecs_family("cid", "my_project", "f-n-x", b, sizeof b), 0);
  assert_string_not_equal(a, b);
  /* another cluster (daemon database) gets another family */
  assert_int_equal(mn_ecs_family("other", "proj", "fn", c, sizeof c), 0);
  assert_int_equal(mn_ecs_family("cid", "proj", "fn", b, sizeof b), 0);
  assert_string_not_equal(b, c);
  /* long names are cut within 255, and still differ */
  char longp[1100], longf1[1100], longf2[1100];
  memset(longp, 'p', 1023);
  longp[1023] = '\0';
  memset(longf1, 'f', 1023);
  longf1[1023] = '\0';
  strcpy(longf2, longf1);
  longf2[1000] = 'g';
  assert_int_equal(mn_ecs_family("cid", longp, longf1, a, sizeof a), 0);
  assert_int_equal(mn_ecs_family("cid", longp, longf2, b, sizeof b), 0);
  assert_true(family_ok(a) && family_ok(b));
  assert_string_not_equal(a, b);
  /* UTF-8 bytes become '-' */
  assert_int_equal(mn_ecs_family("cid", "caf\xc3\xa9", "x", a, sizeof a), 0);
  assert_true(family_ok(a));
  assert_int_equal(mn_ecs_family("cid", "p", "f", a, 100), -1); /* buffer too small */
}

static void test_tokens_and_names(void **state) {
  (void)state;
  char t[65], sb[200], ls[300];
  assert_int_equal(mn_ecs_client_token("exe-0123456789abcdef0123456789abcdef", t, sizeof t), 0);
  assert_string_equal(t, "exe-0123456789abcdef0123456789abcdef");
  char longid[100];
  memset(longid, 'x', 80);
  longid[80] = '\0';
  assert_int_equal(mn_ecs_client_token(longid, t, sizeof t), 0);
  assert_int_equal(strlen(t), 64);
  assert_int_equal(mn_ecs_client_token("has space", t, sizeof t), 0);
  assert_int_equal(strlen(t), 64);
  assert_int_equal(mn_ecs_started_by("abc-123", sb, sizeof sb), 0);
  assert_string_equal(sb, "multinode/abc-123");
  assert_int_equal(mn_ecs_started_by("a b:c", sb, sizeof sb), 0);
  assert_string_equal(sb, "multinode/a-b-c");
  char longc[300];
  memset(longc, 'c', 299);
  longc[299] = '\0';
  assert_int_equal(mn_ecs_started_by(longc, sb, sizeof sb), 0);
  assert_int_equal(strlen(sb), 128);
  assert_true(mn_ecs_image_valid("123456789012.dkr.ecr.eu-west-2.amazonaws.com/repo:tag"));
  assert_true(mn_ecs_image_valid("busybox@sha256:abc"));
  assert_false(mn_ecs_image_valid("Not A Valid Image!"));
  assert_false(mn_ecs_image_valid(""));
  char longi[300];
  memset(longi, 'i', 256);
  longi[256] = '\0';
  assert_false(mn_ecs_image_valid(longi));
  assert_int_equal(
      mn_ecs_log_stream("multinode", "arn:aws:ecs:eu-west-2:1:task/multinode/abc123", ls, sizeof ls),
      0);
  assert_string_equal(ls, "multinode/main/abc123");
}

static void test_error_classes(void **state) {
  (void)state;
  assert_int_equal(mn_aws_error_code(400, "ThrottlingException"), MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(400, "com.amazonaws.ecs#ThrottlingException"),
                   MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(400, "ThrottlingException:http://internal.amazon.com/"),
                   MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(500, "ServerException"), MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(503, NULL), MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(502, "Whatever"), MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(429, NULL), MN_PROVIDER_E_TRANSIENT);
  assert_int_equal(mn_aws_error_code(400, "AccessDeniedException"), MN_PROVIDER_E_AUTH);
  assert_int_equal(mn_aws_error_code(400, "UnrecognizedClientException"), MN_PROVIDER_E_AUTH);
  assert_int_equal(mn_aws_error_code(403, "InvalidSignatureException"), MN_PROVIDER_E_AUTH);
  assert_int_equal(mn_aws_error_code(400, "ExpiredTokenException"), MN_PROVIDER_E_AUTH);
  assert_int_equal(mn_aws_error_code(403, NULL), MN_PROVIDER_E_AUTH);
  assert_int_equal(mn_aws_error_code(400, "ClientException"), MN_PROVIDER_E_INVALID);
  assert_int_equal(mn_aws_error_code(400, "InvalidParameterException"), MN_PROVIDER_E_INVALID);
  assert_int_equal(mn_aws_error_code(400, "SerializationException"), MN_PROVIDER_E_INVALID);
  assert_int_equal(mn_aws_error_code(400, "ClusterNotFoundException"), MN_PROVIDER_E_INVALID);
  assert_int_equal(mn_aws_error_code(400, "ResourceNotFoundException"), MN_PROVIDER_E_NOT_FOUND);
  assert_int_equal(mn_aws_error_code(400, NULL), MN_PROVIDER_E_INVALID);
  char type[32];
  mn_aws_error_type("aws.protocols#ThrottlingException", type, sizeof type);
  assert_string_equal(type, "ThrottlingException");
  mn_aws_error_type("AccessDeniedException:http://x/", type, sizeof type);
  assert_string_equal(type, "AccessDeniedException");
}

static void test_token_bucket(void **state) {
  (void)state;
  struct mn_ecs_bucket b;
  const int64_t s = 1000000;
  mn_ecs_bucket_init(&b, 20, 100, 0);
  for (int i = 0; i < 100; i++) /* the burst at once */
    assert_int_equal(mn_ecs_bucket_try(&b, 0), 0);
  int64_t w = mn_ecs_bucket_try(&b, 0); /* then 20/s: one every 50 ms */
  assert_true(w >= 49000 && w <= 51000);
  assert_int_equal(mn_ecs_bucket_try(&b, 0), w); /* nothing taken while waiting */
  w = mn_ecs_bucket_try(&b, 20000);
  assert_true(w >= 29000 && w <= 31000);
  assert_int_equal(mn_ecs_bucket_try(&b, 50001), 0); /* the next token, taken */
  w = mn_ecs_bucket_try(&b, 50001);
  assert_true(w >= 49000 && w <= 51000);
  /* after 10 s the bucket is full again, never more than the burst */
  int taken = 0;
  while (mn_ecs_bucket_try(&b, 10 * s) == 0)
    taken++;
  assert_int_equal(taken, 100);
  mn_ecs_bucket_release(&b);
}

static void test_calls_table(void **state) {
  (void)state;
  const struct mn_ecs_call_desc *c = mn_ecs_call_find(MN_ECS_SVC_ECS, "RunTask");
  assert_non_null(c);
  assert_string_equal(c->iam, "ecs:RunTask ecs:TagResource");
  assert_non_null(mn_ecs_call_find(MN_ECS_SVC_LOGS, "GetLogEvents"));
  assert_non_null(mn_ecs_call_find(MN_ECS_SVC_ECR, "GetAuthorizationToken"));
  /* never called, so never allowed; and an action is looked up in its own service */
  assert_null(mn_ecs_call_find(MN_ECS_SVC_ECS, "DeregisterTaskDefinition"));
  assert_null(mn_ecs_call_find(MN_ECS_SVC_LOGS, "RunTask"));
  assert_null(mn_ecs_call_find(MN_ECS_SVC_ECS, "runtask"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_table),
      cmocka_unit_test(test_fargate_rounding), cmocka_unit_test(test_fargate_table),
      cmocka_unit_test(test_family),           cmocka_unit_test(test_tokens_and_names),
      cmocka_unit_test(test_error_classes),    cmocka_unit_test(test_token_bucket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
