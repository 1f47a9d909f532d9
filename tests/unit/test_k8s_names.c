/* test_k8s_names.c — the k8s provider's pure helpers (plugins/k8s/names.c):
 * Job names (DNS-1123, deterministic, collision-free), label values,
 * CPU/memory quantities, image references; and the RBAC rule of each API
 * request (plugins/k8s/api_calls.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/k8s/names.c"
#include "../../plugins/k8s/api_calls.c"

static int dns1123_label(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 63)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-')
      return 0;
    if ((i == 0 || i == n - 1) && !alnum)
      return 0;
  }
  return 1;
}

static void test_job_name(void **state) {
  (void)state;
  char a[64], b[64];
  mn_k8s_job_name("exe-0123456789abcdef0123456789abcdef", a);
  assert_string_equal(a, "mn-exe-0123456789abcdef0123456789abcdef");
  mn_k8s_job_name("exe-0123456789abcdef0123456789abcdef", b);
  assert_string_equal(a, b); /* deterministic */

  /* anything else is sanitised and made unique by a hash */
  static const char *const odd[] = {"EXE-ABC", "exe_abc", "exe.abc", "exe--abc-", "-",
                                    "a-very-long-execution-id-that-goes-on-and-on-and-on-"
                                    "and-on-beyond-sixty-three-characters",
                                    "ünïcödé", ""};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
    mn_k8s_job_name(odd[i], a);
    assert_true(dns1123_label(a));
    assert_memory_equal(a, "mn-", 3);
  }
  mn_k8s_job_name("exe_abc", a);
  mn_k8s_job_name("exe.abc", b);
  assert_string_not_equal(a, b); /* same sanitised text, different ids */
  mn_k8s_job_name("EXE-ABC", a);
  mn_k8s_job_name("exe-abc", b);
  assert_string_not_equal(a, b);
  assert_string_equal(b, "mn-exe-abc");
}

static void test_label_value(void **state) {
  (void)state;
  char out[64];
  mn_k8s_label_value("inv-0123456789abcdef0123456789abcdef", out);
  assert_string_equal(out, "inv-0123456789abcdef0123456789abcdef");
  mn_k8s_label_value("My.Project_1", out);
  assert_string_equal(out, "My.Project_1");
  mn_k8s_label_value("", out);
  assert_string_equal(out, "");
  static const char *const bad[] = {"has space", "-leading", "trailing.", "a/b", "ünï",
                                    "0123456789012345678901234567890123456789012345678901234567890123"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_false(mn_k8s_label_value_valid(bad[i]));
    mn_k8s_label_value(bad[i], out);
    assert_true(mn_k8s_label_value_valid(out));
    assert_true(strlen(out) > 0 && strlen(out) <= 63);
  }
  char x[64], y[64];
  mn_k8s_label_value("a b", x);
  mn_k8s_label_value("a/b", y);
  assert_string_not_equal(x, y);
}

static void test_quantities(void **state) {
  (void)state;
  char q[32];
  static const struct {
    double v;
    const char *cpu;
  } cpus[] = {{1, "1"}, {0.5, "500m"}, {0.25, "250m"}, {2, "2"}, {0.0001, "1m"}, {1.5, "1500m"},
              {0.1, "100m"}};
  for (size_t i = 0; i < sizeof cpus / sizeof *cpus; i++) {
    assert_int_equal(mn_k8s_cpu_quantity(cpus[i].v, q, sizeof q), 0);
    assert_string_equal(q, cpus[i].cpu);
  }
  static const struct {
    double v;
    const char *mem;
  } mems[] = {{4, "4Gi"}, {0.25, "256Mi"}, {0.5, "512Mi"}, {1.5, "1536Mi"}, {0.0001, "1Mi"},
              {30, "30Gi"}};
  for (size_t i = 0; i < sizeof mems / sizeof *mems; i++) {
    assert_int_equal(mn_k8s_memory_quantity(mems[i].v, q, sizeof q), 0);
    assert_string_equal(q, mems[i].mem);
  }
  assert_int_equal(mn_k8s_cpu_quantity(0, q, sizeof q), -1);
  assert_int_equal(mn_k8s_cpu_quantity(-1, q, sizeof q), -1);
  assert_int_equal(mn_k8s_memory_quantity(0, q, sizeof q), -1);
}

