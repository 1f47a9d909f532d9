/* A provider's key table (provider.h, "Declarative configuration"): the
 * host's walker stores every type at its offset, applies defaults, reports
 * every problem at once with FILE:LINE:COL and the key, and the plugin host
 * refuses a section of the real template provider before its init. */
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
#include "multinode/common/config_report.h"
#include "multinode/common/yaml_tree.h"
#include "plugin/host.h"
#include "plugin/provider_keys.h"

struct conf {
  const char *name, *colour, *never;
  int flag;
  int64_t count, wait, forever;
  uint64_t size;
  const char *const *tags;
  size_t n_tags;
  const struct mn_cfg_node *extra;
};

static int no_x(const char *v, char *why, size_t size) {
  if (!strchr(v, 'x'))
    return 0;
  snprintf(why, size, "has an x");
  return -1;
}

static const char *const colours[] = {"red", "green", NULL};

#define OFF(f) offsetof(struct conf, f)
static const struct mn_config_key keys[] = {
    {.name = "name", .type = MN_CONFIG_STRING, .flags = MN_CONFIG_REQUIRED | MN_CONFIG_NONEMPTY,
     .offset = OFF(name), .check = no_x, .doc = "d"},
    {.name = "colour", .type = MN_CONFIG_ENUM, .allowed = colours, .def = "red",
     .offset = OFF(colour)},
    {.name = "never", .type = MN_CONFIG_STRING, .offset = OFF(never)},
    {.name = "flag", .type = MN_CONFIG_BOOL, .def = "true", .offset = OFF(flag)},
    {.name = "count", .type = MN_CONFIG_INT, .def = "3", .min = 1, .max = 10,
     .offset = OFF(count)},
    {.name = "wait", .type = MN_CONFIG_DURATION, .def = "90s", .min = 1, .max = 3600,
     .offset = OFF(wait)},
    {.name = "forever", .type = MN_CONFIG_DURATION, .min = 60, .max = INT64_MAX,
     .offset = OFF(forever)},
    {.name = "size", .type = MN_CONFIG_BYTES, .def = "64MiB", .max = INT64_C(1) << 30,
     .offset = OFF(size)},
    {.name = "tags", .type = MN_CONFIG_STRINGS, .max = 3, .offset = OFF(tags),
     .count_offset = OFF(n_tags), .check = no_x},
    {.name = "extra", .type = MN_CONFIG_ANY, .offset = OFF(extra)},
    {0},
};

/* Walks the section providers.p of YAML; returns the report's text (heap). */
static char *walk(const char *yaml, struct conf *out, struct mn_cfg_tree **tree) {
  struct mn_error err = {0};
  struct mn_cfg_report rep = {0};
  if (mn_cfg_tree_load_string("t.yaml", yaml, strlen(yaml), tree, &err))
    fail_msg("yaml: %s", err.msg);
  const struct mn_cfg_node *section = mn_cfg_node_find((*tree)->root, "providers.p");
  assert_non_null(section);
  mn_provider_keys_walk(section, keys, out, &rep);
  char *text = mn_cfg_report_text(&rep);
  mn_cfg_report_release(&rep);
  return text;
}

static void test_values_and_defaults(void **state) {
  (void)state;
  struct mn_cfg_tree *tree = NULL;
  struct conf c = {.never = "kept"};
  char *text = walk("providers:\n  p:\n    name: n1\n    colour: green\n    count: 10\n"
                    "    wait: 1h\n    forever: 3650d\n    size: 1GiB\n    tags: [a, b]\n"
                    "    extra: {k: v}\n    plugin: /x.so\n    api_url: http://h:1\n",
                    &c, &tree);
  assert_null(text); /* the daemon's own keys (plugin, api_url) are allowed */
  assert_string_equal(c.name, "n1");
  assert_ptr_equal(c.colour, colours[1]); /* the table's own string */
  assert_string_equal(c.never, "kept");   /* absent, no default: untouched */
  assert_int_equal(c.flag, 1);            /* default */
  assert_int_equal(c.count, 10);
  assert_int_equal(c.wait, 3600);
  assert_int_equal(c.forever, 3650LL * 86400);
  assert_int_equal(c.size, UINT64_C(1) << 30);
  assert_int_equal(c.n_tags, 2);
  assert_string_equal(c.tags[1], "b");
  assert_non_null(c.extra);
  mn_cfg_tree_free(tree);

  memset(&c, 0, sizeof c);
  text = walk("providers:\n  p:\n    name: n2\n", &c, &tree);
  assert_null(text);
  assert_ptr_equal(c.colour, colours[0]);
  assert_int_equal(c.count, 3);
  assert_int_equal(c.wait, 90);
  assert_int_equal(c.size, UINT64_C(64) << 20);
  assert_null(c.tags);
  assert_null(c.extra);
  mn_cfg_tree_free(tree);
}

