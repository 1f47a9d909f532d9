/* conformance.c — the provider conformance suite (issue 17 item 5): every
 * contract include/multinode/provider.h states, checked against one
 * provider loaded by the daemon's own plugin host. A provider is done when
 * it passes. Run through tests/conformance/run.sh (ctest conformance.*):
 *
 *   conformance CONFIG BAD_CONFIG WORK
 *
 * CONFIG is a daemon configuration whose default provider is the one under
 * test; BAD_CONFIG the same with an unknown key in its section. The
 * environment tunes what the backend can do (see run.sh). Every failure
 * reads "contract broken: <the contract>: <what happened>". */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conformance.h"
#include "plugin/handle.h"
#include "plugin/launch_spec.h"

#define C_IDEMPOTENT "launch is idempotent on the execution id"
#define C_MISSING "a worker the provider does not know is MISSING, which is not an error"
#define C_TERMINATE_GONE "terminating a worker that already exited or is gone is success"
#define C_RELEASE_GONE "release is idempotent; a worker that is already gone is success"
#define C_TERMINATE_NOWAIT "terminate returns without waiting for the worker to exit"
#define C_TERMINATE_STOPS "terminate stops the worker (a hard kill once grace_seconds passed)"
#define C_LOG_OFFSETS "log offsets round-trip: reading from a next_offset continues exactly"
#define C_LOG_CONTENT "logs return the worker's output, in order"
#define C_LOG_AFTER "logs work after the worker exited and after release"
#define C_LOG_BAD_OFFSET "logs: an offset this provider never produced is INVALID"
#define C_LOG_UNKNOWN "logs of a worker that does not exist: NOT_FOUND (or no lines)"
#define C_LIST_OWNED "list_owned finds exactly this instance's workers (host->cluster_id)"
#define C_LIST_RELEASED "list_owned lists workers not yet released (or, after release, EXITED)"
#define C_LIST_STOP "list_owned stops early when cb returns nonzero, and then returns 0"
#define C_429 "HTTP 429 is TRANSIENT with retry_after_us from its Retry-After"
#define C_5XX "a server error (5xx) is TRANSIENT, with a message"
#define C_AUTH "refused credentials are AUTH, with a message"
#define C_PREPARE "prepare is idempotent"
#define C_EXIT_CODE "EXITED carries the process's exit status"
#define C_CHECK_CONFIG "check_config validates and nothing more: no files written"
#define C_OUTAGE "init does not fail for a transient outage; calls then are TRANSIENT"
#define C_INVALID "a request that can never succeed is INVALID, with a message"
#define C_INIT_KEYS "init validates its section: an unknown key is INVALID, at file:line:col"
#define C_RESTART "workers keep running across shutdown; a restarted provider finds them"

/* Prints a start line, then "conformance line 1".."7", and exits 0. */
#define LOG_SCRIPT                                                             \
  "echo \"conformance start $MULTINODE_EXECUTION_ID\"; i=1; "                  \
  "while [ $i -le 7 ]; do echo \"conformance line $i\"; i=$((i + 1)); done"
/* Prints a start line, then ignores SIGTERM for at most 30 s. */
#define HOLD_SCRIPT                                                            \
  "echo \"conformance start $MULTINODE_EXECUTION_ID\"; trap '' TERM; i=0; "    \
  "while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done"

static struct cf_instance inst_a, inst_b;
static struct cf_function fn_log, fn_hold;

static bool has_cap(const struct cf_instance *in, uint64_t cap) {
  return (mn_provider_caps(in->h) & cap) != 0;
}

/* ---------------------------------------------------------------------- */

struct launch_job {
  struct cf_instance *in;
  struct cf_function *f;
  const char *id;
  struct mn_worker_ref ref;
  struct mn_provider_error err;
  int rc;
};