static void test_image(void **state) {
  (void)state;
  char why[256];
  static const char *const good[] = {"busybox", "library/busybox:1.36", "registry.example/a/b:tag",
                                     "localhost:5000/x", "ghcr.io/owner/x@sha256:abc",
                                     "my.registry:443/team/app:V1.2"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    assert_true(mn_k8s_image_valid(good[i], why, sizeof why));
  static const struct {
    const char *ref, *why;
  } bad[] = {{"", "no image"},
             {"Not A/valid image", "character ' ' is not allowed in an image reference"},
             {"Busybox", "the repository name must be lowercase"},
             {":tag", "the repository name is empty"},
             {"-x", "the repository name must start and end with a letter or digit"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_false(mn_k8s_image_valid(bad[i].ref, why, sizeof why));
    assert_string_equal(why, bad[i].why);
  }
}

static void test_call_rules(void **state) {
  (void)state;
  char rule[320];
  static const struct {
    const char *method, *path, *rule;
    int rc;
  } cases[] = {
      {"POST", "/apis/batch/v1/namespaces/ns/jobs", "create jobs in group \"batch\"", 0},
      {"GET", "/apis/batch/v1/namespaces/ns/jobs/mn-x", "get jobs in group \"batch\"", 0},
      {"GET", "/apis/batch/v1/namespaces/ns/jobs?labelSelector=a%3Db&limit=500",
       "list jobs in group \"batch\"", 0},
      {"DELETE", "/apis/batch/v1/namespaces/ns/jobs/mn-x", "delete jobs in group \"batch\"", 0},
      {"GET", "/api/v1/namespaces/ns/pods?labelSelector=job-name%3Dx", "list pods in group \"\"", 0},
      {"DELETE", "/api/v1/namespaces/ns/pods?labelSelector=x&gracePeriodSeconds=1",
       "deletecollection pods in group \"\"", 0},
      {"GET", "/api/v1/namespaces/ns/pods/p/log?container=main", "get pods/log in group \"\"", 0},
      {"PATCH", "/api/v1/namespaces/ns/secrets/s", "patch secrets in group \"\"", 0},
      {"PATCH", "/api/v1/namespaces/ns/pods/p", "patch pods in group \"\"", 0},
      /* not among the calls */
      {"GET", "/api/v1/namespaces/ns/pods/p", "get pods in group \"\"", 1},
      {"PUT", "/apis/batch/v1/namespaces/ns/jobs/mn-x", "update jobs in group \"batch\"", 1},
      {"GET", "/api/v1/namespaces/ns/secrets", "list secrets in group \"\"", 1},
      {"POST", "/apis/apps/v1/namespaces/ns/deployments", "create deployments in group \"apps\"", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    rule[0] = '\0';
    assert_int_equal(mn_k8s_call_rule(cases[i].method, cases[i].path, rule, sizeof rule),
                     cases[i].rc);
    assert_string_equal(rule, cases[i].rule);
  }
  /* no namespaced API path, or no verb for it */
  static const char *const odd[][2] = {{"GET", "/version"},
                                       {"GET", "/api/v1/nodes"},
                                       {"GET", "/api/v1/namespaces/ns"},
                                       {"POST", "/api/v1/namespaces/ns/secrets/s"},
                                       {"PATCH", "/api/v1/namespaces/ns/secrets"},
                                       {"HEAD", "/api/v1/namespaces/ns/pods"},
                                       {"GET", "/apis/batch"},
                                       {"GET", "/api/v1/namespaces/ns/pods/p/log/x/y"},
                                       {"GET", ""}};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
    assert_int_equal(mn_k8s_call_rule(odd[i][0], odd[i][1], rule, sizeof rule), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_job_name),
      cmocka_unit_test(test_label_value),
      cmocka_unit_test(test_quantities),
      cmocka_unit_test(test_image),
      cmocka_unit_test(test_call_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
