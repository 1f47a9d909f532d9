/* Invocations over HTTP: create, get, cancel, list (paging, filters, query
 * validation), parents, and every error these endpoints document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/clock.h"
#include "api_assert.h"
#include "api_fixture.h"
#include "multinode/common/ids.h"

static struct api_fixture fx;
static char *ver;     /* version of project "inv" (functions fa, fb) */
static char *other;   /* a second, newer version of "inv" */

static int setup(void **state) { return api_fixture_start(&fx, "invocations", NULL); }
static int teardown(void **state) {
  free(ver);
  free(other);
  api_fixture_stop(&fx);
  return 0;
}

#define BASE(v, f) api_fmt("/projects/inv/versions/%s/functions/%s/invocations", v, f)

static void test_setup_project(void **state) {
  api_make_project(&fx, "inv");
  ver = api_make_version(&fx, "inv");
  other = api_make_version(&fx, "inv");
}

static void test_create_and_get(void **state) {
  long long before = mn_us_to_s(mn_now_us());
  json_t *inv = api_expect(&fx, "POST", BASE(ver, "fb"), "{\"input\":\"hello \\u00e9\"}", 200);
  const char *id = api_str(inv, "invocation_id");
  assert_true(mn_id_valid("inv-", id));
  assert_string_equal(api_str(inv, "project_name"), "inv");
  assert_string_equal(api_str(inv, "version_id"), ver);
  assert_string_equal(api_str(inv, "function_name"), "fb");
  assert_string_equal(api_str(inv, "input"), "hello \xc3\xa9");
  assert_string_equal(api_str(inv, "invocation_status"), "RUNNING");
  assert_string_equal(api_str(inv, "function_status"), "PENDING");
  assert_true(json_is_null(json_object_get(inv, "parent_invocation")));
  assert_true(json_is_null(json_object_get(inv, "cancellation_request_time")));
  assert_int_equal(json_array_size(json_object_get(inv, "executions")), 0);
  json_t *es = json_object_get(inv, "execution_spec");
  assert_int_equal(json_integer_value(json_object_get(es, "max_retries")), 2);
  long long created = json_integer_value(json_object_get(inv, "creation_time"));
  assert_true(created >= before);
  assert_int_equal(created, json_integer_value(json_object_get(inv, "last_update_time")));

  json_t *got = api_expect(&fx, "GET", api_fmt("%s/%s", BASE(ver, "fb"), id), NULL, 200);
  assert_true(json_equal(got, inv));
  json_decref(got);
  json_decref(inv);
}

static void test_latest_resolves_to_newest_version(void **state) {
  json_t *inv = api_expect(&fx, "POST", BASE("LATEST", "fa"), "{\"input\":\"x\"}", 200);
  assert_string_equal(api_str(inv, "version_id"), other);
  const char *id = api_str(inv, "invocation_id");
  json_decref(api_expect(&fx, "GET", api_fmt("%s/%s", BASE("latest", "fa"), id), NULL, 200));
  /* not found under the older version */
  api_expect_detail(&fx, "GET", api_fmt("%s/%s", BASE(ver, "fa"), id), NULL, 404,
                    "An invocation with this ID does not exist for this function");
  json_t *l = api_expect(&fx, "GET", BASE("latest", "fa"), NULL, 200);
  assert_string_equal(api_str(l, "version_id"), other);
  json_decref(l);
  json_decref(inv);
}

static void test_hierarchy_errors(void **state) {
  const char *inv_404 = "An invocation with this ID does not exist for this function";
  const char *fn_404 = "A function with this name does not exist for this project version";
  const char *ver_404 = "A version with this ID does not exist for this project";
  const char *proj_404 = "A project with this name does not exist";
  const char *body = "{\"input\":\"x\"}";
  api_expect_detail(&fx, "POST", "/projects/nope/versions/latest/functions/fa/invocations",
                    body, 404, proj_404);
  api_expect_detail(&fx, "POST", "/projects/nope/versions/ver-x/functions/zz/invocations", body,
                    404, proj_404);
  api_expect_detail(&fx, "POST", BASE("ver-x", "zz"), body, 404, ver_404);
  api_expect_detail(&fx, "POST", BASE(ver, "zz"), body, 404, fn_404);
  api_expect_detail(&fx, "GET", api_fmt("%s/inv-none", BASE(ver, "fa")), NULL, 404, inv_404);
  api_expect_detail(&fx, "GET", api_fmt("%s/inv-none", BASE(ver, "zz")), NULL, 404, fn_404);
  api_expect_detail(&fx, "PUT", api_fmt("%s/inv-none/cancel", BASE(ver, "fa")), NULL, 404, inv_404);
  api_expect_detail(&fx, "PUT", api_fmt("%s/inv-none/cancel", BASE("ver-x", "fa")), NULL, 404,
                    ver_404);
  api_expect_detail(&fx, "GET", BASE(ver, "zz"), NULL, 404, fn_404);
  api_expect_detail(&fx, "GET", "/projects/nope/versions/latest/functions/fa/invocations", NULL,
                    404, proj_404);
}

