/* test_k8s_kubeconfig.c — kubeconfig and in-cluster credentials of the k8s
 * provider (plugins/k8s/kubeconfig.c, yaml_json.c): contexts, token,
 * tokenFile, client certificates as files or -data, CA, insecure, relative
 * paths, http servers, and the errors for what is wrong or unsupported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../plugins/k8s/kubeconfig.c"
#include "../../plugins/k8s/yaml_json.c"

static char dir[256];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/mn-k8s-kc.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text) {
  static char path[4][512];
  static int k;
  char *p = path[k++ % 4];
  snprintf(p, 512, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return p;
}

/* "hello" and "world!" in base64 */
#define B64_HELLO "aGVsbG8="
#define B64_WORLD "d29ybGQh"

static const char *const base_config =
    "apiVersion: v1\n"
    "kind: Config\n"
    "clusters:\n"
    "- name: prod\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: " B64_HELLO "\n"
    "- name: dev\n"
    "  cluster:\n"
    "    server: http://127.0.0.1:8080\n"
    "    insecure-skip-tls-verify: true\n"
    "    certificate-authority: certs/ca.pem\n"
    "users:\n"
    "- name: robot\n"
    "  user:\n"
    "    token: s3cr3t\n"
    "- name: person\n"
    "  user:\n"
    "    client-certificate-data: " B64_HELLO "\n"
    "    client-key-data: " B64_WORLD "\n"
    "- name: files\n"
    "  user:\n"
    "    client-certificate: /abs/cert.pem\n"
    "    client-key: rel/key.pem\n"
    "    tokenFile: tok\n"
    "contexts:\n"
    "- name: prod-robot\n"
    "  context: {cluster: prod, user: robot, namespace: jobs}\n"
    "- name: prod-person\n"
    "  context: {cluster: prod, user: person}\n"
    "- name: dev-files\n"
    "  context: {cluster: dev, user: files}\n"
    "current-context: prod-robot\n";

static void test_current_context_token(void **state) {
  (void)state;
  struct mn_k8s_auth a;
  char err[512];
  const char *p = write_file("config", base_config);
  assert_int_equal(mn_k8s_kubeconfig_load(p, NULL, &a, err, sizeof err), 0);
  assert_string_equal(a.server, "https://10.0.0.1:6443"); /* trailing '/' dropped */
  assert_string_equal(a.namespace_, "jobs");
  assert_string_equal(a.token, "s3cr3t");
  assert_int_equal(a.ca_len, 5);
  assert_memory_equal(a.ca_data, "hello", 5);
  assert_null(a.cert_data);
  assert_int_equal(a.insecure, 0);
  assert_non_null(strstr(a.source, "context \"prod-robot\""));
  mn_k8s_auth_release(&a);
}

static void test_named_context_cert_data(void **state) {
  (void)state;
  struct mn_k8s_auth a;
  char err[512];
  const char *p = write_file("config", base_config);
  assert_int_equal(mn_k8s_kubeconfig_load(p, "prod-person", &a, err, sizeof err), 0);
  assert_null(a.token);
  assert_int_equal(a.cert_len, 5);
  assert_memory_equal(a.cert_data, "hello", 5);
  assert_int_equal(a.key_len, 6);
  assert_memory_equal(a.key_data, "world!", 6);
  assert_string_equal(a.namespace_, "");
  mn_k8s_auth_release(&a);
}

static void test_files_relative_http_insecure(void **state) {
  (void)state;
  struct mn_k8s_auth a;
  char err[512], want[600];
  const char *p = write_file("config", base_config);
  assert_int_equal(mn_k8s_kubeconfig_load(p, "dev-files", &a, err, sizeof err), 0);
  assert_string_equal(a.server, "http://127.0.0.1:8080");
  assert_int_equal(a.insecure, 1);
  assert_string_equal(a.cert_file, "/abs/cert.pem");
  snprintf(want, sizeof want, "%s/rel/key.pem", dir);
  assert_string_equal(a.key_file, want);
  snprintf(want, sizeof want, "%s/tok", dir);
  assert_string_equal(a.token_file, want);
  snprintf(want, sizeof want, "%s/certs/ca.pem", dir);
  assert_string_equal(a.ca_file, want);
  mn_k8s_auth_release(&a);
}

static void expect_error(const char *yaml, const char *context, const char *needle) {
  struct mn_k8s_auth a;
  char err[512] = "";
  const char *p = write_file("bad", yaml);
  assert_int_equal(mn_k8s_kubeconfig_load(p, context, &a, err, sizeof err), -1);
  if (!strstr(err, needle))
    fail_msg("error \"%s\" lacks \"%s\"", err, needle);
  assert_non_null(strstr(err, p)); /* names the file */
}