static void test_every_problem_at_once(void **state) {
  (void)state;
  struct mn_cfg_tree *tree = NULL;
  struct conf c = {0};
  char *text = walk("providers:\n  p:\n    colur: red\n    colour: blue\n    flag: maybe\n"
                    "    count: 11\n    wait: soon\n    forever: 59s\n    size: 2GiB\n"
                    "    tags: [a, xb, c, d]\n    never: [1]\n",
                    &c, &tree);
  assert_non_null(text);
  assert_string_equal(text,
                      "t.yaml:3:5: providers.p.colur: unknown key (did you mean colour?)\n"
                      "t.yaml:3:5: providers.p.name: missing\n"
                      "t.yaml:4:13: providers.p.colour: \"blue\" is not one of: red, green\n"
                      "t.yaml:5:11: providers.p.flag: expected true or false\n"
                      "t.yaml:6:12: providers.p.count: must be between 1 and 10\n"
                      "t.yaml:7:11: providers.p.wait: expected a duration such as 90s, 5m or 1h\n"
                      "t.yaml:8:14: providers.p.forever: must be at least 1m\n"
                      "t.yaml:9:11: providers.p.size: must be between 0 and 1GiB\n"
                      "t.yaml:10:11: providers.p.tags: expected at most 3 items, not 4\n"
                      "t.yaml:11:12: providers.p.never: expected a string");
  free(text);
  mn_cfg_tree_free(tree);

  /* a per-item check names the item; nothing is stored from a bad list */
  text = walk("providers:\n  p:\n    name: fox\n    tags: [a, xb]\n", &c, &tree);
  assert_string_equal(text, "t.yaml:3:11: providers.p.name: \"fox\" has an x\n"
                            "t.yaml:4:15: providers.p.tags[1]: \"xb\" has an x");
  assert_null(c.tags);
  free(text);
  mn_cfg_tree_free(tree);

  /* host->config_load: the same walk, as many lines as fit in err */
  struct mn_error err = {0};
  const char *yaml = "providers:\n  p:\n    name: ''\n    count: 0\n";
  assert_int_equal(mn_cfg_tree_load_string("t.yaml", yaml, strlen(yaml), &tree, &err), 0);
  struct mn_provider_error perr = {0};
  assert_int_equal(mn_host_config_load(mn_cfg_node_find(tree->root, "providers.p"), keys, &c,
                                       &perr),
                   MN_PROVIDER_E_INVALID);
  assert_string_equal(perr.msg, "t.yaml:3:11: providers.p.name: must not be empty\n"
                                "t.yaml:4:12: providers.p.count: must be between 1 and 10");
  mn_cfg_tree_free(tree);
}

static void test_formats(void **state) {
  (void)state;
  char buf[64];
  mn_provider_keys_fmt_duration(9000, buf, sizeof buf);
  assert_string_equal(buf, "2h30m");
  mn_provider_keys_fmt_duration(0, buf, sizeof buf);
  assert_string_equal(buf, "0");
  mn_provider_keys_fmt_bytes(UINT64_C(3) << 20, buf, sizeof buf);
  assert_string_equal(buf, "3MiB");
  mn_provider_keys_fmt_bytes(1000, buf, sizeof buf);
  assert_string_equal(buf, "1000");
}

/* The real template provider: a section with three bad keys is refused
 * before init with all three, and --check-config's report has them too. */
static void test_template_refused_before_init(void **state) {
  (void)state;
  char dir[] = "/tmp/mn-provider-keys-XXXXXX", path[256];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/m.yaml", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "server:\n  api_key: k\ndata_dir: %s/data\nproviders:\n  default: template\n"
             "  template:\n    endpoint: ftp://x\n    timeout: 11m\n    endpont: http://y\n", dir);
  fclose(f);
  struct mn_config cfg;
  struct mn_error err = {0};
  struct mn_plugins *ps = NULL;
  assert_int_equal(mn_config_load(path, &cfg, &err), 0);
  unsetenv("MULTINODE_PLUGIN_PATH");
  char want[1024];
  snprintf(want, sizeof want,
           "%s:7:15: providers.template.endpoint: \"ftp://x\" is not an http(s) URL\n"
           "%s:8:14: providers.template.timeout: must be between 1s and 10m\n"
           "%s:9:5: providers.template.endpont: unknown key (did you mean endpoint?)",
           path, path, path);
  struct mn_plugin_env env = {.public_url = "http://127.0.0.1:1", .data_dir = dir};
  assert_int_equal(mn_plugins_load(&cfg, &env, &ps, &err), MN_ECONFIG);
  assert_null(ps);
  assert_string_equal(err.msg, want);

  char *report = NULL;
  struct mn_plugin_env check = {.public_url = "http://127.0.0.1:1", .data_dir = dir,
                                .check_only = 1, .report_out = &report};
  assert_int_equal(mn_plugins_load(&cfg, &check, &ps, &err), MN_ECONFIG);
  assert_non_null(report);
  assert_string_equal(report, want);
  free(report);
  mn_config_release(&cfg);
  unlink(path);
  rmdir(dir); /* data_dir was never created by the check */
  snprintf(path, sizeof path, "%s/data", dir);
  assert_int_equal(access(path, F_OK), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values_and_defaults),
      cmocka_unit_test(test_every_problem_at_once),
      cmocka_unit_test(test_formats),
      cmocka_unit_test(test_template_refused_before_init),
  };
  return cmocka_run_group_tests_name("provider key tables", tests, NULL, NULL);
}
