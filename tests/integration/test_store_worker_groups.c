/* Store: group commit of the worker's /start and /finish
 * (docs/architecture.md §4, "Group commit of the worker's /start and
 * /finish"). The same requests are run twice on two identical sets of
 * executions: one at a time (each runs alone: the single statement of
 * before) and from one thread each, all at once (they run in groups). Every
 * answer must be the same, code and ExecutionInfo byte for byte (ids aside),
 * refusals included; and N concurrent claims, then N finishes, must take
 * well under N statements. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <unistd.h>

#include "api/codec.h"
#include "pg_testdb.h"
#include "store/execution_keys.h"
#include "store/metrics_reads.h"
#include "store/store.h"
#include "util/clock.h"
#include "multinode/common/ids.h"

#define N 32

static struct mn_store *store;
static char vid[MN_ID_MAX];

static int setup(void **state) {
  (void)state;
  if (mn_testdb_open_store(8, &store) < 0)
    return -1;
  struct mn_function_spec fs[1] = {
      {.function_name = "f", .resource_spec = {1, 2, 3}, .execution_spec = {1, 10}}};
  if (mn_testdb_project_version(store, "gp", fs, 1, vid) < 0)
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mn_store_free(store);
  return 0;
}

static uint64_t statements(void) {
  struct mn_store_pool_stats st = {0};
  mn_store_pool_stats(store, &st);
  return st.statements;
}

struct attempt {
  char inv[MN_ID_MAX];
  char exe[MN_ID_MAX];
};

static struct attempt new_attempt(int64_t t) {
  struct mn_function_key fk = {"gp", vid, "f"};
  struct mn_invocation inv = {0};
  struct mn_execution e = {0};
  struct attempt a;
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "in", t, &inv), 0);
  assert_int_equal(mn_store_create_execution(store, &fk, inv.invocation_id, t + 1, &e), 0);
  snprintf(a.inv, sizeof a.inv, "%s", inv.invocation_id);
  snprintf(a.exe, sizeof a.exe, "%s", e.execution_id);
  mn_invocation_release(&inv);
  mn_execution_release(&e);
  return a;
}

/* One worker call. */
struct call {
  bool finish;
  int target; /* index into the world's attempts; -1: an unknown execution */
  const char *token, *key;
  enum mn_outcome outcome;
  const char *final_output, *error_message;
  int64_t now;
  bool latest; /* name the version "latest": the call then runs alone */
  /* answer */
  int rc;
  char *json; /* ExecutionInfo, ids of the world replaced by placeholders */
};

struct world {
  struct attempt at[64];
  char keys[64][65];
};

static char *replace_all(char *s, const char *from, const char *to) {
  size_t nf = strlen(from), nt = strlen(to);
  for (char *p = strstr(s, from); p; p = strstr(p + nt, from)) {
    size_t off = (size_t)(p - s), len = strlen(s);
    char *n = malloc(len - nf + nt + 1);
    assert_non_null(n);
    memcpy(n, s, off);
    memcpy(n + off, to, nt);
    memcpy(n + off + nt, p + nf, len - off - nf + 1);
    free(s);
    s = n;
    p = s + off;
  }
  return s;
}

static void run_call(struct world *w, struct call *c) {
  struct mn_function_key fk = {"gp", vid, "f"};
  struct attempt unknown = {"", "exe-unknown"}; /* of a known invocation */
  snprintf(unknown.inv, sizeof unknown.inv, "%s", w->at[0].inv);
  struct attempt *a = c->target < 0 ? &unknown : &w->at[c->target];
  if (c->latest)
    fk.version_ref = "latest";
  struct mn_invocation out = {0};
  c->rc = c->finish ? mn_store_finish_execution(store, &fk, a->inv, a->exe, c->key, c->outcome,
                                                c->final_output, c->error_message, c->now, &out)
                    : mn_store_claim_execution(store, &fk, a->inv, a->exe, c->key, c->token,
                                               c->now, &out);
  c->json = NULL;
  if (c->rc == 0) {
    json_t *j = mn_json_execution_info(&out);
    assert_non_null(j);
    c->json = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    c->json = replace_all(c->json, a->exe, "EXE");
    c->json = replace_all(c->json, a->inv, "INV");
  }
  mn_invocation_release(&out);
}

struct runner {
  struct world *w;
  struct call *c;
  pthread_barrier_t *go;
};

static void *runner(void *arg) {
  struct runner *r = arg;
  pthread_barrier_wait(r->go);
  run_call(r->w, r->c);
  return NULL;
}