static void test_bodies_validated(void **state) {
  const char *m = api_expect_422(&fx, "POST", BASE(ver, "fa"), "{}");
  assert_string_equal(m, "body.input: field required");
  m = api_expect_422(&fx, "POST", BASE(ver, "fa"), "{\"input\":7}");
  assert_string_equal(m, "body.input: str type expected");
  m = api_expect_422(&fx, "POST", BASE(ver, "fa"), "{\"input\":\"x\",\"parent_invocation\":{}}");
  assert_string_equal(m, "body.parent_invocation.function_name: field required");
  m = api_expect_422(&fx, "POST", BASE(ver, "fa"), "{\"input\":\"x\",\"parent_invocation\":3}");
  assert_string_equal(m, "body.parent_invocation: value is not a valid dict");
  m = api_expect_422(&fx, "POST", BASE(ver, "fa"), "{\"input\":");
  assert_non_null(strstr(m, "body.9: "));
  /* input is refused from 250000 characters on */
  size_t n = 250000;
  char *big = malloc(n + 32);
  memcpy(big, "{\"input\":\"", 10);
  memset(big + 10, 'i', n - 1);
  strcpy(big + 10 + n - 1, "\"}");
  json_t *ok = api_expect(&fx, "POST", BASE(ver, "fa"), big, 200);
  assert_int_equal(strlen(api_str(ok, "input")), n - 1);
  json_decref(ok);
  memset(big + 10, 'i', n);
  strcpy(big + 10 + n, "\"}");
  m = api_expect_422(&fx, "POST", BASE(ver, "fa"), big);
  assert_non_null(strstr(m, "body.input: "));
  free(big);
}

static void test_parents(void **state) {
  char *parent = api_make_invocation(&fx, "inv", ver, "fa", NULL, NULL);
  char *child = api_make_invocation(&fx, "inv", ver, "fb", "fa", parent);
  json_t *c = api_expect(&fx, "GET", api_fmt("%s/%s", BASE(ver, "fb"), child), NULL, 200);
  json_t *p = json_object_get(c, "parent_invocation");
  assert_string_equal(api_str(p, "function_name"), "fa");
  assert_string_equal(api_str(p, "invocation_id"), parent);
  assert_string_equal(api_str(p, "invocation_status"), "RUNNING");
  json_decref(c);
  const char *detail = "The ID of the parent invocation is invalid";
  const char *body = "{\"input\":\"x\",\"parent_invocation\":"
                     "{\"function_name\":\"%s\",\"invocation_id\":\"%s\"}}";
  api_expect_detail(&fx, "POST", BASE(ver, "fb"), api_fmt(body, "fa", "inv-missing"), 400, detail);
  api_expect_detail(&fx, "POST", BASE(ver, "fb"), api_fmt(body, "fb", parent), 400, detail);
  /* a parent must be in the same version */
  api_expect_detail(&fx, "POST", BASE(other, "fb"), api_fmt(body, "fa", parent), 400, detail);
  /* a terminated parent is accepted */
  assert_int_equal(api_fixture_terminate_invocation(&fx, "inv", ver, "fa", parent), 0);
  free(api_make_invocation(&fx, "inv", ver, "fb", "fa", parent));
  free(parent);
  free(child);
}

