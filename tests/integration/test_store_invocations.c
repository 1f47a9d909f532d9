/* Store: invocations (docs/compatibility.md §1.6, §2.4 create/cancel/get): fields,
 * existence errors at the right level, parent/child links, cancel and
 * terminate guards, NOTIFY, and many threads sharing a small pool. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pg_testdb.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

static struct mn_store *store;

static int setup(void **state) { return mn_testdb_open_store(3, &store); }

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

/* A project with one version holding functions f1 and f2; the version id
 * is written to vid. */
static void make_project(const char *name, int64_t t, char vid[MN_ID_MAX]) {
  struct mn_function_spec fs[2] = {
      {.function_name = "f1", .resource_spec = {2, 4, 5}, .execution_spec = {3, 30}},
      {.function_name = "f2", .resource_spec = {1, 1, 1}, .execution_spec = {0, 60}}};
  struct mn_version_definition def = {.default_docker_image = "img:1", .functions = fs,
                                      .n_functions = 2};
  struct mn_version v = {0};
  int rc = mn_store_create_project(store, name, t, NULL);
  assert_true(rc == 0 || rc == MN_EPROJECT_EXISTS);
  assert_int_equal(mn_store_create_version(store, name, &def, t, &v), 0);
  snprintf(vid, MN_ID_MAX, "%s", v.version_id);
  mn_version_release(&v);
}

static void test_create_get(void **state) {
  char vid[MN_ID_MAX];
  make_project("i-basic", 10, vid);
  struct mn_function_key fk = {"i-basic", vid, "f1"};
  struct mn_invocation inv = {0}, g = {0};
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "{\"x\": 1}", 777, &inv), 0);
  assert_true(mn_id_valid("inv-", inv.invocation_id));
  assert_string_equal(inv.function.project_name, "i-basic");
  assert_string_equal(inv.function.version_id, vid);
  assert_string_equal(inv.function.function_name, "f1");
  assert_string_equal(inv.function.docker_image, "img:1");
  assert_true(inv.function.resource_spec.virtual_cpus == 2.0);
  assert_int_equal(inv.function.resource_spec.max_concurrency, 5);
  assert_int_equal(inv.function.execution_spec.max_retries, 3);
  assert_int_equal(inv.function.execution_spec.timeout_seconds, 30);
  assert_int_equal(inv.function.function_status, MN_FUNCTION_PENDING);
  assert_false(inv.has_parent);
  assert_string_equal(inv.input, "{\"x\": 1}");
  assert_true(inv.cancellation_request_time == MN_TIME_NULL);
  assert_int_equal(inv.invocation_status, MN_INVOCATION_RUNNING);
  assert_true(inv.creation_time == 777 && inv.last_update_time == 777);
  assert_int_equal(inv.n_executions, 0);

  struct mn_function_key latest = {"i-basic", "latest", "f1"};
  assert_int_equal(mn_store_get_invocation(store, &latest, inv.invocation_id, &g), 0);
  assert_string_equal(g.invocation_id, inv.invocation_id);
  assert_string_equal(g.function.version_id, vid);
  assert_string_equal(g.input, inv.input);
  assert_true(g.creation_time == 777);
  assert_int_equal(g.n_executions, 0);
  mn_invocation_release(&g);

  /* executions come back in creation order: microseconds, then id */
  struct mn_execution e1 = {0}, e2 = {0}, e3 = {0};
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, 900, &e1), 0);
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, 800, &e2), 0);
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, 900, &e3), 0);
  assert_int_equal(mn_store_get_invocation(store, &fk, inv.invocation_id, &g), 0);
  assert_int_equal(g.n_executions, 3);
  assert_string_equal(g.executions[0].execution_id, e2.execution_id);
  const char *lo = strcmp(e1.execution_id, e3.execution_id) < 0 ? e1.execution_id
                                                                  : e3.execution_id;
  assert_string_equal(g.executions[1].execution_id, lo);
  assert_int_equal(g.executions[0].worker_status, MN_WORKER_PENDING);
  assert_true(g.last_update_time == 900); /* bumped by the new attempts */
  mn_invocation_release(&g);
  mn_execution_release(&e1);
  mn_execution_release(&e2);
  mn_execution_release(&e3);
  mn_invocation_release(&inv);
}