static void run_concurrently(struct world *w, struct call *calls, size_t n) {
  pthread_t th[64];
  struct runner rs[64];
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, (unsigned)n);
  for (size_t i = 0; i < n; i++) {
    rs[i] = (struct runner){w, &calls[i], &go};
    assert_int_equal(pthread_create(&th[i], NULL, runner, &rs[i]), 0);
  }
  for (size_t i = 0; i < n; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&go);
}

/* The attempts of one world, in the states the calls below expect. */
enum { FRESH = 0, N_FRESH = 16, REPLAY = 16, TWICE = 17, STARTED = 18, FINISHED = 19,
       TERMINATED = 20, NOT_STARTED = 21, RUNNING0 = 22, N_RUNNING = 6, TERMINATED_STARTED = 28,
       N_ATTEMPTS = 29 };

static void build_world(struct world *w, char tag) {
  struct mn_function_key fk = {"gp", vid, "f"};
  for (int i = 0; i < N_ATTEMPTS; i++) {
    w->at[i] = new_attempt(1000 + i);
    snprintf(w->keys[i], sizeof w->keys[i], "%c%063d", tag, i);
    bool applied = false;
    assert_int_equal(mn_store_set_execution_key(store, &fk, w->at[i].inv, w->at[i].exe,
                                                w->keys[i], &applied), 0);
    assert_true(applied);
  }
  struct mn_invocation x = {0};
  assert_int_equal(mn_store_claim_execution(store, &fk, w->at[REPLAY].inv, w->at[REPLAY].exe,
                                            NULL, "tok-replay", 2000, &x), 0);
  mn_invocation_release(&x);
  assert_int_equal(mn_store_start_execution(store, &fk, w->at[STARTED].inv, w->at[STARTED].exe,
                                            2001, &x), 0);
  mn_invocation_release(&x);
  assert_int_equal(mn_store_start_execution(store, &fk, w->at[FINISHED].inv,
                                            w->at[FINISHED].exe, 2002, &x), 0);
  mn_invocation_release(&x);
  assert_int_equal(mn_store_finish_execution(store, &fk, w->at[FINISHED].inv,
                                             w->at[FINISHED].exe, NULL, MN_OUTCOME_SUCCEEDED,
                                             "done", NULL, 2003, &x), 0);
  mn_invocation_release(&x);
  bool applied = false;
  assert_int_equal(mn_store_transition_execution(store, &fk, w->at[TERMINATED].inv,
                                                 w->at[TERMINATED].exe, MN_WORKER_PENDING,
                                                 MN_WORKER_TERMINATED, NULL, NULL, 2004,
                                                 &applied), 0);
  assert_true(applied);
  assert_int_equal(mn_store_start_execution(store, &fk, w->at[TERMINATED_STARTED].inv,
                                            w->at[TERMINATED_STARTED].exe, 2004, &x), 0);
  mn_invocation_release(&x);
  assert_int_equal(mn_store_transition_execution(store, &fk, w->at[TERMINATED_STARTED].inv,
                                                 w->at[TERMINATED_STARTED].exe, MN_WORKER_PENDING,
                                                 MN_WORKER_TERMINATED, NULL, NULL, 2004,
                                                 &applied), 0);
  assert_true(applied);
  for (int i = RUNNING0; i < RUNNING0 + N_RUNNING; i++) {
    assert_int_equal(mn_store_start_execution(store, &fk, w->at[i].inv, w->at[i].exe, 2005 + i,
                                              &x), 0);
    mn_invocation_release(&x);
  }
}

