/* The common YAML tree (multinode/common/yaml_tree.h) on its own: positions
 * and key paths, lookups, scalar conversions, and every refusal with the
 * FILE:LINE:COL it names. The daemon's config (test_config), the manifest
 * (test_cli_deploy) and the kubeconfig (test_k8s_kubeconfig) test it
 * through their own schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "multinode/common/yaml_tree.h"

static struct mn_cfg_tree *load(const char *text) {
  struct mn_cfg_tree *tree = NULL;
  struct mn_error err = {0};
  if (mn_cfg_tree_load_string("t.yaml", text, strlen(text), &tree, &err) != 0)
    fail_msg("\"%s\" refused: %s", text, err.msg);
  return tree;
}

static void test_positions_and_paths(void **state) {
  (void)state;
  struct mn_cfg_tree *t = load("a:\n  b: 1\n  list:\n    - x\n    - {k: v}\nempty:\nq: ''\n");
  const struct mn_cfg_node *b = mn_cfg_node_find(t->root, "a.b");
  assert_non_null(b);
  assert_string_equal(b->path, "a.b");
  assert_string_equal(b->file, "t.yaml");
  assert_int_equal(b->line, 2);
  assert_int_equal(b->col, 6);
  const struct mn_cfg_pair *p = mn_cfg_node_pair(mn_cfg_node_get(t->root, "a"), "b");
  assert_int_equal(p->key->line, 2);
  assert_int_equal(p->key->col, 3);
  const struct mn_cfg_node *list = mn_cfg_node_find(t->root, "a.list");
  assert_int_equal(list->kind, MN_CFG_SEQUENCE);
  assert_int_equal(list->n_items, 2);
  assert_null(list->strings); /* not every item is a scalar */
  assert_string_equal(list->items[1]->path, "a.list[1]");
  assert_string_equal(mn_cfg_node_get(list->items[1], "k")->path, "a.list[1].k");
  assert_true(mn_cfg_node_is_null(mn_cfg_node_get(t->root, "empty")));
  assert_false(mn_cfg_node_is_null(mn_cfg_node_get(t->root, "q"))); /* quoted: a string */
  assert_null(mn_cfg_node_find(t->root, "a.b.c"));
  assert_null(mn_cfg_node_find(t->root, "nope"));
  mn_cfg_tree_free(t);

  t = load(""); /* an empty document is an empty mapping */
  assert_int_equal(t->root->kind, MN_CFG_MAPPING);
  assert_int_equal(t->root->n_pairs, 0);
  mn_cfg_tree_free(t);
}

static void test_scalars(void **state) {
  (void)state;
  struct mn_cfg_tree *t = load("i: -42\nbig: 99999999999999999999\nf: 1.5\nyes: On\nno: off\n"
                               "odd: maybe\nl: [a, b]\n");
  long long v = 0;
  int flag = -1;
  assert_int_equal(mn_cfg_scalar_int(mn_cfg_node_get(t->root, "i"), &v), 0);
  assert_int_equal(v, -42);
  assert_int_equal(mn_cfg_scalar_int(mn_cfg_node_get(t->root, "big"), &v), MN_EINVAL);
  assert_int_equal(mn_cfg_scalar_int(mn_cfg_node_get(t->root, "f"), &v), MN_EINVAL);
  assert_int_equal(mn_cfg_scalar_int(mn_cfg_node_get(t->root, "l"), &v), MN_EINVAL);
  assert_int_equal(mn_cfg_scalar_bool(mn_cfg_node_get(t->root, "yes"), &flag), 0);
  assert_int_equal(flag, 1);
  assert_int_equal(mn_cfg_scalar_bool(mn_cfg_node_get(t->root, "no"), &flag), 0);
  assert_int_equal(flag, 0);
  assert_int_equal(mn_cfg_scalar_bool(mn_cfg_node_get(t->root, "odd"), &flag), MN_EINVAL);
  const struct mn_cfg_node *l = mn_cfg_node_get(t->root, "l");
  assert_string_equal(l->strings[0], "a");
  assert_string_equal(l->strings[1], "b");
  assert_null(l->strings[2]);
  mn_cfg_tree_free(t);
}

static void test_refusals(void **state) {
  (void)state;
  static const struct {
    const char *text, *msg;
  } cases[] = {
      {"a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']'"},
      {"a: 1\na: 2\n", "t.yaml:2:1: a: duplicate key"},
      {"x: &r 1\ny: *r\n", "t.yaml:2:4: y: YAML aliases are not supported"},
      {"? [k]\n: v\n", "t.yaml:1:3: (root): keys must be plain strings"},
      {"a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document is allowed"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct mn_cfg_tree *t = NULL;
    struct mn_error err = {0};
    int rc = mn_cfg_tree_load_string("t.yaml", cases[i].text, strlen(cases[i].text), &t, &err);
    if (rc != MN_ECONFIG || strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
      fail_msg("\"%s\": rc %d, \"%s\", want \"%s\"", cases[i].text, rc, err.msg, cases[i].msg);
    assert_null(t);
  }
  /* nesting deeper than MN_CFG_MAX_DEPTH */
  char deep[4 * (MN_CFG_MAX_DEPTH + 2)];
  size_t n = 0;
  for (int i = 0; i < MN_CFG_MAX_DEPTH + 2; i++)
    deep[n++] = '[';
  deep[n] = '\0';
  struct mn_cfg_tree *t = NULL;
  struct mn_error err = {0};
  assert_int_equal(mn_cfg_tree_load_string("t.yaml", deep, n, &t, &err), MN_ECONFIG);
  assert_non_null(strstr(err.msg, "nesting deeper than 64 levels"));
  /* an unreadable file */
  assert_int_equal(mn_cfg_tree_load_file("/nonexistent/x.yaml", &t, &err), MN_EIO);
  assert_string_equal(err.msg, "/nonexistent/x.yaml: cannot open: No such file or directory");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_positions_and_paths),
      cmocka_unit_test(test_scalars),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
