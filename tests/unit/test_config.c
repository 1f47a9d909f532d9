/* The YAML configuration: table-driven over tests/data/config/.
 *
 *   bad_<case>.yaml   must fail; bad_<case>.expected holds the exact error
 *                     lines (every problem, "FILE:LINE:COL: key.path: problem")
 *   good_<case>.yaml  must load; good_<case>.expected holds the resulting
 *                     struct mn_config, one "key=value" per line (see dump())
 *
 * The files are loaded by their bare name from inside the data folder, so
 * FILE in the messages is exactly the file name. The host table's config
 * accessors (what plugins use on their own section) are tested here too. */
#include <dirent.h>
#include <limits.h>
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
#include "config/config_schema.h"
#include "multinode/common/yaml_tree.h"
#include "plugin/handle.h"

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    fwrite(chunk, 1, n, mem);
  fclose(f);
  fclose(mem);
  while (len && buf[len - 1] == '\n')
    buf[--len] = '\0';
  return buf;
}

static char *dump(const struct mn_config *c) {
  static const char *const levels[] = {"error", "warn", "info", "debug"};
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  fprintf(m, "server.listen_host=%s\n", c->server.listen_host);
  fprintf(m, "server.listen_port=%d\n", c->server.listen_port);
  fprintf(m, "server.api_key=%s\n", c->server.api_key);
  fprintf(m, "server.public_url=%s\n", c->server.public_url);
  fprintf(m, "server.threads=%d\n", c->server.threads);
  fprintf(m, "store.dsn=%s\n", c->store.dsn);
  fprintf(m, "store.pool_size=%d\n", c->store.pool_size);
  /* a relative data_dir is made absolute from the config file's folder:
   * the working directory here, shown as <config folder> */
  char cwd[PATH_MAX];
  size_t cl = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
  if (cl && strncmp(c->data_dir, cwd, cl) == 0 && c->data_dir[cl] == '/')
    fprintf(m, "data_dir=<config folder>%s\n", c->data_dir + cl);
  else
    fprintf(m, "data_dir=%s\n", c->data_dir);
  fprintf(m, "log_level=%s\n", levels[c->log_level]);
  fprintf(m, "scheduler.termination_grace_seconds=%lld\n",
          (long long)c->scheduler.termination_grace_seconds);
  fprintf(m, "scheduler.provision_timeout_seconds=%lld\n",
          (long long)c->scheduler.provision_timeout_seconds);
  fprintf(m, "scheduler.retention_seconds=%lld\n", (long long)c->scheduler.retention_seconds);
  fprintf(m, "providers.default=%s\n", c->providers.default_provider);
  for (size_t i = 0; i < c->providers.n_items; i++) {
    const struct mn_provider_section *s = &c->providers.items[i];
    fprintf(m, "providers.%s.plugin=%s\n", s->name, s->plugin_path ? s->plugin_path : "(search)");
    if (s->node)
      fprintf(m, "providers.%s.node=%d:%d\n", s->name, s->node->line, s->node->col);
  }
  fclose(m);
  while (len && buf[len - 1] == '\n')
    buf[--len] = '\0';
  return buf;
}