/* The calls, for a world (keys are the world's own). */
static size_t mixed_calls(struct world *w, struct call *c) {
  size_t n = 0;
  for (int i = FRESH; i < FRESH + N_FRESH; i++) /* claims, half with their key */
    c[n++] = (struct call){.target = i, .token = i % 2 ? "tok" : NULL,
                           .key = i % 4 < 2 ? w->keys[i] : NULL, .now = 3000 + i};
  c[n++] = (struct call){.target = REPLAY, .token = "tok-replay", .now = 3100};
  c[n++] = (struct call){.target = REPLAY, .token = "tok-replay", .key = w->keys[REPLAY],
                         .now = 3101};
  c[n++] = (struct call){.target = TWICE, .token = "tok-twice", .now = 3102};
  c[n++] = (struct call){.target = TWICE, .token = "tok-twice", .now = 3102};
  c[n++] = (struct call){.target = STARTED, .now = 3103};
  c[n++] = (struct call){.target = FINISHED, .token = "tok", .now = 3104};
  c[n++] = (struct call){.target = TERMINATED, .now = 3105};
  c[n++] = (struct call){.target = FRESH, .key = "0000", .now = 3106};     /* wrong key */
  c[n++] = (struct call){.target = -1, .now = 3107};                       /* unknown */
  c[n++] = (struct call){.finish = true, .target = NOT_STARTED, .outcome = MN_OUTCOME_FAILED,
                         .now = 3108};
  c[n++] = (struct call){.finish = true, .target = FINISHED, .outcome = MN_OUTCOME_FAILED,
                         .now = 3109};
  c[n++] = (struct call){.finish = true, .target = TERMINATED, .outcome = MN_OUTCOME_FAILED,
                         .now = 3110};
  c[n++] = (struct call){.finish = true, .target = TERMINATED_STARTED,
                         .outcome = MN_OUTCOME_FAILED, .now = 3110};
  c[n++] = (struct call){.finish = true, .target = -1, .outcome = MN_OUTCOME_FAILED,
                         .now = 3111};
  c[n++] = (struct call){.finish = true, .target = RUNNING0, .key = "0000",
                         .outcome = MN_OUTCOME_FAILED, .now = 3112};
  static const char *outputs[] = {"plain", "quote \" and \\ backslash, {braces}", NULL,
                                  "NULL", "caf\xc3\xa9 \xe2\x82\xac", ""};
  for (int i = 1; i < N_RUNNING; i++)
    c[n++] = (struct call){.finish = true, .target = RUNNING0 + i,
                           .key = i % 2 ? w->keys[RUNNING0 + i] : NULL,
                           .outcome = i % 3 ? MN_OUTCOME_SUCCEEDED : MN_OUTCOME_ABORTED,
                           .final_output = outputs[i], .error_message = i == 3 ? "it {\"broke\"}" : NULL,
                           .now = 3200 + i};
  return n;
}

static void test_same_answers(void **state) {
  (void)state;
  static struct world one, many;
  build_world(&one, 'a');
  build_world(&many, 'b');
  struct call alone[64], together[64];
  size_t n = mixed_calls(&one, alone);
  assert_int_equal(mixed_calls(&many, together), n);
  for (size_t i = 0; i < n; i++)
    run_call(&one, &alone[i]);
  run_concurrently(&many, together, n);
  for (size_t i = 0; i < n; i++) {
    if (alone[i].rc != together[i].rc || (alone[i].json && strcmp(alone[i].json, together[i].json)))
      fprintf(stderr, "call %zu: alone %d %s\n  together %d %s\n", i, alone[i].rc,
              alone[i].json ? alone[i].json : "", together[i].rc,
              together[i].json ? together[i].json : "");
    assert_int_equal(alone[i].rc, together[i].rc);
    if (alone[i].json)
      assert_string_equal(alone[i].json, together[i].json);
  }
  /* the calls meant what they say */
  size_t k = N_FRESH;
  assert_int_equal(alone[k].rc, 0);                             /* replay */
  assert_int_equal(alone[k + 1].rc, 0);                         /* replay, with its key */
  assert_int_equal(alone[k + 2].rc, 0);                         /* twice */
  assert_int_equal(alone[k + 3].rc, 0);                         /* twice, again */
  assert_int_equal(alone[k + 4].rc, MN_EEXECUTION_STARTED);
  assert_int_equal(alone[k + 5].rc, MN_EEXECUTION_STARTED);     /* finished */
  assert_int_equal(alone[k + 6].rc, MN_EEXECUTION_TERMINATED);
  assert_int_equal(alone[k + 7].rc, MN_EAPI_KEY_INVALID);
  assert_int_equal(alone[k + 8].rc, MN_EEXECUTION_NOT_FOUND);
  assert_int_equal(alone[k + 9].rc, MN_EEXECUTION_NOT_STARTED);
  assert_int_equal(alone[k + 10].rc, MN_EEXECUTION_FINISHED);
  assert_int_equal(alone[k + 11].rc, MN_EEXECUTION_NOT_STARTED); /* terminated before */
  assert_int_equal(alone[k + 12].rc, MN_EEXECUTION_TERMINATED);
  assert_int_equal(alone[k + 13].rc, MN_EEXECUTION_NOT_FOUND);
  assert_int_equal(alone[k + 14].rc, MN_EAPI_KEY_INVALID);
  for (size_t i = 0; i < n; i++) {
    if (i < N_FRESH || i >= k + 15)
      assert_int_equal(alone[i].rc, 0);
    free(alone[i].json);
    free(together[i].json);
  }
}

/* Two claimants of one execution at once: exactly one wins, the other is
 * told it started. */