static void test_missing_levels(void **state) {
  char vid[MN_ID_MAX];
  make_project("i-miss", 10, vid);
  assert_int_equal(mn_store_create_project(store, "i-noversions", 1, NULL), 0);
  struct mn_invocation inv = {0}, other = {0};
  struct mn_function_key f1 = {"i-miss", vid, "f1"}, f2 = {"i-miss", vid, "f2"};
  assert_int_equal(mn_store_create_invocation(store, &f1, NULL, "", 5, &inv), 0);
  assert_int_equal(mn_store_create_invocation(store, &f2, NULL, "", 5, &other), 0);

  struct {
    struct mn_function_key fk;
    const char *inv;
    int want;
  } cases[] = {
      {{"nope", "latest", "f1"}, "inv-x", MN_EPROJECT_NOT_FOUND},
      {{"nope", "ver-x", "nof"}, "inv-x", MN_EPROJECT_NOT_FOUND},
      {{"i-noversions", "latest", "f1"}, "inv-x", MN_EVERSION_NOT_FOUND},
      {{"i-miss", "ver-0000", "f1"}, inv.invocation_id, MN_EVERSION_NOT_FOUND},
      {{"i-miss", vid, "f9"}, inv.invocation_id, MN_EFUNCTION_NOT_FOUND},
      {{"i-miss", "latest", "f9"}, inv.invocation_id, MN_EFUNCTION_NOT_FOUND},
      {{"i-miss", vid, "f1"}, "inv-missing", MN_EINVOCATION_NOT_FOUND},
      /* an invocation of another function is not found under this one */
      {{"i-miss", vid, "f1"}, other.invocation_id, MN_EINVOCATION_NOT_FOUND},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct mn_invocation g = {0};
    assert_int_equal(mn_store_get_invocation(store, &cases[i].fk, cases[i].inv, &g),
                     cases[i].want);
    assert_null(g.invocation_id);
    assert_int_equal(mn_store_cancel_invocation(store, &cases[i].fk, cases[i].inv, 6, NULL),
                     cases[i].want);
    assert_int_equal(mn_store_terminate_invocation(store, &cases[i].fk, cases[i].inv, 6, NULL),
                     cases[i].want);
    assert_int_equal(mn_store_create_execution(store, &cases[i].fk, cases[i].inv, 6, NULL),
                     cases[i].want);
    int want_create = cases[i].want == MN_EINVOCATION_NOT_FOUND ? 0 : cases[i].want;
    struct mn_invocation c = {0};
    assert_int_equal(mn_store_create_invocation(store, &cases[i].fk, NULL, "", 6, &c),
                     want_create);
    mn_invocation_release(&c);
  }
  mn_invocation_release(&inv);
  mn_invocation_release(&other);
}

static void test_parent_child(void **state) {
  char vid[MN_ID_MAX], vid2[MN_ID_MAX];
  make_project("i-family", 10, vid);
  make_project("i-family", 11, vid2);
  struct mn_function_key f1 = {"i-family", vid, "f1"}, f2 = {"i-family", vid, "f2"};
  struct mn_invocation parent = {0}, child = {0}, g = {0};
  assert_int_equal(mn_store_create_invocation(store, &f1, NULL, "p", 100, &parent), 0);
  assert_int_equal(mn_store_cancel_invocation(store, &f1, parent.invocation_id, 150, NULL), 0);
  struct mn_parent_ref pref = {"f1", parent.invocation_id};
  assert_int_equal(mn_store_create_invocation(store, &f2, &pref, "c", 200, &child), 0);
  assert_true(child.has_parent);
  assert_string_equal(child.parent.function_name, "f1");
  assert_string_equal(child.parent.invocation_id, parent.invocation_id);
  assert_true(child.parent.cancellation_request_time == 150);
  assert_int_equal(child.parent.invocation_status, MN_INVOCATION_RUNNING);
  assert_true(child.parent.creation_time == 100);
  assert_true(child.parent.last_update_time == 150);

  /* the parent's later state shows through the child */
  assert_int_equal(mn_store_terminate_invocation(store, &f1, parent.invocation_id, 300, NULL),
                   0);
  assert_int_equal(mn_store_get_invocation(store, &f2, child.invocation_id, &g), 0);
  assert_int_equal(g.parent.invocation_status, MN_INVOCATION_TERMINATED);
  assert_true(g.parent.last_update_time == 300);
  mn_invocation_release(&g);

  /* a TERMINATED parent is still accepted (as the original does) */
  assert_int_equal(mn_store_create_invocation(store, &f2, &pref, "c2", 301, NULL), 0);

  /* missing parents: unknown id, wrong function, other version */
  struct mn_parent_ref bad_id = {"f1", "inv-nothere"};
  struct mn_parent_ref bad_fn = {"f2", parent.invocation_id};
  struct mn_function_key other_version = {"i-family", vid2, "f2"};
  assert_int_equal(mn_store_create_invocation(store, &f2, &bad_id, "", 400, &g),
                   MN_EPARENT_NOT_FOUND);
  assert_null(g.invocation_id);
  assert_int_equal(mn_store_create_invocation(store, &f2, &bad_fn, "", 400, NULL),
                   MN_EPARENT_NOT_FOUND);
  assert_int_equal(mn_store_create_invocation(store, &other_version, &pref, "", 400, NULL),
                   MN_EPARENT_NOT_FOUND);
  /* existence of the path is checked before the parent */
  struct mn_function_key nofn = {"i-family", vid, "nofn"};
  assert_int_equal(mn_store_create_invocation(store, &nofn, &bad_id, "", 400, NULL),
                   MN_EFUNCTION_NOT_FOUND);
  mn_invocation_release(&parent);
  mn_invocation_release(&child);
}

