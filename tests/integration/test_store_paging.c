/* Store: list_invocations (docs/compatibility.md §2.4 list_invocations): newest first
 * then id ascending, keyset pages of max_results, next_offset NULL on the
 * last page, and the status / parent filters (each its own statement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_testdb.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

static struct mn_store *store;

enum { N_INV = 7 };
/* creation times: several invocations share one microsecond */
static const int64_t times[N_INV] = {100, 300, 200, 300, 100, 300, 50};

struct fixture {
  char vid[MN_ID_MAX];
  char ids[N_INV][MN_ID_MAX];
  char parent[MN_ID_MAX];
  /* the expected order of the N_INV invocations: indexes into ids */
  int order[N_INV];
};
static struct fixture fx;

static int cmp_expected(const void *a, const void *b) {
  int ia = *(const int *)a, ib = *(const int *)b;
  if (times[ia] != times[ib])
    return times[ia] > times[ib] ? -1 : 1; /* newest first */
  return strcmp(fx.ids[ia], fx.ids[ib]);   /* then id ascending */
}

static int setup(void **state) {
  if (mn_testdb_open_store(2, &store) < 0)
    return -1;
  struct mn_function_spec fs[2] = {
      {.function_name = "f", .resource_spec = {1, 1, 1}, .execution_spec = {0, 10}},
      {.function_name = "p", .resource_spec = {1, 1, 1}, .execution_spec = {0, 10}}};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 2};
  struct mn_version v = {0};
  struct mn_invocation inv = {0};
  if (mn_store_create_project(store, "pg", 1, NULL) < 0 ||
      mn_store_create_version(store, "pg", &def, 1, &v) < 0)
    return -1;
  snprintf(fx.vid, sizeof fx.vid, "%s", v.version_id);
  mn_version_release(&v);
  struct mn_function_key pk = {"pg", fx.vid, "p"}, fk = {"pg", fx.vid, "f"};
  if (mn_store_create_invocation(store, &pk, NULL, "", 1, &inv) < 0)
    return -1;
  snprintf(fx.parent, sizeof fx.parent, "%s", inv.invocation_id);
  mn_invocation_release(&inv);
  struct mn_parent_ref pref = {"p", fx.parent};
  for (int i = 0; i < N_INV; i++) {
    /* odd ones are children of the parent; 1, 2 and 5 get terminated */
    if (mn_store_create_invocation(store, &fk, i % 2 ? &pref : NULL, "", times[i], &inv) < 0)
      return -1;
    snprintf(fx.ids[i], MN_ID_MAX, "%s", inv.invocation_id);
    mn_invocation_release(&inv);
    if ((i == 1 || i == 2 || i == 5) &&
        mn_store_terminate_invocation(store, &fk, fx.ids[i], 400, NULL) < 0)
      return -1;
    fx.order[i] = i;
  }
  qsort(fx.order, N_INV, sizeof fx.order[0], cmp_expected);
  return 0;
}

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

static bool selected(int i, const struct mn_invocation_query *q) {
  if (q->filter_status) {
    bool terminated = i == 1 || i == 2 || i == 5;
    if (terminated != (q->status == MN_INVOCATION_TERMINATED))
      return false;
  }
  return !q->parent || i % 2 == 1;
}

/* Walks every page of the query and checks the concatenation against the
 * expected order; returns the number of pages. */
static int walk(struct mn_invocation_query q) {
  struct mn_function_key fk = {"pg", "latest", "f"};
  int expected[N_INV], n_expected = 0, seen = 0, pages = 0;
  for (int k = 0; k < N_INV; k++)
    if (selected(fx.order[k], &q))
      expected[n_expected++] = fx.order[k];
  struct mn_page_offset off;
  for (;;) {
    struct mn_invocation_page page = {0};
    assert_int_equal(mn_store_list_invocations(store, &fk, &q, &page), 0);
    pages++;
    assert_true(page.n_items <= (size_t)q.max_results);
    for (size_t i = 0; i < page.n_items; i++) {
      assert_true(seen < n_expected);
      int want = expected[seen++];
      assert_string_equal(page.items[i].invocation_id, fx.ids[want]);
      assert_true(page.items[i].creation_time == times[want]);
      if (want % 2) {
        assert_string_equal(page.items[i].parent_function_name, "p");
        assert_string_equal(page.items[i].parent_invocation_id, fx.parent);
      } else {
        assert_null(page.items[i].parent_function_name);
        assert_null(page.items[i].parent_invocation_id);
      }
    }
    if (!page.next_offset) {
      mn_invocation_page_release(&page);
      break;
    }
    /* the offset names the first row of the next page */
    assert_int_equal(mn_page_offset_parse(page.next_offset, &off), 0);
    assert_true(seen < n_expected);
    assert_string_equal(off.invocation_id, fx.ids[expected[seen]]);
    mn_invocation_page_release(&page);
    q.offset = &off;
  }
  assert_int_equal(seen, n_expected);
  return pages;
}