static void test_two_claimants(void **state) {
  (void)state;
  struct world w;
  w.at[0] = new_attempt(5000);
  struct call c[2] = {{.target = 0, .token = "one", .now = 5001},
                      {.target = 0, .token = "two", .now = 5002}};
  run_concurrently(&w, c, 2);
  assert_true((c[0].rc == 0 && c[1].rc == MN_EEXECUTION_STARTED) ||
              (c[1].rc == 0 && c[0].rc == MN_EEXECUTION_STARTED));
  free(c[0].json);
  free(c[1].json);
}

/* N claims, then N finishes, all at once: each answered as the execution
 * now is, in far fewer than N statements. */
static void test_fewer_statements(void **state) {
  (void)state;
  static struct world w;
  struct mn_function_key fk = {"gp", vid, "f"};
  for (int i = 0; i < N; i++)
    w.at[i] = new_attempt(6000 + i);
  struct call c[N];
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < N; i++)
      c[i] = (struct call){.finish = round == 1, .target = i, .token = "tok",
                           .outcome = MN_OUTCOME_SUCCEEDED, .final_output = "out",
                           .now = 7000 + 100 * round + i};
    uint64_t before = statements();
    run_concurrently(&w, c, N);
    uint64_t used = statements() - before;
    fprintf(stderr, "%d concurrent %s: %llu statements\n", N, round ? "finishes" : "claims",
            (unsigned long long)used);
    assert_true(used <= N / 2);
    for (int i = 0; i < N; i++) {
      assert_int_equal(c[i].rc, 0);
      struct mn_invocation x = {0};
      assert_int_equal(mn_store_get_execution(store, &fk, w.at[i].inv, w.at[i].exe, &x), 0);
      json_t *j = mn_json_execution_info(&x);
      char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
      json_decref(j);
      s = replace_all(s, w.at[i].exe, "EXE");
      s = replace_all(s, w.at[i].inv, "INV");
      assert_string_equal(s, c[i].json);
      free(s);
      free(c[i].json);
      mn_invocation_release(&x);
    }
  }
}

/* CPU (clock ticks) of the Postgres backends serving this database. */
static long backend_ticks(PGconn *pg) {
  PGresult *r = PQexec(pg, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
  long sum = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/stat", PQgetvalue(r, i, 0));
    FILE *f = fopen(path, "r");
    unsigned long ut = 0, st = 0;
    if (f && fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
      sum += (long)(ut + st);
    if (f)
      fclose(f);
  }
  PQclear(r);
  return sum;
}

/* Not a test (skipped unless MN_GROUP_BENCH is set, bench/README.md "Group
 * commit of /start and /finish"): rounds of N claims then N finishes, all
 * at once, grouped (the version by id) and alone ("latest"), alternately;
 * prints Postgres's CPU, statements and wall time per execution. */
static void bench_grouped_vs_alone(void **state) {
  (void)state;
  const char *env = getenv("MN_GROUP_BENCH");
  if (!env)
    skip();
  int rounds = atoi(env) > 0 ? atoi(env) : 10;
  PGconn *pg = PQconnectdb(mn_testdb_dsn());
  assert_int_equal(PQstatus(pg), CONNECTION_OK);
  long ticks[2] = {0}, hz = sysconf(_SC_CLK_TCK);
  uint64_t stmts[2] = {0};
  int64_t wall[2] = {0};
  static struct world w;
  struct call c[N];
  for (int r = 0; r < 2 * rounds; r++) {
    int alone = r % 2;
    for (int i = 0; i < N; i++)
      w.at[i] = new_attempt(8000 + i);
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < N; i++)
        c[i] = (struct call){.finish = round == 1, .target = i, .token = "tok",
                             .outcome = MN_OUTCOME_SUCCEEDED, .final_output = "out",
                             .now = 9000 + i, .latest = alone};
      long t0 = backend_ticks(pg);
      uint64_t s0 = statements();
      int64_t w0 = mn_monotonic_us();
      run_concurrently(&w, c, N);
      wall[alone] += mn_monotonic_us() - w0;
      stmts[alone] += statements() - s0;
      ticks[alone] += backend_ticks(pg) - t0;
      for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].rc, 0);
        free(c[i].json);
      }
    }
  }
  double n = (double)rounds * N;
  for (int alone = 0; alone < 2; alone++)
    fprintf(stderr, "%s: Postgres %.3f ms CPU, %.2f statements, %.3f ms wall per execution "
            "(claim + finish, %d at once, %d rounds)\n", alone ? "alone" : "grouped",
            ticks[alone] * 1000.0 / hz / n, stmts[alone] / n, wall[alone] / 1000.0 / n, N, rounds);
  PQfinish(pg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_answers),
      cmocka_unit_test(test_two_claimants),
      cmocka_unit_test(test_fewer_statements),
      cmocka_unit_test(bench_grouped_vs_alone),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