/* One data file; the state is its name. */
static void run_case(void **state) {
  const char *yaml = *state;
  char expected_path[512];
  snprintf(expected_path, sizeof expected_path, "%.*s.expected", (int)(strlen(yaml) - 5), yaml);
  char *expected = read_text(expected_path);
  if (!expected)
    fail_msg("%s: missing %s", yaml, expected_path);

  struct mn_config cfg;
  struct mn_error err = {0};
  char *report = NULL;
  int rc = mn_config_load_report(yaml, &cfg, &report, &err);
  char *actual = NULL;
  if (strncmp(yaml, "bad_", 4) == 0) {
    if (rc == 0) {
      actual = dump(&cfg);
      mn_config_release(&cfg);
      fail_msg("%s loaded, but should fail with:\n%s\n(got)\n%s", yaml, expected, actual);
    }
    assert_int_equal(rc, MN_ECONFIG);
    assert_int_equal(err.code, MN_ECONFIG);
    assert_non_null(report);
    actual = report;
    /* *out is zeroed on failure */
    assert_null(cfg.file);
    assert_null(cfg.tree);
    assert_int_equal(cfg.providers.n_items, 0);
  } else {
    if (rc != 0)
      fail_msg("%s failed: %s", yaml, report ? report : err.msg);
    assert_null(report);
    actual = dump(&cfg);
    mn_config_release(&cfg);
  }
  if (getenv("MN_TEST_WRITE_EXPECTED")) { /* regenerate the golden files (review the diff!) */
    FILE *f = fopen(expected_path, "w");
    fprintf(f, "%s\n", actual);
    fclose(f);
  } else if (strcmp(actual, expected) != 0)
    fail_msg("%s:\n--- expected\n%s\n--- actual\n%s", yaml, expected, actual);
  /* the short form in err.msg is the same text when it fits */
  if (rc && strlen(expected) < sizeof err.msg)
    assert_string_equal(err.msg, expected);
  free(actual);
  free(expected);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_defaults(void **state) {
  (void)state;
  struct mn_config cfg;
  struct mn_error err = {0};
  assert_int_equal(mn_config_load("good_minimal.yaml", &cfg, &err), 0);
  assert_string_equal(cfg.file, "good_minimal.yaml");
  assert_string_equal(cfg.server.listen_host, "127.0.0.1");
  assert_int_equal(cfg.server.listen_port, 5000);
  assert_string_equal(cfg.server.api_key, "secret");
  assert_string_equal(cfg.server.public_url, "http://127.0.0.1:5000");
  assert_int_equal(cfg.server.threads, 4);
  assert_string_equal(cfg.store.dsn, "");
  assert_int_equal(cfg.store.pool_size, 8);
  char want[PATH_MAX + 16];
  assert_non_null(getcwd(want, PATH_MAX));
  strcat(want, "/.multinode");
  assert_string_equal(cfg.data_dir, want);
  assert_int_equal(cfg.log_level, MN_LOG_INFO);
  assert_int_equal(cfg.scheduler.termination_grace_seconds, 120);
  assert_int_equal(cfg.scheduler.provision_timeout_seconds, 300);
  assert_int_equal(cfg.scheduler.retention_seconds, 7 * 86400);
  assert_string_equal(cfg.providers.default_provider, "local");
  assert_int_equal(cfg.providers.n_items, 1);
  assert_string_equal(cfg.providers.items[0].name, "local");
  assert_null(cfg.providers.items[0].node);
  assert_null(cfg.providers.items[0].plugin_path);
  assert_ptr_equal(mn_config_provider(&cfg, NULL), &cfg.providers.items[0]);
  assert_null(mn_config_provider(&cfg, "docker"));
  mn_config_release(&cfg);
  mn_config_release(&cfg); /* idempotent */
}

static void test_plugin_sections(void **state) {
  (void)state;
  struct mn_config cfg;
  struct mn_error err = {0};
  assert_int_equal(mn_config_load("good_full.yaml", &cfg, &err), 0);
  const struct mn_provider_section *ecs = mn_config_provider(&cfg, "ecs");
  assert_non_null(ecs);
  /* the plugin's own keys are kept for it, with positions */
  const struct mn_cfg_node *subnets = mn_cfg_node_get(ecs->node, "subnets");
  assert_non_null(subnets);
  assert_int_equal(subnets->kind, MN_CFG_SEQUENCE);
  assert_int_equal(subnets->n_items, 2);
  assert_string_equal(subnets->strings[1], "subnet-2");
  assert_string_equal(subnets->items[1]->path, "providers.ecs.subnets[1]");
  assert_int_equal(subnets->items[1]->line, 25);
  assert_int_equal(subnets->items[1]->col, 25);
  const struct mn_cfg_node *deep =
      mn_cfg_node_find(cfg.tree->root, "providers.k8s.nested.anything");
  assert_non_null(deep);
  assert_null(deep->strings); /* not all scalars */
  assert_string_equal(deep->items[2]->pairs[0].value->path,
                      "providers.k8s.nested.anything[2].deep");
  assert_ptr_equal(mn_config_provider(&cfg, NULL), mn_config_provider(&cfg, "docker"));
  mn_config_release(&cfg);
}

/* More errors than fit in err.msg: whole lines, then a count of the rest;
 * the report has them all. */
static void test_many_errors(void **state) {
  (void)state;
  char path[] = "/tmp/mn-test-config-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "server:\n  api_key: k\n");
  for (int i = 0; i < 30; i++)
    fprintf(f, "unknown_key_number_%02d: %d\n", i, i);
  fclose(f);

  struct mn_config cfg;
  struct mn_error err = {0};
  char *report = NULL;
  int rc = mn_config_load_report(path, &cfg, &report, &err);
  struct mn_error err2 = {0};
  int rc2 = mn_config_load(path, &cfg, &err2);
  unlink(path);
  assert_int_equal(rc, MN_ECONFIG);
  assert_int_equal(rc2, MN_ECONFIG);
  assert_string_equal(err2.msg, err.msg);
  int lines = 1;
  for (const char *p = report; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, 30);
  char want[600];
  snprintf(want, sizeof want, "%s:3:1: unknown_key_number_00: unknown key\n%s:4:1: "
           "unknown_key_number_01: unknown key", path, path);
  assert_memory_equal(err.msg, want, strlen(want));
  const char *last = strrchr(err.msg, '\n');
  assert_non_null(last);
  int shown = 1, more = 0; /* error lines before the "(and N more errors)" line */
  for (const char *p = err.msg; p < last; p++)
    shown += *p == '\n';
  assert_true(shown >= 2);
  assert_int_equal(sscanf(last + 1, "(and %d more errors)", &more), 1);
  assert_int_equal(shown + more, 30);
  assert_memory_equal(report, err.msg, (size_t)(last - err.msg)); /* same lines, in order */
  free(report);
}

static void test_missing_file(void **state) {
  (void)state;
  struct mn_config cfg;
  struct mn_error err = {0};
  assert_int_equal(mn_config_load("no_such_file.yaml", &cfg, &err), MN_EIO);
  assert_string_equal(err.msg, "no_such_file.yaml: cannot open: No such file or directory");
  mn_config_release(&cfg);
}

static void test_tree_from_string(void **state) {
  (void)state;
  static const char text[] = "a:\n  b: [x, 'y', \"\"]\n  c: ~\n  d: \"~\"\n  n: -12\n  t: Yes\n";
  struct mn_cfg_tree *tree = NULL;
  struct mn_error err = {0};
  assert_int_equal(mn_cfg_tree_load_string("inline", text, sizeof text - 1, &tree, &err), 0);
  const struct mn_cfg_node *b = mn_cfg_node_find(tree->root, "a.b");
  assert_non_null(b);
  assert_string_equal(b->file, "inline");
  assert_int_equal(b->line, 2);
  assert_int_equal(b->col, 6);
  assert_string_equal(b->strings[2], "");
  assert_true(mn_cfg_node_is_null(mn_cfg_node_find(tree->root, "a.c")));
  assert_false(mn_cfg_node_is_null(mn_cfg_node_find(tree->root, "a.d"))); /* quoted */
  assert_false(mn_cfg_node_is_null(b->items[2]));                          /* quoted "" */
  long long n = 0;
  assert_int_equal(mn_cfg_scalar_int(mn_cfg_node_find(tree->root, "a.n"), &n), 0);
  assert_int_equal(n, -12);
  assert_int_equal(mn_cfg_scalar_int(b, &n), MN_EINVAL);
  int t = 0;
  assert_int_equal(mn_cfg_scalar_bool(mn_cfg_node_find(tree->root, "a.t"), &t), 0);
  assert_int_equal(t, 1);
  assert_null(mn_cfg_node_find(tree->root, "a.b.c"));
  assert_null(mn_cfg_node_find(tree->root, "z"));
  assert_int_equal(mn_cfg_node_pair(tree->root, "a")->key->col, 1);
  mn_cfg_tree_free(tree);

  /* depth limit */
  char deep[400] = "";
  for (int i = 0; i < MN_CFG_MAX_DEPTH + 2; i++)
    strcat(deep, "[");
  assert_int_equal(mn_cfg_tree_load_string("deep", deep, strlen(deep), &tree, &err),
                   MN_ECONFIG);
  assert_non_null(strstr(err.msg, "nesting deeper than 64 levels"));

  /* a second document */
  static const char two[] = "a: 1\n---\nb: 2\n";
  assert_int_equal(mn_cfg_tree_load_string("two", two, sizeof two - 1, &tree, &err), MN_ECONFIG);
  assert_string_equal(err.msg, "two:2:1: only one YAML document is allowed");
}

/* The config accessors of the host table, directly on a parsed tree. */
static void test_config_accessors(void **state) {
  (void)state;
  static const char text[] = "providers:\n  x:\n    s: hello\n    n: 42\n    b: off\n"
                             "    d: 2m\n    l: [a, b]\n    m: {k: v}\n    nul:\n";
  struct mn_cfg_tree *tree;
  struct mn_error err;
  struct mn_provider_error perr;
  assert_int_equal(mn_cfg_tree_load_string("t.yaml", text, sizeof text - 1, &tree, &err), 0);
  const struct mn_cfg_node *x = mn_cfg_node_find(tree->root, "providers.x");
  const char *s = "default";
  int64_t n = -1, d = -1;
  int b = -1;
  const char *const *items;
  size_t n_items;

  assert_int_equal(mn_host_config_string(x, "s", 1, &s, &perr), 0);
  assert_string_equal(s, "hello");
  assert_int_equal(mn_host_config_string(x, "m.k", 1, &s, &perr), 0); /* dotted */
  assert_string_equal(s, "v");
  assert_int_equal(mn_host_config_string(x, "m", 1, &s, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:8:8: providers.x.m: expected a string");
  s = "default";
  assert_int_equal(mn_host_config_string(x, "absent", 0, &s, &perr), 0);
  assert_string_equal(s, "default"); /* untouched */
  assert_int_equal(mn_host_config_string(x, "nul", 0, &s, &perr), 0); /* null = absent */
  assert_string_equal(s, "default");
  assert_int_equal(mn_host_config_string(x, "absent", 1, &s, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:3:5: providers.x.absent: missing");

  assert_int_equal(mn_host_config_int(x, "n", 1, 0, 100, &n, &perr), 0);
  assert_int_equal(n, 42);
  assert_int_equal(mn_host_config_int(x, "n", 1, 0, 10, &n, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:4:8: providers.x.n: must be between 0 and 10");
  assert_int_equal(mn_host_config_int(x, "s", 1, 0, 10, &n, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:3:8: providers.x.s: expected an integer");

  assert_int_equal(mn_host_config_bool(x, "b", 1, &b, &perr), 0);
  assert_int_equal(b, 0);
  assert_int_equal(mn_host_config_bool(x, "n", 1, &b, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:4:8: providers.x.n: expected true or false");

  assert_int_equal(mn_host_config_duration(x, "d", 1, &d, &perr), 0);
  assert_int_equal(d, 120);
  assert_int_equal(mn_host_config_duration(x, "n", 1, &d, &perr), 0);
  assert_int_equal(d, 42);
  assert_int_equal(mn_host_config_duration(x, "s", 1, &d, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg,
                      "t.yaml:3:8: providers.x.s: expected a duration such as 90s, 5m or 1h");

  assert_int_equal(mn_host_config_strings(x, "l", 1, &items, &n_items, &perr), 0);
  assert_int_equal(n_items, 2);
  assert_string_equal(items[1], "b");
  assert_int_equal(mn_host_config_strings(x, "s", 1, &items, &n_items, &perr),
                   MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:3:8: providers.x.s: expected a list of strings");

  assert_true(mn_host_config_has(x, "l"));
  assert_false(mn_host_config_has(x, "nul"));
  assert_false(mn_host_config_has(x, "zzz"));

  assert_int_equal(mn_host_config_error(x, "s", &perr, "\"%s\" is not a directory", "hello"),
                   MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:3:8: providers.x.s: \"hello\" is not a directory");
  assert_int_equal(perr.code, MN_PROVIDER_E_INVALID);
  mn_host_config_error(x, "nope", &perr, "required with s");
  assert_string_equal(perr.msg, "t.yaml:3:5: providers.x.nope: required with s");

  static const char *const known[] = {"s", "n", "b", "d", "l", "m"};
  assert_int_equal(mn_host_config_check_keys(x, known, 6, &perr), MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:9:5: providers.x.nul: unknown key");
  static const char *const all[] = {"s", "n", "b", "d", "l", "m", "nul"};
  assert_int_equal(mn_host_config_check_keys(x, all, 7, &perr), 0);
  mn_cfg_tree_free(tree);
}

/* A provider's `<key>_env: VAR` is `<key>: $VAR` for its plugin, placed at
 * the `_env` value (config_env.c). */
static void test_provider_env(void **state) {
  (void)state;
  struct mn_config cfg;
  struct mn_error err = {0};
  assert_int_equal(mn_config_load("good_env_every_key.yaml", &cfg, &err), 0);
  const struct mn_provider_section *docker = mn_config_provider(&cfg, "docker");
  assert_non_null(docker);
  const struct mn_cfg_node *socket = mn_cfg_node_get(docker->node, "socket");
  assert_non_null(socket);
  assert_string_equal(socket->value, "/run/test-docker.sock");
  assert_false(mn_cfg_node_is_null(socket));
  assert_int_equal(socket->line, 13);
  assert_null(mn_cfg_node_get(docker->node, "socket_env"));
  assert_string_equal(mn_cfg_node_get(docker->node, "pull")->value, "false");
  mn_config_release(&cfg);
}

static void test_reference(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  mn_config_print_reference(m);
  fclose(m);
  assert_non_null(strstr(buf, "| Key | Type | Default | Description |\n"));
  assert_non_null(strstr(buf, "| `server.listen` | host:port | `127.0.0.1:5000` |"));
  assert_non_null(strstr(buf, "| `server.api_key_env` | string | - |"));
  assert_non_null(strstr(buf, "| `store.postgres.pool_size` | integer | `8` |"));
  assert_non_null(strstr(buf, "| `scheduler.retention` | duration | `7d` |"));
  assert_non_null(strstr(buf, "| `providers.<name>.plugin` | string | - |"));
  /* every key of every table is there */
  for (const struct mn_cfg_key *k = mn_config_schema; k->name; k++)
    if (k->type != MN_CFG_T_PROVIDERS)
      assert_non_null(strstr(buf, k->name));
  free(buf);
}

int main(void) {
  const char *data = getenv("MN_TEST_DATA");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/config", data ? data : "tests/data");
  if (chdir(dir) != 0) {
    fprintf(stderr, "cannot enter %s (set MN_TEST_DATA)\n", dir);
    return 1;
  }
  setenv("MN_TEST_API_KEY", "key-from-env", 1);
  setenv("MN_TEST_DSN_VALUE", "host=/run/pg dbname=mn", 1);
  setenv("MN_TEST_LISTEN", "0.0.0.0:5002", 1);
  setenv("MN_TEST_THREADS", "6", 1);
  setenv("MN_TEST_BAD_THREADS", "999", 1);
  setenv("MN_TEST_DATA_DIR", "/var/lib/mn", 1);
  setenv("MN_TEST_LEVEL", "debug", 1);
  setenv("MN_TEST_SOCKET", "/run/test-docker.sock", 1);
  unsetenv("MN_TEST_SURELY_UNSET_VARIABLE");

  char *names[256];
  size_t n = 0;
  DIR *d = opendir(".");
  struct dirent *e;
  while (d && (e = readdir(d)) && n < 256) {
    size_t len = strlen(e->d_name);
    if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0)
      names[n++] = strdup(e->d_name);
  }
  if (d)
    closedir(d);
  qsort(names, n, sizeof names[0], by_name);

  struct CMUnitTest cases[256];
  for (size_t i = 0; i < n; i++) {
    struct CMUnitTest t = {names[i], run_case, NULL, NULL, names[i]};
    cases[i] = t;
  }
  int failed = _cmocka_run_group_tests("config_files", cases, n, NULL, NULL);

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),        cmocka_unit_test(test_plugin_sections),
      cmocka_unit_test(test_many_errors),     cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_tree_from_string), cmocka_unit_test(test_reference),
      cmocka_unit_test(test_config_accessors), cmocka_unit_test(test_provider_env),
  };
  failed += cmocka_run_group_tests(tests, NULL, NULL);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  return failed || n < 20;
}