static void test_cancel(void **state) {
  char *id = api_make_invocation(&fx, "inv", ver, "fa", NULL, NULL);
  const char *path = api_fmt("%s/%s/cancel", BASE(ver, "fa"), id);
  json_t *a = api_expect(&fx, "PUT", path, NULL, 200);
  long long t1 = json_integer_value(json_object_get(a, "cancellation_request_time_us"));
  assert_true(t1 > 0);
  assert_string_equal(api_str(a, "invocation_status"), "RUNNING");
  assert_true(json_integer_value(json_object_get(a, "last_update_time_us")) >= t1);
  json_decref(a);
  /* cancelling again overwrites the time */
  a = api_expect(&fx, "PUT", path, NULL, 200);
  assert_true(json_integer_value(json_object_get(a, "cancellation_request_time_us")) > t1);
  json_decref(a);
  /* but a terminated invocation cannot be cancelled */
  assert_int_equal(api_fixture_terminate_invocation(&fx, "inv", ver, "fa", id), 0);
  api_expect_detail(&fx, "PUT", path, NULL, 409, "This invocation has already terminated");
  /* children are cancelled one by one (the scheduler cascades); a parent's
   * cancellation does not touch them here */
  char *parent = api_make_invocation(&fx, "inv", ver, "fa", NULL, NULL);
  char *child = api_make_invocation(&fx, "inv", ver, "fb", "fa", parent);
  json_decref(api_expect(&fx, "PUT", api_fmt("%s/%s/cancel", BASE(ver, "fa"), parent), NULL, 200));
  json_t *c = api_expect(&fx, "GET", api_fmt("%s/%s", BASE(ver, "fb"), child), NULL, 200);
  assert_true(json_is_null(json_object_get(c, "cancellation_request_time")));
  assert_false(json_is_null(
      json_object_get(json_object_get(c, "parent_invocation"), "cancellation_request_time")));
  json_decref(c);
  json_decref(api_expect(&fx, "PUT", api_fmt("%s/%s/cancel", BASE(ver, "fb"), child), NULL, 200));
  free(parent);
  free(child);
  free(id);
}

/* Walks every page of list_invocations under `query`, appending ids. */
static size_t walk(const char *version, const char *function, const char *query, char **ids,
                   size_t max, int *pages) {
  size_t n = 0;
  char *offset = NULL;
  long long last_us = INT64_MAX;
  *pages = 0;
  do {
    char path[1024];
    snprintf(path, sizeof path, "%s?%s%s%s", BASE(version, function), query,
             offset ? "&initial_offset=" : "", offset ? offset : "");
    free(offset);
    offset = NULL;
    json_t *page = api_expect(&fx, "GET", path, NULL, 200);
    (*pages)++;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(page, "invocations"), i, item) {
      long long us = json_integer_value(json_object_get(item, "creation_time_us"));
      assert_true(us <= last_us); /* newest first */
      last_us = us;
      assert_true(n < max);
      ids[n++] = strdup(api_str(item, "invocation_id"));
    }
    json_t *next = json_object_get(page, "next_offset");
    if (!json_is_null(next)) {
      /* the offset holds a comma; curl sends it as is */
      offset = strdup(json_string_value(next));
    }
    json_decref(page);
  } while (offset);
  return n;
}

static void test_paging_walk(void **state) {
  char *made[7], *seen[16];
  int pages;
  for (int i = 0; i < 7; i++)
    made[i] = api_make_invocation(&fx, "inv", other, "fb", NULL, NULL);
  size_t n = walk(other, "fb", "max_results=3", seen, 16, &pages);
  assert_int_equal(n, 7);
  assert_int_equal(pages, 3);
  for (int i = 0; i < 7; i++)
    assert_string_equal(seen[i], made[6 - i]); /* newest to oldest */
  for (size_t i = 0; i < n; i++)
    free(seen[i]);
  /* one page of everything when max_results is absent or large */
  n = walk(other, "fb", "", seen, 16, &pages);
  assert_int_equal(n, 7);
  assert_int_equal(pages, 1);
  for (size_t i = 0; i < n; i++)
    free(seen[i]);
  n = walk(other, "fb", "max_results=7", seen, 16, &pages);
  assert_int_equal(pages, 1);
  for (size_t i = 0; i < n; i++)
    free(seen[i]);
  for (int i = 0; i < 7; i++)
    free(made[i]);
}

static void test_page_size_is_capped_at_50(void **state) {
  for (int i = 0; i < 53; i++)
    free(api_make_invocation(&fx, "inv", other, "fa", NULL, NULL));
  const char *queries[] = {"", "?max_results=50", "?max_results=1000"};
  for (int i = 0; i < 3; i++) {
    json_t *l = api_expect(&fx, "GET", api_fmt("%s%s", BASE(other, "fa"), queries[i]), NULL, 200);
    assert_int_equal(json_array_size(json_object_get(l, "invocations")), 50);
    assert_false(json_is_null(json_object_get(l, "next_offset")));
    json_decref(l);
  }
}