static void *launch_thread(void *arg) {
  struct launch_job *j = arg;
  struct mn_launch_buf buf;
  struct mn_error e = {0};
  if (mn_launch_spec_build(&buf, j->in->h, &j->f->inv, j->id, "mnx_conformance", &e) != 0) {
    j->rc = MN_PROVIDER_E_INVALID;
    snprintf(j->err.msg, sizeof j->err.msg, "%s", e.msg);
    return NULL;
  }
  /* TRANSIENT may come at any time (the daemon retries): so here */
  int64_t deadline = cf_now_ms() + CF_WAIT_MS;
  while ((j->rc = mn_provider_launch(j->in->h, &buf.spec, &j->ref, &j->err)) ==
             MN_PROVIDER_E_TRANSIENT &&
         cf_now_ms() < deadline)
    cf_pause_ms(50);
  mn_launch_buf_release(&buf);
  return NULL;
}

struct owned {
  const char *count_id; /* count the entries of this execution */
  size_t n_count;
  struct cf_instance *in; /* check every entry belongs to it */
  struct cf_instance *other;
  size_t n, stop_after;
  char seen[CF_MAX_WORKERS * 2][64];
  size_t n_seen;
};

static int owned_cb(void *ctx, const struct mn_owned_worker *w) {
  struct owned *o = ctx;
  o->n++;
  if (o->count_id && strcmp(w->execution_id, o->count_id) == 0)
    o->n_count++;
  if (o->n_seen < sizeof o->seen / sizeof o->seen[0])
    snprintf(o->seen[o->n_seen++], sizeof o->seen[0], "%s", w->execution_id);
  if (o->in) {
    size_t i = 0;
    while (i < o->in->n_workers && strcmp(o->in->workers[i].execution_id, w->execution_id) != 0)
      i++;
    bool other = false;
    for (size_t k = 0; o->other && k < o->other->n_workers; k++)
      other |= strcmp(o->other->workers[k].execution_id, w->execution_id) == 0;
    CONTRACT(!other, C_LIST_OWNED,
             "cluster %s listed %s, a worker of the instance with cluster %s", o->in->cluster,
             w->execution_id, o->other->cluster);
    CONTRACT(i < o->in->n_workers, C_LIST_OWNED,
             "cluster %s listed execution \"%s\", which it never launched", o->in->cluster,
             w->execution_id);
    CONTRACT(strcmp(o->in->workers[i].ref.identifier, w->ref.identifier) == 0, C_LIST_OWNED,
             "execution %s listed as worker \"%s\", launched as \"%s\"", w->execution_id,
             w->ref.identifier, o->in->workers[i].ref.identifier);
    CONTRACT(!o->in->workers[i].released || w->state.phase == MN_WORKER_PHASE_EXITED,
             C_LIST_RELEASED, "execution %s (%s) is listed after its release, with phase %d",
             w->execution_id, w->ref.identifier, w->state.phase);
  }
  return o->stop_after && o->n >= o->stop_after;
}

static void list(struct cf_instance *in, struct owned *o) {
  struct mn_provider_error err;
  int rc = mn_provider_list_owned(in->h, owned_cb, o, &err);
  CONTRACT(rc == 0, C_LIST_OWNED, "list_owned failed (%s): %s", mn_provider_strerror(rc),
           err.msg);
}

/* ---------------------------------------------------------------------- */

/* Five launches of one execution, four of them at once, the last perhaps
 * after the worker exited: one worker, started once. */
