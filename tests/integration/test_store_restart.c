/* The store survives Postgres restarting under it, without restarting the
 * daemon: a private cluster (embedded_pg in a temp dir) is restarted with
 * `pg_ctl restart -m immediate` (a crash, then WAL recovery) and stopped
 * outright; the store's next calls succeed after at most one
 * MN_EUNAVAILABLE, writes are never half-applied, nothing hangs. A write
 * marked MN_DB_COMMIT_ASYNC commits with synchronous_commit off, every
 * other one with it on, and one marked MN_DB_GENERIC_PLAN runs with generic
 * plans forced, whatever the connection ran before and after a reconnect. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/db.h"
#include "store/embedded_pg.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

enum { POOL = 4 };

static char dir[64];
static struct mn_pg_embedded *pg;
static struct mn_store *store;
static char vid[MN_ID_MAX];
static char inv_id[MN_ID_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

static int start_pg(void) {
  struct mn_error err = {0};
  if (mn_pg_embedded_start(dir, &pg, &err) < 0) {
    fprintf(stderr, "embedded pg: %s\n", err.msg);
    return -1;
  }
  return 0;
}

static struct mn_version_definition definition(size_t n) {
  static struct mn_function_spec fs[8];
  static char names[8][8];
  for (size_t i = 0; i < n && i < 8; i++) {
    snprintf(names[i], sizeof names[i], "f%zu", i);
    fs[i] = (struct mn_function_spec){.function_name = names[i],
                                      .resource_spec = {1, 1, 10},
                                      .execution_spec = {0, 60}};
  }
  return (struct mn_version_definition){.default_docker_image = "img", .functions = fs,
                                        .n_functions = n};
}

static int setup(void **state) {
  snprintf(dir, sizeof dir, "/tmp/mn-restart-XXXXXX");
  if (!mkdtemp(dir) || start_pg() < 0)
    return -1;
  struct mn_store_options opt = {.dsn = mn_pg_embedded_dsn(pg), .pool_size = POOL,
                                 .connect_timeout_s = 5};
  struct mn_error err = {0};
  if (mn_store_open(&opt, &store, &err) < 0) {
    fprintf(stderr, "mn_store_open: %s\n", err.msg);
    return -1;
  }
  struct mn_version_definition def = definition(2);
  struct mn_version v = {0};
  struct mn_invocation inv = {0};
  if (mn_store_create_project(store, "r", 1, NULL) < 0 ||
      mn_store_create_version(store, "r", &def, 1, &v) < 0)
    return -1;
  snprintf(vid, sizeof vid, "%s", v.version_id);
  mn_version_release(&v);
  struct mn_function_key fk = {"r", vid, "f0"};
  if (mn_store_create_invocation(store, &fk, NULL, "x", 2, &inv) < 0)
    return -1;
  snprintf(inv_id, sizeof inv_id, "%s", inv.invocation_id);
  mn_invocation_release(&inv);
  return 0;
}

static int teardown(void **state) {
  mn_store_free(store);
  mn_pg_embedded_stop(pg);
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

struct hammer {
  pthread_barrier_t *barrier;
  int n;
  int failures; /* anything other than success */
};

static void *read_many(void *p) {
  struct hammer *h = p;
  struct mn_function_key fk = {"r", vid, "f0"};
  pthread_barrier_wait(h->barrier);
  for (int i = 0; i < h->n; i++) {
    struct mn_invocation g = {0};
    if (mn_store_get_invocation(store, &fk, inv_id, &g) != 0)
      h->failures++;
    mn_invocation_release(&g);
  }
  return NULL;
}

/* All POOL connections open and used at once. */
static void warm_pool(void) {
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, POOL);
  pthread_t th[POOL];
  struct hammer h[POOL];
  for (int i = 0; i < POOL; i++) {
    h[i] = (struct hammer){&barrier, 30, 0};
    pthread_create(&th[i], NULL, read_many, &h[i]);
  }
  for (int i = 0; i < POOL; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(h[i].failures, 0);
  }
  pthread_barrier_destroy(&barrier);
  for (int i = 0; i < POOL; i++)
    assert_non_null(store->conns[i].pg);
}