static void test_cancel_terminate(void **state) {
  char vid[MN_ID_MAX];
  make_project("i-cancel", 10, vid);
  struct mn_function_key fk = {"i-cancel", "latest", "f1"};
  struct mn_invocation inv = {0}, c = {0};
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "", 100, &inv), 0);
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, 110, NULL), 0);
  assert_int_equal(mn_store_cancel_invocation(store, &fk, inv.invocation_id, 200, &c), 0);
  assert_true(c.cancellation_request_time == 200 && c.last_update_time == 200);
  assert_int_equal(c.invocation_status, MN_INVOCATION_RUNNING);
  assert_int_equal(c.n_executions, 1);
  assert_string_equal(c.function.docker_image, "img:1");
  mn_invocation_release(&c);
  /* cancelling again overwrites the time */
  assert_int_equal(mn_store_cancel_invocation(store, &fk, inv.invocation_id, 250, &c), 0);
  assert_true(c.cancellation_request_time == 250);
  mn_invocation_release(&c);

  assert_int_equal(mn_store_terminate_invocation(store, &fk, inv.invocation_id, 300, &c), 0);
  assert_int_equal(c.invocation_status, MN_INVOCATION_TERMINATED);
  assert_true(c.last_update_time == 300 && c.cancellation_request_time == 250);
  mn_invocation_release(&c);

  assert_int_equal(mn_store_cancel_invocation(store, &fk, inv.invocation_id, 400, &c),
                   MN_EINVOCATION_TERMINATED);
  assert_null(c.invocation_id);
  assert_int_equal(mn_store_terminate_invocation(store, &fk, inv.invocation_id, 400, NULL),
                   MN_EINVOCATION_TERMINATED);
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, 400, NULL),
                   MN_EINVOCATION_TERMINATED);
  assert_int_equal(mn_store_get_invocation(store, &fk, inv.invocation_id, &c), 0);
  assert_true(c.cancellation_request_time == 250 && c.last_update_time == 300);
  mn_invocation_release(&c);
  mn_invocation_release(&inv);
}

/* Waits up to 5 s for a notification on channel multinode with `payload`;
 * *others (may be NULL) counts the notifications seen before it. */
static bool wait_notify(PGconn *pg, const char *payload, int *others) {
  int64_t deadline = mn_monotonic_us() + 5 * MN_US_PER_S;
  while (mn_monotonic_us() < deadline) {
    PGnotify *n;
    while ((n = PQnotifies(pg)) != NULL) {
      bool match = strcmp(n->relname, "multinode") == 0 && strcmp(n->extra, payload) == 0;
      PQfreemem(n);
      if (match)
        return true;
      if (others)
        (*others)++;
    }
    struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
    poll(&pfd, 1, 100);
    PQconsumeInput(pg);
  }
  return false;
}