static void test_launch_idempotent(void **unused) {
  (void)unused;
  struct cf_instance *in = &inst_a;
  struct launch_job jobs[4];
  pthread_t threads[4];
  char id[64];
  struct mn_provider_error err;
  struct mn_worker_ref again;
  cf_new_id(id);
  for (int i = 0; i < 2; i++) { /* twice, as after a failure */
    in->prepared_for = NULL;
    int rc = cf_prepare(in, &fn_log, &err);
    CONTRACT(rc == 0, C_PREPARE, "prepare #%d of function %s failed (%s): %s", i + 1,
             fn_log.name, mn_provider_strerror(rc), err.msg);
  }
  for (int i = 0; i < 4; i++) {
    jobs[i] = (struct launch_job){.in = in, .f = &fn_log, .id = id};
    assert_int_equal(pthread_create(&threads[i], NULL, launch_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(threads[i], NULL);
  for (int i = 0; i < 4; i++)
    CONTRACT(jobs[i].rc == 0, C_IDEMPOTENT, "one of 4 concurrent launches of %s failed (%s): %s",
             id, mn_provider_strerror(jobs[i].rc), jobs[i].err.msg);
  cf_launch_ok(in, &fn_log, id, &again);
  for (int i = 0; i < 4; i++)
    CONTRACT(strcmp(jobs[i].ref.identifier, again.identifier) == 0 &&
                 strcmp(jobs[i].ref.logs_identifier, again.logs_identifier) == 0,
             C_IDEMPOTENT, "launches of %s returned workers \"%s\" and \"%s\"", id,
             jobs[i].ref.identifier, again.identifier);
  if (has_cap(in, MN_PROVIDER_CAP_LIST_OWNED)) {
    struct owned o = {.count_id = id};
    list(in, &o);
    CONTRACT(o.n_count == 1, C_IDEMPOTENT, "list_owned shows %zu workers of execution %s",
             o.n_count, id);
  }
  if (!cf.fake_workers && has_cap(in, MN_PROVIDER_CAP_LOGS)) {
    cf_wait_phase(in, &again, MN_WORKER_PHASE_EXITED);
    json_t *lines = cf_wait_log(in, &again, "conformance line 7");
    size_t starts = cf_count_lines(lines, "conformance start");
    json_decref(lines);
    CONTRACT(starts == 1, C_IDEMPOTENT,
             "5 launches of %s started the function %zu times (its log shows %zu starts)", id,
             starts, starts);
    /* Once more now that nothing of it runs: the count above can miss a
     * second worker that a concurrent launch started and another one's set-up
     * ended before it printed; after the exit nothing can. */
    struct mn_worker_ref late;
    cf_launch_ok(in, &fn_log, id, &late);
    struct mn_worker_state lst = cf_wait_phase(in, &late, MN_WORKER_PHASE_EXITED);
    /* a second worker may also be ended by the first one's clean-up before it
     * prints: then the outcome shows it */
    CONTRACT(lst.exit_code == 0, C_IDEMPOTENT,
             "a launch of %s after its worker exited changed its outcome: exit_code %d (%s)", id,
             lst.exit_code, lst.reason);
    lines = cf_wait_log(in, &late, "conformance line 7");
    starts = cf_count_lines(lines, "conformance start");
    json_decref(lines);
    CONTRACT(starts == 1, C_IDEMPOTENT,
             "a launch of %s after its worker exited started the function again (its log "
             "shows %zu starts)", id, starts);
  }
}

/* inspect, terminate, release and logs of a worker nobody started. */
static void test_unknown_worker(void **unused) {
  (void)unused;
  struct cf_instance *in = &inst_a;
  struct mn_worker_ref refs[3];
  struct mn_worker_state st[3];
  struct mn_provider_error err;
  char id[64];
  cf_new_id(id);
  cf_launch_ok(in, &fn_log, id, &refs[0]);
  cf_unknown_ref(&refs[0], id, &refs[1]);
  refs[2] = refs[0];
  int rc = mn_provider_inspect_many(in->h, refs, 3, st, &err);
  CONTRACT(rc == 0, C_MISSING, "inspect_many of [known, unknown \"%s\", known] failed (%s): %s",
           refs[1].identifier, mn_provider_strerror(rc), err.msg);
  CONTRACT(st[1].phase == MN_WORKER_PHASE_MISSING, C_MISSING,
           "worker \"%s\" (never launched) has phase %d", refs[1].identifier, st[1].phase);
  CONTRACT(st[0].phase != MN_WORKER_PHASE_MISSING && st[2].phase != MN_WORKER_PHASE_MISSING,
           C_MISSING, "the known worker \"%s\" is MISSING beside an unknown one (%s)",
           refs[0].identifier, st[0].reason);
  rc = mn_provider_terminate(in->h, &refs[1], 0, &err);
  CONTRACT(rc == 0, C_TERMINATE_GONE, "terminate of unknown \"%s\": %s: %s", refs[1].identifier,
           mn_provider_strerror(rc), err.msg);
  rc = mn_provider_release(in->h, &refs[1], &err);
  CONTRACT(rc == 0, C_RELEASE_GONE, "release of unknown \"%s\": %s: %s", refs[1].identifier,
           mn_provider_strerror(rc), err.msg);
  if (has_cap(in, MN_PROVIDER_CAP_LOGS)) {
    json_t *lines = NULL;
    char *next = NULL;
    rc = mn_provider_logs(in->h, &refs[1], NULL, 10, &lines, &next, &err);
    CONTRACT(rc == MN_PROVIDER_E_NOT_FOUND || (rc == 0 && json_array_size(lines) == 0),
             C_LOG_UNKNOWN, "logs of unknown \"%s\": %s (%zu lines): %s", refs[1].logs_identifier,
             mn_provider_strerror(rc), json_array_size(lines), err.msg);
    json_decref(lines);
    free(next);
  }
}

/* A worker that ignores SIGTERM: terminate returns at once, the hard kill
 * follows the grace; then terminate and release again, all successes. */
static void test_terminate_release(void **unused) {
  (void)unused;
  struct cf_instance *in = &inst_a;
  struct mn_worker_ref ref;
  struct mn_provider_error err;
  char id[64];
  cf_new_id(id);
  cf_launch_ok(in, &fn_hold, id, &ref);
  cf_wait_phase(in, &ref, MN_WORKER_PHASE_RUNNING);
  if (!cf.fake_workers && has_cap(in, MN_PROVIDER_CAP_LOGS))
    json_decref(cf_wait_log(in, &ref, "conformance start")); /* its trap is set */
  int64_t t0 = cf_now_ms();
  int rc = mn_provider_terminate(in->h, &ref, 2, &err);
  int64_t took = cf_now_ms() - t0;
  CONTRACT(rc == 0, C_TERMINATE_STOPS, "terminate of running \"%s\" failed (%s): %s",
           ref.identifier, mn_provider_strerror(rc), err.msg);
  CONTRACT(took < 1900, C_TERMINATE_NOWAIT, "terminate with a grace of 2 s took %lld ms",
           (long long)took);
  cf_wait_gone(in, &ref, C_TERMINATE_STOPS);
  struct mn_worker_state st;
  rc = mn_provider_terminate(in->h, &ref, 2, &err);
  CONTRACT(rc == 0, C_TERMINATE_GONE, "terminate of exited \"%s\": %s: %s", ref.identifier,
           mn_provider_strerror(rc), err.msg);
  rc = cf_release(in, &ref, &err);
  CONTRACT(rc == 0, C_RELEASE_GONE, "release of exited \"%s\": %s: %s", ref.identifier,
           mn_provider_strerror(rc), err.msg);
  rc = cf_release(in, &ref, &err);
  CONTRACT(rc == 0, C_RELEASE_GONE, "a second release of \"%s\": %s: %s", ref.identifier,
           mn_provider_strerror(rc), err.msg);
  rc = mn_provider_terminate(in->h, &ref, 0, &err);
  CONTRACT(rc == 0, C_TERMINATE_GONE, "terminate of released \"%s\": %s: %s", ref.identifier,
           mn_provider_strerror(rc), err.msg);
  st = cf_inspect1(in, &ref);
  CONTRACT(st.phase == MN_WORKER_PHASE_EXITED || st.phase == MN_WORKER_PHASE_MISSING,
           C_RELEASE_GONE, "released worker \"%s\" has phase %d", ref.identifier, st.phase);
}

/* The whole log, at once and two lines at a time; from an offset twice;
 * after release; a made-up offset. */
static void test_logs(void **unused) {
  (void)unused;
  struct cf_instance *in = &inst_a;
  struct mn_worker_ref ref;
  struct mn_provider_error err;
  char id[64];
  if (!has_cap(in, MN_PROVIDER_CAP_LOGS))
    skip();
  cf_new_id(id);
  cf_launch_ok(in, &fn_log, id, &ref);
  struct mn_worker_state st = cf_wait_phase(in, &ref, MN_WORKER_PHASE_EXITED);
  CONTRACT(cf.fake_workers || st.exit_code == 0, C_EXIT_CODE,
           "worker \"%s\" of a command that exits 0 has exit_code %d (%s)", ref.identifier,
           st.exit_code, st.reason);
  json_t *all = cf.fake_workers ? cf_log_all(in, &ref, 1000, C_LOG_CONTENT)
                                : cf_wait_log(in, &ref, "conformance line 7");
  char *text = json_dumps(all, 0);
  if (!cf.fake_workers) {
    size_t at = 0, i;
    json_t *v;
    json_array_foreach(all, i, v) {
      char want[32];
      snprintf(want, sizeof want, "conformance line %zu", at + 1);
      if (strstr(json_string_value(v), want))
        at++;
    }
    CONTRACT(at == 7 && cf_count_lines(all, "conformance line") == 7, C_LOG_CONTENT,
             "the log of %s should hold \"conformance line 1\"..\"7\" once each, in order: %s",
             ref.identifier, text);
  }
  CONTRACT(json_array_size(all) >= 3, C_LOG_CONTENT, "the log of %s is too short to page: %s",
           ref.identifier, text);
  json_t *paged = cf_log_all(in, &ref, 2, C_LOG_OFFSETS);
  char *paged_text = json_dumps(paged, 0);
  CONTRACT(json_equal(all, paged), C_LOG_OFFSETS, "read whole: %s; two lines a page: %s", text,
           paged_text);
  free(paged_text);
  json_decref(paged);

  /* the same offset twice: the same lines */
  json_t *first, *l1, *l2;
  char *next, *n1, *n2;
  int rc = mn_provider_logs(in->h, &ref, NULL, 1, &first, &next, &err);
  CONTRACT(rc == 0, C_LOGS, "logs from the start: %s: %s", mn_provider_strerror(rc), err.msg);
  CONTRACT(next != NULL, C_LOG_OFFSETS, "a page of 1 of a %zu-line log has no next_offset",
           json_array_size(all));
  rc = mn_provider_logs(in->h, &ref, next, 2, &l1, &n1, &err);
  CONTRACT(rc == 0, C_LOG_OFFSETS, "logs from \"%s\": %s: %s", next, mn_provider_strerror(rc),
           err.msg);
  rc = mn_provider_logs(in->h, &ref, next, 2, &l2, &n2, &err);
  CONTRACT(rc == 0, C_LOG_OFFSETS, "logs from \"%s\" again: %s: %s", next,
           mn_provider_strerror(rc), err.msg);
  CONTRACT(json_equal(l1, l2) && json_equal(json_array_get(l1, 0), json_array_get(all, 1)),
           C_LOG_OFFSETS, "reading twice from offset \"%s\" gave different lines", next);
  json_decref(first);
  json_decref(l1);
  json_decref(l2);
  free(next);
  free(n1);
  free(n2);

  json_t *lines = NULL;
  rc = mn_provider_logs(in->h, &ref, "conformance-made-up-offset", 5, &lines, &next, &err);
  CONTRACT(rc == MN_PROVIDER_E_INVALID, C_LOG_BAD_OFFSET,
           "offset \"conformance-made-up-offset\" gave %s (%zu lines): %s",
           mn_provider_strerror(rc), json_array_size(lines), err.msg);
  json_decref(lines);
  free(next);

  rc = cf_release(in, &ref, &err);
  CONTRACT(rc == 0, C_RELEASE_GONE, "release of exited \"%s\": %s: %s", ref.identifier,
           mn_provider_strerror(rc), err.msg);
  json_t *after = cf_log_all(in, &ref, 1000, C_LOG_AFTER);
  char *after_text = json_dumps(after, 0);
  CONTRACT(json_equal(all, after), C_LOG_AFTER, "before release: %s; after: %s", text,
           after_text);
  free(after_text);
  json_decref(after);
  free(text);
  json_decref(all);
}

/* Two daemons (two cluster ids): each lists its own workers, all of them
 * not yet released, and nothing else. */
static void test_list_owned(void **unused) {
  (void)unused;
  struct mn_worker_ref a1, a2, b1;
  struct mn_provider_error err;
  char ia1[64], ia2[64], ib1[64];
  if (!has_cap(&inst_a, MN_PROVIDER_CAP_LIST_OWNED))
    skip();
  cf_new_id(ia1);
  cf_new_id(ia2);
  cf_new_id(ib1);
  cf_launch_ok(&inst_a, &fn_hold, ia1, &a1);
  cf_launch_ok(&inst_a, &fn_log, ia2, &a2);
  cf_launch_ok(&inst_b, &fn_hold, ib1, &b1);
  cf_wait_phase(&inst_a, &a1, MN_WORKER_PHASE_RUNNING);
  cf_wait_phase(&inst_b, &b1, MN_WORKER_PHASE_RUNNING);

  struct cf_instance *ins[2] = {&inst_a, &inst_b};
  for (int k = 0; k < 2; k++) {
    struct owned o = {.in = ins[k], .other = ins[1 - k]};
    list(ins[k], &o);
    for (size_t i = 0; i < ins[k]->n_workers; i++) {
      if (ins[k]->workers[i].released)
        continue;
      bool seen = false;
      for (size_t s = 0; s < o.n_seen; s++)
        seen |= strcmp(o.seen[s], ins[k]->workers[i].execution_id) == 0;
      if (seen)
        continue;
      /* a terminated worker may be gone (MISSING): then it is not listed */
      struct mn_worker_state st = cf_inspect1(ins[k], &ins[k]->workers[i].ref);
      CONTRACT(st.phase == MN_WORKER_PHASE_MISSING, C_LIST_OWNED,
               "cluster %s did not list execution %s (worker \"%s\", phase %d)",
               ins[k]->cluster, ins[k]->workers[i].execution_id,
               ins[k]->workers[i].ref.identifier, st.phase);
    }
  }
  struct owned one = {.stop_after = 1};
  int rc = mn_provider_list_owned(inst_a.h, owned_cb, &one, &err);
  CONTRACT(rc == 0 && one.n == 1, C_LIST_STOP, "rc %d after %zu calls (cb returned 1 at the first)",
           rc, one.n);

  cf_wait_phase(&inst_a, &a2, MN_WORKER_PHASE_EXITED); /* it ends by itself */
  rc = cf_release(&inst_a, &a2, &err);
  CONTRACT(rc == 0, C_RELEASE_GONE, "release of exited \"%s\": %s: %s", a2.identifier,
           mn_provider_strerror(rc), err.msg);
  struct owned after = {.in = &inst_a, .other = &inst_b};
  list(&inst_a, &after); /* the callback checks it is EXITED if listed */
}

/* 429 with Retry-After, a function that can never run, an unknown key. */
static void test_errors(void **unused) {
  (void)unused;
  struct cf_instance *in = &inst_a;
  struct mn_provider_error err;
  struct mn_worker_ref ref;
  struct mn_worker_state st;
  char id[64];
  int rc;
  static const struct {
    const char *const *cmd;
    int code;
    int64_t retry_after_us; /* -1: any */
    const char *what, *contract;
  } faults[] = {
      {&cf.fault_429, MN_PROVIDER_E_TRANSIENT, 7000000, "429 with Retry-After: 7", C_429},
      {&cf.fault_5xx, MN_PROVIDER_E_TRANSIENT, -1, "a server error (5xx)", C_5XX},
      {&cf.fault_auth, MN_PROVIDER_E_AUTH, -1, "credentials refused", C_AUTH},
  };
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
    if (!(*faults[i].cmd)[0]) {
      print_message("(no fault injection for this provider: %s not checked)\n", faults[i].what);
      continue;
    }
    cf_new_id(id);
    cf_launch_ok(in, &fn_log, id, &ref);
    assert_int_equal(system(*faults[i].cmd), 0);
    rc = mn_provider_inspect_many(in->h, &ref, 1, &st, &err);
    CONTRACT(rc == faults[i].code && err.msg[0] &&
                 (faults[i].retry_after_us < 0 || err.retry_after_us == faults[i].retry_after_us),
             faults[i].contract, "inspect_many answered %s gave %s, retry_after_us %lld: \"%s\"",
             faults[i].what, mn_provider_strerror(rc), (long long)err.retry_after_us, err.msg);
    rc = mn_provider_inspect_many(in->h, &ref, 1, &st, &err);
    CONTRACT(rc == 0, faults[i].contract, "the call after %s failed (%s): %s", faults[i].what,
             mn_provider_strerror(rc), err.msg);
  }

  if (!cf.accepts_any_function) {
    struct cf_function bad;
    cf_function_init(&bad, "bad", NULL, "Not A Valid Image!");
    cf_new_id(id);
    rc = cf_launch(in, &bad, id, &ref, &err);
    CONTRACT(rc == MN_PROVIDER_E_INVALID && err.msg[0], C_INVALID,
             "a function with no command and image \"Not A Valid Image!\" gave %s: \"%s\"",
             mn_provider_strerror(rc), err.msg);
    cf_function_release(&bad);
  }

  struct mn_config cfg;
  struct mn_plugins *ps = NULL;
  struct mn_error e = {0};
  char where[700], fresh[700];
  struct stat sb;
  if (in->h->ops.check_config) {
    snprintf(fresh, sizeof fresh, "%s/check-only", cf.work);
    struct mn_plugin_env env = {.public_url = "http://127.0.0.1:9",
                                .data_dir = fresh,
                                .cluster_id = "conformance-check",
                                .check_only = 1};
    rc = mn_plugins_load(&in->cfg, &env, &ps, &e);
    CONTRACT(rc == 0, C_CHECK_CONFIG, "check_config refused the section init accepted: %s",
             e.msg);
    mn_plugins_free(ps);
    ps = NULL;
    CONTRACT(stat(fresh, &sb) != 0, C_CHECK_CONFIG, "check_config created %s", fresh);
  }
  snprintf(where, sizeof where, "%s:", cf.bad_config);
  assert_int_equal(mn_config_load(cf.bad_config, &cfg, &e), 0);
  for (int check_only = 0; check_only < 2; check_only++) {
    struct mn_plugin_env env = {.public_url = "http://127.0.0.1:9",
                                .data_dir = in->data_dir,
                                .cluster_id = "conformance-bad",
                                .check_only = check_only};
    if (check_only && !in->h->ops.check_config)
      break;
    rc = mn_plugins_load(&cfg, &env, &ps, &e);
    CONTRACT(rc != 0 && strstr(e.msg, "conformance_unknown_key") && strstr(e.msg, where),
             C_INIT_KEYS, "%s with an unknown key: %s", check_only ? "check_config" : "init",
             rc ? e.msg : "accepted");
  }
  mn_config_release(&cfg);
}

/* The backend does not answer: the daemon still starts, and the calls
 * that need the backend are TRANSIENT (retried), not failures. */
static void test_outage(void **unused) {
  (void)unused;
  struct mn_config cfg;
  struct mn_plugins *ps = NULL;
  struct mn_error e = {0};
  struct mn_provider_error err;
  struct mn_worker_state st;
  char dir[700];
  if (!cf.down_config[0])
    skip();
  snprintf(dir, sizeof dir, "%s/down", cf.work);
  assert_int_equal(mn_config_load(cf.down_config, &cfg, &e), 0);
  struct mn_plugin_env env = {.public_url = "http://127.0.0.1:9", .data_dir = dir,
                              .cluster_id = "conformance-down"};
  int rc = mn_plugins_load(&cfg, &env, &ps, &e);
  CONTRACT(rc == 0, C_OUTAGE, "init with the backend down failed: %s", e.msg);
  struct mn_provider_handle *h = mn_plugins_find(ps, NULL);
  const struct mn_worker_ref ref = inst_a.n_workers ? inst_a.workers[0].ref
                                                    : (struct mn_worker_ref){.identifier = "x"};
  rc = mn_provider_inspect_many(h, &ref, 1, &st, &err);
  CONTRACT(rc == MN_PROVIDER_E_TRANSIENT && err.msg[0], C_OUTAGE,
           "inspect_many with the backend down gave %s: \"%s\"", mn_provider_strerror(rc),
           err.msg);
  mn_plugins_free(ps);
  mn_config_release(&cfg);
}

/* shutdown leaves workers running; a new instance (the same cluster and
 * data_dir) finds them, and launching again gives the same worker. */
static void test_restart(void **unused) {
  (void)unused;
  struct cf_instance c;
  struct mn_worker_ref ref, again;
  char cluster[64], id[64];
  if (cf.no_restart)
    skip();
  snprintf(cluster, sizeof cluster, "conf-c-%ld", (long)getpid());
  cf_new_id(id);
  cf_open(&c, cluster);
  cf_launch_ok(&c, &fn_hold, id, &ref);
  cf_wait_phase(&c, &ref, MN_WORKER_PHASE_RUNNING);
  if (!cf.fake_workers && has_cap(&c, MN_PROVIDER_CAP_LOGS))
    json_decref(cf_wait_log(&c, &ref, "conformance start"));
  cf_close(&c);
  cf_open(&c, cluster);
  struct mn_worker_state st = cf_inspect1(&c, &ref);
  CONTRACT(st.phase == MN_WORKER_PHASE_RUNNING, C_RESTART,
           "worker \"%s\" is %d (%s) after a restart of its provider", ref.identifier, st.phase,
           st.reason);
  cf_launch_ok(&c, &fn_hold, id, &again);
  CONTRACT(strcmp(ref.identifier, again.identifier) == 0, C_IDEMPOTENT,
           "launch of %s after a restart gave \"%s\", before \"%s\"", id, again.identifier,
           ref.identifier);
  if (has_cap(&c, MN_PROVIDER_CAP_LIST_OWNED)) {
    struct owned o = {.count_id = id};
    list(&c, &o);
    CONTRACT(o.n_count == 1, C_RESTART, "after a restart list_owned shows %zu workers of %s",
             o.n_count, id);
  }
  if (!cf.fake_workers && has_cap(&c, MN_PROVIDER_CAP_LOGS)) {
    json_t *lines = cf_log_all(&c, &ref, 1000, C_LOG_CONTENT);
    size_t starts = cf_count_lines(lines, "conformance start");
    json_decref(lines);
    CONTRACT(starts == 1, C_IDEMPOTENT, "launches before and after a restart started %s %zu times",
             id, starts);
  }
  cf_cleanup(&c);
  cf_close(&c);
}

/* ---------------------------------------------------------------------- */

static int group_setup(void **unused) {
  (void)unused;
  char a[64], b[64];
  snprintf(a, sizeof a, "conf-a-%ld", (long)getpid());
  snprintf(b, sizeof b, "conf-b-%ld", (long)getpid());
  cf_open(&inst_a, a);
  cf_open(&inst_b, b);
  cf_function_init(&fn_log, "logs", LOG_SCRIPT, cf.image);
  cf_function_init(&fn_hold, "hold", HOLD_SCRIPT, cf.image);
  return 0;
}

static int group_teardown(void **unused) {
  (void)unused;
  cf_cleanup(&inst_a);
  cf_cleanup(&inst_b);
  cf_close(&inst_a);
  cf_close(&inst_b);
  cf_function_release(&fn_log);
  cf_function_release(&fn_hold);
  return 0;
}

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v ? v : fallback;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s CONFIG BAD_CONFIG WORK (run it through tests/conformance/run.sh)\n",
            argv[0]);
    return 2;
  }
  cf.config = argv[1];
  cf.bad_config = argv[2];
  cf.work = argv[3];
  cf.image = env_or("CONFORMANCE_IMAGE", "");
  cf.fault_429 = env_or("CONFORMANCE_FAULT_429", "");
  cf.down_config = env_or("CONFORMANCE_DOWN_CONFIG", "");
  cf.fault_5xx = env_or("CONFORMANCE_FAULT_5XX", "");
  cf.fault_auth = env_or("CONFORMANCE_FAULT_AUTH", "");
  cf.no_restart = env_or("CONFORMANCE_NO_RESTART", "")[0] != '\0';
  cf.accepts_any_function = env_or("CONFORMANCE_ACCEPTS_ANY_FUNCTION", "")[0] != '\0';
  cf.fake_workers = env_or("CONFORMANCE_FAKE_WORKERS", "")[0] != '\0';
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_launch_idempotent), cmocka_unit_test(test_unknown_worker),
      cmocka_unit_test(test_terminate_release), cmocka_unit_test(test_logs),
      cmocka_unit_test(test_list_owned),        cmocka_unit_test(test_errors),
      cmocka_unit_test(test_outage),            cmocka_unit_test(test_restart),
  };
  return cmocka_run_group_tests_name(env_or("CONFORMANCE_PROVIDER", "conformance"), tests,
                                     group_setup, group_teardown);
}