/* One round of reads and writes; returns how many were MN_EUNAVAILABLE and
 * fails on any other error. */
static int round_of_calls(void) {
  struct mn_function_key fk = {"r", vid, "f0"};
  int unavailable = 0;
  for (int i = 0; i < 2 * POOL; i++) {
    struct mn_invocation inv = {0}, g = {0};
    int rc = mn_store_create_invocation(store, &fk, NULL, "after", mn_now_us(), &inv);
    if (rc == MN_EUNAVAILABLE)
      unavailable++;
    else
      assert_int_equal(rc, 0);
    rc = mn_store_get_invocation(store, &fk, inv_id, &g);
    if (rc == MN_EUNAVAILABLE)
      unavailable++;
    else
      assert_int_equal(rc, 0);
    rc = mn_store_create_project(store, inv.invocation_id ? inv.invocation_id : "p-x", 1, NULL);
    if (rc == MN_EUNAVAILABLE)
      unavailable++;
    else
      assert_true(rc == 0 || rc == MN_EPROJECT_EXISTS);
    mn_invocation_release(&inv);
    mn_invocation_release(&g);
  }
  return unavailable;
}

static void test_restart_immediate(void **state) {
  for (int round = 0; round < 2; round++) {
    warm_pool();
    struct mn_error err = {0};
    assert_int_equal(mn_pg_embedded_restart(pg, "immediate", &err), 0);
    int unavailable = round_of_calls();
    fprintf(stderr, "round %d: %d call(s) saw MN_EUNAVAILABLE\n", round, unavailable);
    assert_true(unavailable <= 1);
    assert_int_equal(round_of_calls(), 0);
  }
}

static void test_down_then_up(void **state) {
  warm_pool();
  mn_pg_embedded_stop(pg);
  pg = NULL;
  struct mn_function_key fk = {"r", vid, "f0"};
  int64_t t0 = mn_monotonic_us();
  for (int i = 0; i < 2 * POOL; i++) {
    assert_int_equal(mn_store_get_invocation(store, &fk, inv_id, NULL), MN_EUNAVAILABLE);
    assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "", 5, NULL),
                     MN_EUNAVAILABLE);
  }
  /* failing is fast: no waiting on a server that is not there */
  assert_true(mn_monotonic_us() - t0 < 2 * MN_US_PER_S);
  assert_int_equal(start_pg(), 0);
  int unavailable = round_of_calls();
  assert_true(unavailable <= 1);
  assert_int_equal(round_of_calls(), 0);
}

struct writer {
  atomic_bool *stop;
  int created, unavailable, other;
};

static void *write_versions(void *p) {
  struct writer *w = p;
  struct mn_version_definition def = definition(8);
  while (!atomic_load(w->stop)) {
    int rc = mn_store_create_version(store, "r", &def, mn_now_us(), NULL);
    if (rc == 0)
      w->created++;
    else if (rc == MN_EUNAVAILABLE)
      w->unavailable++;
    else
      w->other++;
  }
  return NULL;
}

/* Versions of 8 functions are written while the server crashes: each one
 * is all there or not there at all. */