static void test_notify(void **state) {
  char vid[MN_ID_MAX];
  make_project("i-notify", 10, vid);
  PGconn *pg = PQconnectdb(mn_testdb_dsn());
  assert_int_equal(PQstatus(pg), CONNECTION_OK);
  PQclear(PQexec(pg, "LISTEN multinode"));
  struct mn_function_key fk = {"i-notify", vid, "f1"};
  struct mn_invocation inv = {0};
  struct mn_execution e = {0};
  bool applied;
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "", 1, &inv), 0);
  /* a new invocation names its function's queue (scheduler/queues.h) */
  char queue[256];
  snprintf(queue, sizeof queue, "queue\x1fi-notify\x1f%s\x1f" "f1", vid);
  assert_true(wait_notify(pg, queue, NULL));
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, 2, &e), 0);
  assert_true(wait_notify(pg, "execution", NULL));
  assert_int_equal(mn_store_cancel_invocation(store, &fk, inv.invocation_id, 3, NULL), 0);
  assert_true(wait_notify(pg, "invocation", NULL));
  assert_int_equal(mn_store_request_project_deletion(store, "i-notify", 4, NULL), 0);
  assert_true(wait_notify(pg, "project", NULL));
  assert_int_equal(mn_store_terminate_invocation(store, &fk, inv.invocation_id, 5, NULL), 0);
  assert_true(wait_notify(pg, "invocation", NULL));
  /* refused changes notify nothing, nor do the scheduler's own worker
   * transitions: nothing arrives before the next (execution) event, the
   * signal, which is sent after anything queued earlier */
  assert_int_equal(mn_store_terminate_invocation(store, &fk, inv.invocation_id, 6, NULL),
                   MN_EINVOCATION_TERMINATED);
  assert_int_equal(mn_store_cancel_invocation(store, &fk, inv.invocation_id, 6, NULL),
                   MN_EINVOCATION_TERMINATED);
  assert_int_equal(mn_store_create_version(store, "i-notify", &(struct mn_version_definition){
                                                                  .default_docker_image = "i"},
                                           7, NULL),
                   MN_EPROJECT_BEING_DELETED);
  assert_int_equal(mn_store_transition_execution(store, &fk, inv.invocation_id, e.execution_id,
                                                 MN_WORKER_PENDING, MN_WORKER_PROVISIONING,
                                                 NULL, NULL, 8, &applied),
                   0);
  assert_true(applied);
  assert_int_equal(mn_store_signal_execution(store, &fk, inv.invocation_id, e.execution_id, 9,
                                             &applied),
                   0);
  assert_true(applied);
  int others = 0;
  assert_true(wait_notify(pg, "execution", &others));
  assert_int_equal(others, 0);
  mn_invocation_release(&inv);
  mn_execution_release(&e);
  PQfinish(pg);
}

struct worker_arg {
  struct mn_store *s;
  const char *vid;
  int failures;
};

static void *worker(void *p) {
  struct worker_arg *a = p;
  struct mn_function_key fk = {"i-threads", a->vid, "f2"};
  for (int i = 0; i < 40; i++) {
    struct mn_invocation inv = {0}, g = {0};
    if (mn_store_create_invocation(a->s, &fk, NULL, "t", mn_now_us(), &inv) < 0 ||
        mn_store_get_invocation(a->s, &fk, inv.invocation_id, &g) < 0 ||
        strcmp(g.invocation_id, inv.invocation_id) != 0)
      a->failures++;
    mn_invocation_release(&inv);
    mn_invocation_release(&g);
  }
  return NULL;
}

static void test_threads_share_pool(void **state) {
  char vid[MN_ID_MAX];
  make_project("i-threads", 10, vid);
  struct mn_store *small = NULL;
  assert_int_equal(mn_testdb_open_store(2, &small), 0);
  pthread_t th[6];
  struct worker_arg args[6];
  for (int i = 0; i < 6; i++) {
    args[i] = (struct worker_arg){small, vid, 0};
    assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  struct mn_function_key fk = {"i-threads", vid, "f2"};
  struct mn_invocation_query q = {.max_results = 50};
  size_t total = 0;
  struct mn_page_offset off;
  for (;;) {
    struct mn_invocation_page page = {0};
    assert_int_equal(mn_store_list_invocations(small, &fk, &q, &page), 0);
    total += page.n_items;
    bool more = page.next_offset != NULL;
    if (more)
      assert_int_equal(mn_page_offset_parse(page.next_offset, &off), 0);
    mn_invocation_page_release(&page);
    if (!more)
      break;
    q.offset = &off;
  }
  assert_int_equal(total, 6 * 40);
  mn_store_free(small);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_get),       cmocka_unit_test(test_missing_levels),
      cmocka_unit_test(test_parent_child),     cmocka_unit_test(test_cancel_terminate),
      cmocka_unit_test(test_notify),           cmocka_unit_test(test_threads_share_pool),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
