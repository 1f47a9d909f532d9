/* The plugin host: finds the real template provider by search, loads the
 * in-memory provider and the deliberately broken test plugins
 * (tests/plugins/, built into $MN_TEST_PLUGIN_DIR), and checks the exact
 * start-up errors, the wrappers and the host table. (The template itself,
 * against its simulator: tests/e2e/test_template.sh.) */
#define _GNU_SOURCE
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "multinode/common/yaml_tree.h"
#include "plugin/handle.h"
#include "plugin/host.h"
#include "plugin/launch_spec.h"
#include "store/model.h"

static char tmpdir[256];
static char yaml_path[512];
static char data_dir[512];
static const char *test_plugins;

/* A loaded config + plugins, for one test. */
struct fixture {
  struct mn_config cfg;
  struct mn_plugins *plugins;
  struct mn_error err;
  int rc;
};

static void write_config(const char *providers_yaml) {
  FILE *f = fopen(yaml_path, "w");
  assert_non_null(f);
  fprintf(f, "server:\n  api_key: k\n%s", providers_yaml);
  fclose(f);
}

/* Writes the config, loads it (must be valid) and then the plugins. */
static void load(struct fixture *fx, const char *providers_yaml) {
  struct mn_plugin_env env = {.public_url = "http://127.0.0.1:5999", .api_key = "worker-key",
                              .data_dir = data_dir, .cluster_id = "cluster-7"};
  memset(fx, 0, sizeof *fx);
  write_config(providers_yaml);
  if (mn_config_load(yaml_path, &fx->cfg, &fx->err))
    fail_msg("config: %s", fx->err.msg);
  fx->rc = mn_plugins_load(&fx->cfg, &env, &fx->plugins, &fx->err);
}

static void unload(struct fixture *fx) {
  mn_plugins_free(fx->plugins);
  mn_config_release(&fx->cfg);
}

/* Loads providers_yaml from the test plugins, then the default search path
 * (must succeed) and returns the default provider's handle. */
static struct mn_provider_handle *load_default(struct fixture *fx, const char *providers_yaml) {
  setenv("MULTINODE_PLUGIN_PATH", test_plugins, 1);
  load(fx, providers_yaml);
  unsetenv("MULTINODE_PLUGIN_PATH");
  if (fx->rc)
    fail_msg("%s", fx->err.msg);
  return mn_plugins_find(fx->plugins, NULL);
}

/* Loading must fail with exactly WANT (after printf-formatting). */
__attribute__((format(printf, 2, 3))) static void expect_load_error(const char *providers_yaml,
                                                                    const char *want_fmt, ...) {
  struct fixture fx;
  char want[1024];
  va_list ap;
  va_start(ap, want_fmt);
  vsnprintf(want, sizeof want, want_fmt, ap);
  va_end(ap);
  load(&fx, providers_yaml);
  assert_int_equal(fx.rc, MN_ECONFIG);
  assert_null(fx.plugins);
  assert_string_equal(fx.err.msg, want);
  unload(&fx);
}