static void test_errors(void **state) {
  (void)state;
  expect_error(base_config, "nope", "no context named \"nope\"");
  expect_error("clusters: [\n", NULL, ":2:1: did not find expected node content");
  expect_error("a: &x 1\nb: *x\n", NULL, ":2:4: b: YAML aliases are not supported");
  expect_error("kind: Config\nkind: Config\n", NULL, ":2:1: kind: duplicate key");
  expect_error("kind: Config\n", NULL, "no current-context");
  expect_error("contexts:\n- name: c\n  context: {cluster: x, user: u}\ncurrent-context: c\n", NULL,
               "no cluster named \"x\"");
  expect_error("clusters:\n- name: x\n  cluster: {server: ftp://h}\n"
               "contexts:\n- name: c\n  context: {cluster: x}\ncurrent-context: c\n",
               NULL, "server must be an http:// or https:// URL");
  expect_error("clusters:\n- name: x\n  cluster: {server: https://h}\n"
               "users:\n- name: u\n  user:\n    exec: {command: aws}\n"
               "contexts:\n- name: c\n  context: {cluster: x, user: u}\ncurrent-context: c\n",
               NULL, "not exec, auth-provider or basic auth");
  expect_error("clusters:\n- name: x\n  cluster: {server: https://h, certificate-authority-data: '%%%'}\n"
               "contexts:\n- name: c\n  context: {cluster: x}\ncurrent-context: c\n",
               NULL, "certificate-authority-data is not valid base64");
  expect_error("clusters:\n- name: x\n  cluster: {server: https://h}\n"
               "users:\n- name: u\n  user: {client-certificate: a.pem}\n"
               "contexts:\n- name: c\n  context: {cluster: x, user: u}\ncurrent-context: c\n",
               NULL, "needs a client key");
  struct mn_k8s_auth a;
  char err[512];
  assert_int_equal(mn_k8s_kubeconfig_load("/nonexistent/kubeconfig", NULL, &a, err, sizeof err), -1);
  assert_non_null(strstr(err, "cannot open \"/nonexistent/kubeconfig\""));
}

static void test_in_cluster(void **state) {
  (void)state;
  struct mn_k8s_auth a;
  char err[512], want[600];
  write_file("token", "abc\n");
  write_file("ca.crt", "CA");
  write_file("namespace", "team-a\n");
  assert_int_equal(mn_k8s_in_cluster_load(dir, "10.96.0.1", "443", &a, err, sizeof err), 0);
  assert_string_equal(a.server, "https://10.96.0.1:443");
  assert_string_equal(a.namespace_, "team-a");
  snprintf(want, sizeof want, "%s/token", dir);
  assert_string_equal(a.token_file, want);
  snprintf(want, sizeof want, "%s/ca.crt", dir);
  assert_string_equal(a.ca_file, want);
  mn_k8s_auth_release(&a);
  assert_int_equal(mn_k8s_in_cluster_load(dir, "fd00::1", "6443", &a, err, sizeof err), 0);
  assert_string_equal(a.server, "https://[fd00::1]:6443");
  mn_k8s_auth_release(&a);
  assert_int_equal(mn_k8s_in_cluster_load(dir, NULL, "443", &a, err, sizeof err), -1);
  assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
  assert_int_equal(mn_k8s_in_cluster_load("/nonexistent", "h", "1", &a, err, sizeof err), -1);
  assert_non_null(strstr(err, "/nonexistent/token"));
}

static void test_base64(void **state) {
  (void)state;
  size_t n;
  unsigned char *d = mn_k8s_base64_decode("aGk=", &n);
  assert_int_equal(n, 2);
  assert_memory_equal(d, "hi", 2);
  free(d);
  d = mn_k8s_base64_decode("aA==", &n);
  assert_int_equal(n, 1);
  free(d);
  d = mn_k8s_base64_decode("aGVs\nbG8=\n", &n); /* whitespace ignored */
  assert_int_equal(n, 5);
  assert_memory_equal(d, "hello", 5);
  free(d);
  assert_null(mn_k8s_base64_decode("abc", &n));
  assert_null(mn_k8s_base64_decode("", &n));
  assert_null(mn_k8s_base64_decode("!!!!", &n));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_current_context_token),
      cmocka_unit_test(test_named_context_cert_data),
      cmocka_unit_test(test_files_relative_http_insecure),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_in_cluster),
      cmocka_unit_test(test_base64),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