static void test_one_per_page(void **state) {
  /* newest to oldest, one at a time, ending with a NULL next_offset */
  assert_int_equal(walk((struct mn_invocation_query){.max_results = 1}), N_INV);
}

static void test_everything_at_once(void **state) {
  struct mn_function_key fk = {"pg", fx.vid, "f"};
  struct mn_invocation_query q = {.max_results = 10};
  struct mn_invocation_page page = {0};
  assert_int_equal(mn_store_list_invocations(store, &fk, &q, &page), 0);
  assert_int_equal(page.n_items, N_INV);
  assert_null(page.next_offset);
  mn_invocation_page_release(&page);
  assert_int_equal(walk(q), 1);
  /* exactly N_INV per page: one page, no offset (limit+1 fetch) */
  assert_int_equal(walk((struct mn_invocation_query){.max_results = N_INV}), 1);
}

static void test_page_sizes(void **state) {
  assert_int_equal(walk((struct mn_invocation_query){.max_results = 2}), 4);
  assert_int_equal(walk((struct mn_invocation_query){.max_results = 3}), 3);
}

static void test_filters(void **state) {
  struct mn_parent_ref pref = {"p", fx.parent};
  for (int size = 1; size <= 4; size++) {
    struct mn_invocation_query q = {.max_results = size, .filter_status = true,
                                    .status = MN_INVOCATION_RUNNING};
    walk(q);
    q.status = MN_INVOCATION_TERMINATED;
    walk(q);
    q.parent = &pref;
    walk(q);
    q.status = MN_INVOCATION_RUNNING;
    walk(q);
    q.filter_status = false;
    walk(q);
  }
  /* a parent with no children, and a parent that does not exist */
  struct mn_function_key fk = {"pg", fx.vid, "f"};
  struct mn_parent_ref none = {"p", "inv-none"};
  struct mn_invocation_query q = {.max_results = 5, .parent = &none};
  struct mn_invocation_page page = {0};
  assert_int_equal(mn_store_list_invocations(store, &fk, &q, &page), 0);
  assert_int_equal(page.n_items, 0);
  assert_null(page.next_offset);
  mn_invocation_page_release(&page);
}

static void test_offset_positions(void **state) {
  struct mn_function_key fk = {"pg", fx.vid, "f"};
  /* past the oldest: empty; ahead of the newest: everything */
  struct mn_page_offset past = {.creation_time = 10, .invocation_id = ""};
  struct mn_page_offset ahead = {.creation_time = 1000, .invocation_id = ""};
  struct mn_invocation_query q = {.max_results = 50, .offset = &past};
  struct mn_invocation_page page = {0};
  assert_int_equal(mn_store_list_invocations(store, &fk, &q, &page), 0);
  assert_int_equal(page.n_items, 0);
  mn_invocation_page_release(&page);
  q.offset = &ahead;
  assert_int_equal(mn_store_list_invocations(store, &fk, &q, &page), 0);
  assert_int_equal(page.n_items, N_INV);
  mn_invocation_page_release(&page);
}

static void test_resolved_version(void **state) {
  struct mn_function_key fk = {"pg", "LATEST", "f"};
  struct mn_invocation_query q = {.max_results = 2};
  struct mn_invocation_page page = {0};
  char *vid = NULL;
  assert_int_equal(mn_store_list_invocations_with_version(store, &fk, &q, &page, &vid), 0);
  assert_string_equal(vid, fx.vid);
  assert_int_equal(page.n_items, 2);
  assert_non_null(page.next_offset);
  free(vid);
  mn_invocation_page_release(&page);
}

static void test_list_missing(void **state) {
  struct mn_invocation_query q = {.max_results = 5};
  struct mn_invocation_page page = {0};
  struct mn_function_key a = {"nope", "latest", "f"}, b = {"pg", "ver-x", "f"},
                         c = {"pg", "latest", "zz"};
  assert_int_equal(mn_store_list_invocations(store, &a, &q, &page), MN_EPROJECT_NOT_FOUND);
  assert_int_equal(mn_store_list_invocations(store, &b, &q, &page), MN_EVERSION_NOT_FOUND);
  assert_int_equal(mn_store_list_invocations(store, &c, &q, &page), MN_EFUNCTION_NOT_FOUND);
  assert_null(page.items);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_per_page),     cmocka_unit_test(test_everything_at_once),
      cmocka_unit_test(test_page_sizes),       cmocka_unit_test(test_filters),
      cmocka_unit_test(test_offset_positions), cmocka_unit_test(test_resolved_version),
      cmocka_unit_test(test_list_missing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