static void test_template_by_search(void **state) {
  (void)state;
  struct fixture fx;
  unsetenv("MULTINODE_PLUGIN_PATH");
  /* the real template, found in the build tree; its API is not there */
  load(&fx, "providers:\n  default: template\n  template: {endpoint: 'http://127.0.0.1:9'}\n");
  if (fx.rc)
    fail_msg("%s", fx.err.msg);
  struct mn_provider_handle *h = mn_plugins_find(fx.plugins, NULL);
  assert_non_null(h);
  assert_ptr_equal(h, mn_plugins_find(fx.plugins, "template"));
  assert_null(mn_plugins_find(fx.plugins, "docker"));
  assert_int_equal(mn_plugins_count(fx.plugins), 1);
  assert_ptr_equal(mn_plugins_at(fx.plugins, 0), h);
  assert_string_equal(mn_provider_name(h), "template");
  char want_path[600];
  const char *build_dir, *install_dir;
  mn_plugins_default_dirs(&build_dir, &install_dir);
  snprintf(want_path, sizeof want_path, "%s/mn_provider_template.so", build_dir);
  assert_string_equal(mn_provider_path(h), want_path);
  assert_int_equal(mn_provider_abi(h), MN_PROVIDER_ABI_VERSION);
  assert_int_equal(mn_provider_caps(h), MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS |
                                            MN_PROVIDER_CAP_LIST_OWNED);
  /* an API that is down: init succeeded, calls are TRANSIENT and say where */
  struct mn_provider_error perr;
  struct mn_prepared prepared;
  struct mn_function_desc fn = {.project_name = "p", .version_id = "v", .function_name = "f"};
  assert_int_equal(mn_provider_prepare(h, &fn, &prepared, &perr), MN_PROVIDER_E_TRANSIENT);
  assert_memory_equal(perr.msg, "compute API at http://127.0.0.1:9: ", 35);
  unload(&fx);

  /* the host's wrappers and paging, exactly, with the in-memory provider */
  h = load_default(&fx, "providers:\n  default: memory\n  memory: {exit_code: 3, log_lines: 5}\n");
  assert_string_equal(mn_provider_name(h), "memory");
  assert_true(mn_provider_caps(h) & MN_PROVIDER_CAP_LOGS);
  assert_int_equal(mn_provider_prepare(h, &fn, &prepared, &perr), 0);
  assert_string_equal(prepared.details_json, "{\"type\":\"memory\"}");

  /* launch is idempotent on the execution id */
  struct mn_launch_spec spec = {.execution_id = "exe-1", .invocation_id = "inv-1"};
  struct mn_worker_ref a, b, c;
  assert_int_equal(mn_provider_launch(h, &spec, &a, &perr), 0);
  assert_int_equal(mn_provider_launch(h, &spec, &b, &perr), 0);
  assert_memory_equal(&a, &b, sizeof a);
  assert_string_equal(a.identifier, "memory-exe-1");
  spec.execution_id = "exe-2";
  assert_int_equal(mn_provider_launch(h, &spec, &c, &perr), 0);
  assert_string_not_equal(a.identifier, c.identifier);

  /* inspect: EXITED with the configured code; unknown refs are MISSING */
  struct mn_worker_ref refs[3] = {a, c, {.identifier = "memory-nope"}};
  struct mn_worker_state states[3];
  assert_int_equal(mn_provider_inspect_many(h, refs, 3, states, &perr), 0);
  assert_int_equal(states[0].phase, MN_WORKER_PHASE_EXITED);
  assert_int_equal(states[0].exit_code, 3);
  assert_int_equal(states[1].phase, MN_WORKER_PHASE_EXITED);
  assert_int_equal(states[2].phase, MN_WORKER_PHASE_MISSING);
  assert_int_equal(mn_provider_terminate(h, &refs[2], 10, &perr), 0); /* gone: success */

  /* logs, paged with the opaque offset: 5 lines, 2 at a time */
  json_t *lines;
  char *next;
  assert_int_equal(mn_provider_logs(h, &a, NULL, 2, &lines, &next, &perr), 0);
  assert_int_equal(json_array_size(lines), 2);
  assert_string_equal(json_string_value(json_array_get(lines, 0)), "memory-exe-1 line 1");
  assert_string_equal(next, "2");
  json_decref(lines);
  char *offset = next;
  assert_int_equal(mn_provider_logs(h, &a, offset, 2, &lines, &next, &perr), 0);
  assert_string_equal(json_string_value(json_array_get(lines, 1)), "memory-exe-1 line 4");
  free(offset);
  json_decref(lines);
  offset = next;
  assert_int_equal(mn_provider_logs(h, &a, offset, 250, &lines, &next, &perr), 0);
  assert_int_equal(json_array_size(lines), 1);
  assert_null(next); /* no more */
  free(offset);
  json_decref(lines);
  assert_int_equal(mn_provider_logs(h, &a, "bogus", 2, &lines, &next, &perr),
                   MN_PROVIDER_E_INVALID);
  assert_null(lines);
  assert_string_equal(perr.msg, "bad log offset \"bogus\"");
  assert_int_equal(perr.code, MN_PROVIDER_E_INVALID);

  /* release keeps the log readable */
  assert_int_equal(mn_provider_release(h, &a, &perr), 0);
  assert_int_equal(mn_provider_logs(h, &a, NULL, 1, &lines, &next, &perr), 0);
  assert_int_equal(json_array_size(lines), 1);
  json_decref(lines);
  free(next);
  unload(&fx);
}