static void test_list_filters_and_query_errors(void **state) {
  char *parent = api_make_invocation(&fx, "inv", ver, "fa", NULL, NULL);
  char *kids[3];
  for (int i = 0; i < 3; i++)
    kids[i] = api_make_invocation(&fx, "inv", ver, "fb", "fa", parent);
  assert_int_equal(api_fixture_terminate_invocation(&fx, "inv", ver, "fb", kids[1]), 0);
  json_t *l = api_expect(
      &fx, "GET",
      api_fmt("%s?parent_function_name=fa&parent_invocation_id=%s", BASE(ver, "fb"), parent), NULL,
      200);
  json_t *items = json_object_get(l, "invocations");
  assert_int_equal(json_array_size(items), 3);
  assert_string_equal(api_str(json_array_get(items, 0), "invocation_id"), kids[2]);
  json_t *pi = json_object_get(json_array_get(items, 0), "parent_invocation");
  assert_string_equal(api_str(pi, "function_name"), "fa");
  assert_string_equal(api_str(pi, "invocation_id"), parent);
  json_decref(l);
  l = api_expect(&fx, "GET",
                 api_fmt("%s?status=TERMINATED&parent_function_name=fa&parent_invocation_id=%s",
                         BASE(ver, "fb"), parent),
                 NULL, 200);
  items = json_object_get(l, "invocations");
  assert_int_equal(json_array_size(items), 1);
  assert_string_equal(api_str(json_array_get(items, 0), "invocation_id"), kids[1]);
  assert_string_equal(api_str(json_array_get(items, 0), "invocation_status"), "TERMINATED");
  json_decref(l);
  l = api_expect(&fx, "GET", api_fmt("%s?status=RUNNING", BASE(ver, "fb")), NULL, 200);
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(l, "invocations"), i, item)
      assert_string_equal(api_str(item, "invocation_status"), "RUNNING");
  json_decref(l);

  char b[512]; /* api_fmt's buffers rotate: keep a copy */
  snprintf(b, sizeof b, "%s", BASE(ver, "fb"));
  api_expect_detail(&fx, "GET", api_fmt("%s?parent_function_name=fa", b), NULL, 400,
                    "The parent invocation ID is missing");
  api_expect_detail(&fx, "GET", api_fmt("%s?parent_invocation_id=%s", b, parent), NULL, 400,
                    "The parent function name is missing");
  const char *bad_offsets[] = {"abc", "12x,inv-1", ",inv-1", "nocomma"};
  for (size_t k = 0; k < 4; k++)
    api_expect_detail(&fx, "GET", api_fmt("%s?initial_offset=%s", b, bad_offsets[k]), NULL, 400,
                      "The next offset is in an invalid format");
  assert_string_equal(api_expect_422(&fx, "GET", api_fmt("%s?max_results=0", b), NULL),
                      "query.max_results: ensure this value is greater than or equal to 1");
  assert_string_equal(api_expect_422(&fx, "GET", api_fmt("%s?max_results=-5", b), NULL),
                      "query.max_results: ensure this value is greater than or equal to 1");
  assert_string_equal(api_expect_422(&fx, "GET", api_fmt("%s?max_results=ten", b), NULL),
                      "query.max_results: value is not a valid integer");
  assert_non_null(strstr(api_expect_422(&fx, "GET", api_fmt("%s?status=DONE", b), NULL),
                         "query.status: value is not a valid enumeration member"));
  /* an offset past everything gives an empty last page */
  l = api_expect(&fx, "GET", api_fmt("%s?initial_offset=1,inv-0", b), NULL, 200);
  assert_int_equal(json_array_size(json_object_get(l, "invocations")), 0);
  assert_true(json_is_null(json_object_get(l, "next_offset")));
  json_decref(l);
  for (int k = 0; k < 3; k++)
    free(kids[k]);
  free(parent);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_setup_project),
      cmocka_unit_test(test_create_and_get),
      cmocka_unit_test(test_latest_resolves_to_newest_version),
      cmocka_unit_test(test_hierarchy_errors),
      cmocka_unit_test(test_bodies_validated),
      cmocka_unit_test(test_parents),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_paging_walk),
      cmocka_unit_test(test_page_size_is_capped_at_50),
      cmocka_unit_test(test_list_filters_and_query_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