static void test_no_partial_writes(void **state) {
  atomic_bool stop = false;
  pthread_t th[2];
  struct writer w[2] = {{&stop, 0, 0, 0}, {&stop, 0, 0, 0}};
  for (int i = 0; i < 2; i++)
    pthread_create(&th[i], NULL, write_versions, &w[i]);
  int64_t deadline = mn_monotonic_us() + 10 * MN_US_PER_S;
  while ((w[0].created + w[1].created) < 20 && mn_monotonic_us() < deadline)
    usleep(10000);
  struct mn_error err = {0};
  assert_int_equal(mn_pg_embedded_restart(pg, "immediate", &err), 0);
  int before = w[0].created + w[1].created;
  deadline = mn_monotonic_us() + 10 * MN_US_PER_S;
  while ((w[0].created + w[1].created) < before + 20 && mn_monotonic_us() < deadline)
    usleep(10000);
  atomic_store(&stop, true);
  for (int i = 0; i < 2; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].other, 0);
  }
  assert_true(w[0].created + w[1].created >= before + 20); /* it kept going */

  struct mn_version_brief *items = NULL;
  size_t n = 0;
  assert_int_equal(mn_store_list_versions(store, "r", &items, &n), 0);
  assert_true(n >= 20);
  for (size_t i = 0; i < n; i++) {
    struct mn_version v = {0};
    assert_int_equal(mn_store_get_version(store, "r", items[i].version_id, &v), 0);
    /* the setup's version has 2 functions, all others 8 */
    if (strcmp(v.version_id, vid) == 0)
      assert_int_equal(v.n_functions, 2);
    else
      assert_int_equal(v.n_functions, 8);
    mn_version_release(&v);
  }
  mn_version_brief_list_free(items, n);
}

/* The session's synchronous_commit and plan_cache_mode, read by statements
 * the runner treats as writes (so it sets their modes first). */
#define MODES_SQL                                                                           \
  "SELECT current_setting('synchronous_commit') || ' ' || current_setting('plan_cache_mode')"
static const struct mn_db_stmt stmt_modes[4] = {
    {.name = "t_modes_0", .sql = MODES_SQL},
    {.name = "t_modes_1", .sql = MODES_SQL, .flags = MN_DB_COMMIT_ASYNC},
    {.name = "t_modes_2", .sql = MODES_SQL, .flags = MN_DB_GENERIC_PLAN},
    {.name = "t_modes_3", .sql = MODES_SQL, .flags = MN_DB_COMMIT_ASYNC | MN_DB_GENERIC_PLAN}};
static const char *const expected_modes[4] = {"on auto", "off auto", "on force_generic_plan",
                                              "off force_generic_plan"};

/* 0 with the modes statement k ran with in *modes, or the runner's error */
static int run_modes(struct mn_store *s, int k, char *modes, size_t size) {
  PGresult *r = NULL;
  int rc = mn_db_exec(s, &stmt_modes[k], NULL, &r);
  if (rc == 0)
    snprintf(modes, size, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return rc;
}

static void test_commit_mode_per_statement(void **state) {
  /* one connection: every change of mode is a switch on the same session */
  struct mn_store_options opt = {.dsn = mn_pg_embedded_dsn(pg), .pool_size = 1,
                                 .connect_timeout_s = 5};
  struct mn_store *one = NULL;
  struct mn_error err = {0};
  assert_int_equal(mn_store_open(&opt, &one, &err), 0);
  static const int order[] = {3, 1, 0, 2, 2, 1, 3, 0, 3};
  char modes[64];
  for (int round = 0; round < 2; round++) {
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
      int rc = run_modes(one, order[i], modes, sizeof modes);
      if (round == 1 && i == 0 && rc == MN_EUNAVAILABLE) /* the crash, seen once */
        rc = run_modes(one, order[i], modes, sizeof modes);
      assert_int_equal(rc, 0);
      assert_string_equal(modes, expected_modes[order[i]]);
    }
    /* a crash while the session has both modes set: the new one has none */
    assert_int_equal(mn_pg_embedded_restart(pg, "immediate", &err), 0);
  }
  /* the shared pool keeps working after the restart too */
  round_of_calls();
  /* a pool of several: each statement still gets its own modes */
  for (int i = 0; i < 4 * POOL; i++) {
    assert_int_equal(run_modes(store, (i * 3) % 4, modes, sizeof modes), 0);
    assert_string_equal(modes, expected_modes[(i * 3) % 4]);
  }
  mn_store_free(one);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_restart_immediate),
      cmocka_unit_test(test_down_then_up),
      cmocka_unit_test(test_no_partial_writes),
      cmocka_unit_test(test_commit_mode_per_statement),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