static int count_owned(void *ctx, const struct mn_owned_worker *w) {
  int *n = ctx;
  assert_non_null(w->execution_id);
  assert_true(strncmp(w->ref.identifier, "memory-", 7) == 0);
  (*n)++;
  return 0;
}

struct launcher {
  struct mn_provider_handle *h;
  int seed;
};

static void *launch_many(void *arg) {
  struct launcher *l = arg;
  for (int i = 0; i < 200; i++) {
    char id[32];
    snprintf(id, sizeof id, "exe-%d", (i * 7 + l->seed) % 50);
    struct mn_launch_spec spec = {.execution_id = id};
    struct mn_worker_ref ref;
    struct mn_provider_error perr;
    if (mn_provider_launch(l->h, &spec, &ref, &perr))
      return (void *)1;
  }
  return NULL;
}

/* Concurrent launches of the same execution ids start each worker once. */
static void test_memory_concurrent_idempotent(void **state) {
  (void)state;
  struct fixture fx;
  struct mn_provider_handle *h =
      load_default(&fx, "providers:\n  default: memory\n  memory:\n");
  pthread_t t[4];
  struct launcher l[4];
  for (int i = 0; i < 4; i++) {
    l[i] = (struct launcher){h, i};
    assert_int_equal(pthread_create(&t[i], NULL, launch_many, &l[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    void *res;
    pthread_join(t[i], &res);
    assert_null(res);
  }
  int n = 0;
  struct mn_provider_error perr;
  assert_int_equal(mn_provider_list_owned(h, count_owned, &n, &perr), 0);
  assert_int_equal(n, 50);
  unload(&fx);
}

static void test_api_logs(void **state) {
  (void)state;
  struct fixture fx;
  struct mn_provider_handle *h =
      load_default(&fx, "providers:\n  default: memory\n  memory: {log_lines: 3}\n");
  struct mn_launch_spec spec = {.execution_id = "exe-9"};
  struct mn_worker_ref ref;
  struct mn_provider_error perr;
  assert_int_equal(mn_provider_launch(h, &spec, &ref, &perr), 0);

  struct mn_execution ex = {.execution_id = "exe-9"};
  struct mn_invocation inv = {.invocation_id = "inv-1", .executions = &ex, .n_executions = 1};
  json_t *lines = NULL;
  char *next = NULL;
  struct mn_error err = {0};

  /* no worker yet: an empty page */
  assert_int_equal(mn_plugins_api_logs(fx.plugins, &inv, NULL, 250, &lines, &next, &err), 0);
  assert_int_equal(json_array_size(lines), 0);
  assert_null(next);
  json_decref(lines);

  ex.worker_details = mn_worker_details_new("memory", &ref);
  assert_int_equal(mn_plugins_api_logs(fx.plugins, &inv, NULL, 2, &lines, &next, &err), 0);
  assert_int_equal(json_array_size(lines), 2);
  assert_string_equal(json_string_value(json_array_get(lines, 1)), "memory-exe-9 line 2");
  assert_string_equal(next, "2");
  json_decref(lines);
  free(next);

  assert_int_equal(mn_plugins_api_logs(fx.plugins, &inv, "x", 2, &lines, &next, &err),
                   MN_EOFFSET_INVALID);
  assert_null(lines);

  /* a provider that is no longer configured: empty, not an error */
  json_object_set_new(ex.worker_details, "type", json_string("gone"));
  assert_int_equal(mn_plugins_api_logs(fx.plugins, &inv, NULL, 2, &lines, &next, &err), 0);
  assert_int_equal(json_array_size(lines), 0);
  json_decref(lines);

  /* a log the provider does not have: empty */
  json_object_set_new(ex.worker_details, "type", json_string("memory"));
  json_object_set_new(ex.worker_details, "identifier", json_string("memory-unknown"));
  assert_int_equal(mn_plugins_api_logs(fx.plugins, &inv, NULL, 2, &lines, &next, &err), 0);
  assert_int_equal(json_array_size(lines), 0);
  json_decref(lines);

  /* worker_details round trip */
  const char *type;
  struct mn_worker_ref back;
  json_t *wd = mn_worker_details_new("memory", &ref);
  assert_int_equal(mn_worker_details_parse(wd, &type, &back), 0);
  assert_string_equal(type, "memory");
  assert_memory_equal(&back, &ref, sizeof ref);
  json_decref(wd);
  wd = json_pack("{s:s}", "type", "x");
  assert_int_equal(mn_worker_details_parse(wd, &type, &back), MN_EINVAL);
  json_decref(wd);

  json_decref(ex.worker_details);
  unload(&fx);
}

static void test_wrong_abi(void **state) {
  (void)state;
  char yaml[600];
  snprintf(yaml, sizeof yaml, "providers:\n  default: w\n  w: {plugin: %s/mn_provider_wrongabi.so}\n",
           test_plugins);
  expect_load_error(yaml,
                    "provider \"w\": \"%s/mn_provider_wrongabi.so\" was built for provider ABI "
                    "2.0, but this daemon implements ABI 1.2",
                    test_plugins);
}

static void test_no_symbol(void **state) {
  (void)state;
  char yaml[600];
  snprintf(yaml, sizeof yaml, "providers:\n  default: n\n  n: {plugin: %s/mn_provider_nosymbol.so}\n",
           test_plugins);
  expect_load_error(yaml, "provider \"n\": \"%s/mn_provider_nosymbol.so\" does not export "
                          "mn_provider_entry", test_plugins);
}

static void test_struct_too_small(void **state) {
  (void)state;
  char yaml[600];
  snprintf(yaml, sizeof yaml, "providers:\n  default: s\n  s: {plugin: %s/mn_provider_small.so}\n",
           test_plugins);
  expect_load_error(yaml,
                    "provider \"s\": \"%s/mn_provider_small.so\" declares struct_size %zu, less "
                    "than the %zu bytes of the mandatory fields of ABI 1.2",
                    test_plugins, offsetof(struct mn_provider, launch),
                    (size_t)MN_PROVIDER_MIN_STRUCT_SIZE);
}

static void test_missing_mandatory_and_caps(void **state) {
  (void)state;
  char yaml[600];
  snprintf(yaml, sizeof yaml, "providers:\n  default: n\n  n: {plugin: %s/mn_provider_nolaunch.so}\n",
           test_plugins);
  expect_load_error(yaml, "provider \"n\": \"%s/mn_provider_nolaunch.so\" lacks the mandatory "
                          "operation launch", test_plugins);
  snprintf(yaml, sizeof yaml, "providers:\n  default: b\n  b: {plugin: %s/mn_provider_badcaps.so}\n",
           test_plugins);
  expect_load_error(yaml, "provider \"b\": \"%s/mn_provider_badcaps.so\" declares the logs "
                          "capability but has no logs operation", test_plugins);
}

static void test_missing_file(void **state) {
  (void)state;
  struct fixture fx;
  load(&fx, "providers:\n  default: x\n  x: {plugin: /nonexistent/mn_provider_x.so}\n");
  assert_int_equal(fx.rc, MN_ECONFIG);
  assert_null(fx.plugins);
  const char *want = "provider \"x\": cannot load \"/nonexistent/mn_provider_x.so\": ";
  assert_memory_equal(fx.err.msg, want, strlen(want));
  assert_non_null(strstr(fx.err.msg, "No such file or directory"));
  unload(&fx);

  /* not found anywhere on the search path */
  const char *build_dir, *install_dir;
  mn_plugins_default_dirs(&build_dir, &install_dir);
  setenv("MULTINODE_PLUGIN_PATH", "/nonexistent/a::/nonexistent/b", 1);
  expect_load_error("providers:\n  default: nosuch\n  nosuch: {}\n",
                    "provider \"nosuch\": cannot find mn_provider_nosuch.so (searched: "
                    "/nonexistent/a, /nonexistent/b, %s, %s); set providers.nosuch.plugin or "
                    "MULTINODE_PLUGIN_PATH",
                    build_dir, install_dir);
  unsetenv("MULTINODE_PLUGIN_PATH");
}

/* A plugin built against an older, smaller struct: the newer operations
 * read as NULL and their wrappers say "not supported". */
static void test_old_minor(void **state) {
  (void)state;
  struct fixture fx;
  setenv("MULTINODE_PLUGIN_PATH", test_plugins, 1);
  load(&fx, "providers:\n  default: oldminor\n  oldminor:\n");
  unsetenv("MULTINODE_PLUGIN_PATH");
  if (fx.rc)
    fail_msg("%s", fx.err.msg);
  struct mn_provider_handle *h = mn_plugins_find(fx.plugins, NULL);
  assert_null(h->ops.list_owned); /* present in the plugin's memory, past its struct_size */
  assert_null(h->ops.logs);

  struct mn_provider_error perr;
  json_t *lines = (json_t *)1;
  char *next = (char *)1;
  struct mn_worker_ref ref = {.identifier = "w"};
  assert_int_equal(mn_provider_logs(h, &ref, NULL, 10, &lines, &next, &perr),
                   MN_PROVIDER_E_UNSUPPORTED);
  assert_string_equal(perr.msg, "provider \"oldminor\" does not support logs");
  assert_null(lines);
  assert_null(next);
  int n = 0;
  assert_int_equal(mn_provider_list_owned(h, count_owned, &n, &perr), MN_PROVIDER_E_UNSUPPORTED);
  assert_string_equal(perr.msg, "provider \"oldminor\" does not support list_owned");
  assert_int_equal(mn_provider_release(h, &ref, &perr), 0); /* optional, absent: no-op */
  struct mn_registry_credentials rc_out;
  assert_int_equal(mn_provider_registry_credentials(h, &rc_out, &perr),
                   MN_PROVIDER_E_UNSUPPORTED); /* a 1.0 plugin lacks the 1.1 operation */
  json_t *creds = NULL;
  struct mn_error e = {0};
  assert_int_equal(mn_plugins_api_credentials(fx.plugins, &creds, &e), 0);
  assert_string_equal(json_string_value(json_object_get(creds, "repository_name")),
                      "multinode-local");
  assert_string_equal(json_string_value(json_object_get(creds, "password")), "");
  json_decref(creds);
  struct mn_prepared prepared;
  struct mn_function_desc fn = {0};
  assert_int_equal(mn_provider_prepare(h, &fn, &prepared, &perr), 0);
  assert_string_equal(prepared.details_json, "");

  /* no batch capability: the host calls inspect_many one ref at a time */
  struct mn_worker_ref refs[3] = {{.identifier = "a"}, {.identifier = "x1"}, {.identifier = "b"}};
  struct mn_worker_state states[3];
  assert_int_equal(mn_provider_inspect_many(h, refs, 3, states, &perr), 0);
  assert_int_equal(states[0].phase, MN_WORKER_PHASE_RUNNING);
  assert_int_equal(states[1].phase, MN_WORKER_PHASE_MISSING);
  assert_int_equal(states[2].phase, MN_WORKER_PHASE_RUNNING);

  /* the api logs bridge turns "not supported" into an empty page */
  struct mn_execution ex = {.execution_id = "e", .worker_details = mn_worker_details_new("oldminor", &ref)};
  struct mn_invocation inv = {.executions = &ex, .n_executions = 1};
  struct mn_error err;
  assert_int_equal(mn_plugins_api_logs(fx.plugins, &inv, NULL, 5, &lines, &next, &err), 0);
  assert_int_equal(json_array_size(lines), 0);
  json_decref(lines);
  json_decref(ex.worker_details);
  unload(&fx);
}

static void test_init_fails(void **state) {
  (void)state;
  char yaml[800];
  const char *fmt = "providers:\n  default: initfail\n  initfail:\n    plugin: %s/mn_provider_initfail.so\n%s";
  /* a wrong type, reported by the plugin through the host's accessor */
  snprintf(yaml, sizeof yaml, fmt, test_plugins, "    size: big\n");
  expect_load_error(yaml, "%s:7:11: providers.initfail.size: expected an integer", yaml_path);
  /* out of range */
  snprintf(yaml, sizeof yaml, fmt, test_plugins, "    size: 11\n");
  expect_load_error(yaml, "%s:7:11: providers.initfail.size: must be between 1 and 10", yaml_path);
  /* missing: points at the section */
  snprintf(yaml, sizeof yaml, fmt, test_plugins, "");
  expect_load_error(yaml, "%s:6:5: providers.initfail.size: missing", yaml_path);
  /* every unknown key at once */
  snprintf(yaml, sizeof yaml, fmt, test_plugins, "    colour: red\n    size: 2\n    smell: bad\n");
  expect_load_error(yaml,
                    "%s:7:5: providers.initfail.colour: unknown key\n"
                    "%s:9:5: providers.initfail.smell: unknown key",
                    yaml_path, yaml_path);
  /* api_url, the daemon's key of every section: checked by the daemon */
  snprintf(yaml, sizeof yaml, fmt, test_plugins, "    size: 2\n    api_url: ftp://x\n");
  expect_load_error(yaml, "%s:8:14: providers.initfail.api_url: \"ftp://x\" is not an http(s) URL",
                    yaml_path);
  /* a failure that is not about config: names the provider and the path */
  snprintf(yaml, sizeof yaml, fmt, test_plugins, "    size: 2\n    fail_message: backend down\n");
  expect_load_error(yaml, "provider \"initfail\" (%s/mn_provider_initfail.so): init failed: "
                          "backend down", test_plugins);
}

/* A failure after good providers were loaded unloads them (valgrind checks
 * nothing leaks), and the host table a provider gets is complete. */
static void test_host_table_and_partial_failure(void **state) {
  (void)state;
  struct fixture fx;
  setenv("MULTINODE_PLUGIN_PATH", test_plugins, 1);
  expect_load_error("providers:\n  default: probe\n  probe: {}\n  template: {}\n  wrongabi: {}\n",
                    "provider \"wrongabi\": \"%s/mn_provider_wrongabi.so\" was built for provider "
                    "ABI 2.0, but this daemon implements ABI 1.2", test_plugins);

  load(&fx, "providers:\n  default: probe\n  probe: {}\n");
  unsetenv("MULTINODE_PLUGIN_PATH");
  if (fx.rc)
    fail_msg("%s", fx.err.msg);
  struct mn_provider_handle *h = mn_plugins_find(fx.plugins, "probe");
  json_t *lines;
  char *next;
  struct mn_provider_error perr;
  struct mn_worker_ref ref = {.identifier = "any"};
  assert_int_equal(mn_provider_logs(h, &ref, NULL, 100, &lines, &next, &perr), 0);
  char want_dir[600];
  snprintf(want_dir, sizeof want_dir, "data_dir=%s", data_dir);
  const char *want[] = {"provider_name=probe", "public_url=http://127.0.0.1:5999",
                        /* the daemon's key never reaches a provider (ABI 1.2) */
                        "api_key=", want_dir, "cluster_id=cluster-7",
                        "abi=1.2 struct_size_ok=1", "now_positive=1",
                        "bad \xef\xbf\xbd byte"};
  assert_int_equal(json_array_size(lines), 8);
  for (size_t i = 0; i < 8; i++)
    assert_string_equal(json_string_value(json_array_get(lines, i)), want[i]);
  json_decref(lines);
  assert_null(next);
  assert_int_equal(access(data_dir, W_OK), 0); /* created */

  /* a page never holds more than max_lines */
  assert_int_equal(mn_provider_logs(h, &ref, NULL, 3, &lines, &next, &perr), 0);
  assert_int_equal(json_array_size(lines), 3);
  json_decref(lines);

  /* misbehaving operations are normalized by the wrapper */
  struct mn_launch_spec spec = {.execution_id = "weird"};
  assert_int_equal(mn_provider_launch(h, &spec, &ref, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "provider \"probe\": launch returned unknown code 7: weird");
  spec.execution_id = "empty";
  assert_int_equal(mn_provider_launch(h, &spec, &ref, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "provider \"probe\": launch returned no worker identifier");
  spec.execution_id = "fine";
  assert_int_equal(mn_provider_launch(h, &spec, &ref, NULL), 0); /* err may be NULL */
  assert_string_equal(ref.identifier, "stub-fine");
  unload(&fx);
}

/* The launch spec built from the model: argv, env (+ MULTINODE_*), sizes,
 * credentials from the host table, prepared details. */
static void test_launch_spec_from_model(void **state) {
  (void)state;
  struct fixture fx;
  struct mn_provider_handle *h =
      load_default(&fx, "providers:\n  default: memory\n  memory:\n");
  struct mn_invocation inv = {.invocation_id = "inv-1"};
  inv.function.project_name = "proj";
  inv.function.version_id = "ver-1";
  inv.function.function_name = "fn";
  inv.function.docker_image = "alpine:3";
  inv.function.resource_spec.virtual_cpus = 0.5;
  inv.function.resource_spec.memory_gbs = 2;
  inv.function.execution_spec.timeout_seconds = 60;
  inv.function.command = json_pack("[s,s,s]", "sh", "-c", "echo hi");
  inv.function.env = json_pack("{s:s,s:s}", "A", "1", "MULTINODE_API_URL", "http://evil");
  inv.function.prepared_function_details = json_pack("{s:s}", "arn", "x");

  struct mn_launch_buf buf;
  struct mn_error err;
  assert_int_equal(mn_launch_spec_build(&buf, h, &inv, "exe-5", "mnx_execution-key", &err), 0);
  const struct mn_launch_spec *s = &buf.spec;
  assert_string_equal(s->project_name, "proj");
  assert_string_equal(s->execution_id, "exe-5");
  assert_string_equal(s->invocation_id, "inv-1");
  assert_string_equal(s->image, "alpine:3");
  assert_int_equal(s->n_command, 3);
  assert_string_equal(s->command[2], "echo hi");
  assert_true(s->vcpus == 0.5 && s->memory_gb == 2.0);
  assert_int_equal(s->timeout_seconds, 60);
  assert_string_equal(s->api_url, "http://127.0.0.1:5999");
  /* the execution's own key, never the daemon's, marked as the secret */
  assert_string_equal(s->api_key, "mnx_execution-key");
  assert_string_equal(s->secret_env_name, "MULTINODE_API_KEY");
  assert_string_equal(s->prepared_details_json, "{\"arn\":\"x\"}");
  static const char *const want[][2] = {
      {"A", "1"}, {"MULTINODE_API_URL", "http://127.0.0.1:5999"},
      {"MULTINODE_API_KEY", "mnx_execution-key"}, {"MULTINODE_PROJECT_NAME", "proj"},
      {"MULTINODE_VERSION_ID", "ver-1"}, {"MULTINODE_FUNCTION_NAME", "fn"},
      {"MULTINODE_INVOCATION_ID", "inv-1"}, {"MULTINODE_EXECUTION_ID", "exe-5"}};
  assert_int_equal(s->n_env, 8);
  for (size_t i = 0; i < 8; i++) {
    assert_string_equal(s->env[i].key, want[i][0]);
    assert_string_equal(s->env[i].value, want[i][1]);
  }
  struct mn_worker_ref ref;
  struct mn_provider_error perr;
  assert_int_equal(mn_provider_launch(h, s, &ref, &perr), 0);
  assert_string_equal(ref.identifier, "memory-exe-5");
  mn_launch_buf_release(&buf);

  struct mn_function_desc_buf fbuf;
  assert_int_equal(mn_function_desc_build(&fbuf, h, &inv.function, &err), 0);
  assert_int_equal(fbuf.desc.n_env, 2);
  assert_int_equal(fbuf.desc.n_command, 3);
  /* what every execution shares: no key, no invocation or execution */
  static const char *const shared[][2] = {
      {"A", "1"}, {"MULTINODE_API_URL", "http://127.0.0.1:5999"},
      {"MULTINODE_PROJECT_NAME", "proj"}, {"MULTINODE_VERSION_ID", "ver-1"},
      {"MULTINODE_FUNCTION_NAME", "fn"}};
  assert_int_equal(fbuf.desc.n_worker_env, 5);
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(fbuf.desc.worker_env[i].key, shared[i][0]);
    assert_string_equal(fbuf.desc.worker_env[i].value, shared[i][1]);
  }
  mn_function_desc_buf_release(&fbuf);

  /* a command that is not a list of strings */
  json_decref(inv.function.command);
  inv.function.command = json_pack("[s,i]", "sh", 3);
  assert_int_equal(mn_launch_spec_build(&buf, h, &inv, "exe-6", "mnx_k", &err), MN_EINVAL);
  assert_string_equal(err.msg, "the function's command holds a non-string");

  /* the section's api_url: the URL this provider's workers call */
  unload(&fx);
  h = load_default(&fx, "providers:\n  default: memory\n  memory:\n"
                        "    api_url: http://10.0.0.9:5000\n");
  json_decref(inv.function.command);
  inv.function.command = NULL;
  assert_int_equal(mn_launch_spec_build(&buf, h, &inv, "exe-7", "mnx_k", &err), 0);
  assert_string_equal(buf.spec.api_url, "http://10.0.0.9:5000");
  assert_string_equal(buf.spec.env[1].key, "MULTINODE_API_URL");
  assert_string_equal(buf.spec.env[1].value, "http://10.0.0.9:5000");
  mn_launch_buf_release(&buf);
  assert_int_equal(mn_function_desc_build(&fbuf, h, &inv.function, &err), 0);
  assert_string_equal(fbuf.desc.worker_env[1].value, "http://10.0.0.9:5000");
  mn_function_desc_buf_release(&fbuf);

  json_decref(inv.function.env);
  json_decref(inv.function.prepared_function_details);
  unload(&fx);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(void) {
  test_plugins = getenv("MN_TEST_PLUGIN_DIR");
  if (!test_plugins) {
    fprintf(stderr, "set MN_TEST_PLUGIN_DIR (ctest does)\n");
    return 1;
  }
  snprintf(tmpdir, sizeof tmpdir, "/tmp/mn-test-plugin-host-XXXXXX");
  if (!mkdtemp(tmpdir))
    return 1;
  snprintf(yaml_path, sizeof yaml_path, "%s/multinode.yaml", tmpdir);
  snprintf(data_dir, sizeof data_dir, "%s/data/nested", tmpdir);

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_template_by_search),
      cmocka_unit_test(test_memory_concurrent_idempotent),
      cmocka_unit_test(test_api_logs),
      cmocka_unit_test(test_wrong_abi),
      cmocka_unit_test(test_no_symbol),
      cmocka_unit_test(test_struct_too_small),
      cmocka_unit_test(test_missing_mandatory_and_caps),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_old_minor),
      cmocka_unit_test(test_init_fails),
      cmocka_unit_test(test_host_table_and_partial_failure),
      cmocka_unit_test(test_launch_spec_from_model),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return failed;
}
