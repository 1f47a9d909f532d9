/* test_local_zygote.c — what is particular to the local provider's worker
 * spawner (plugins/local/zygote.h): one spawner serves every launch and
 * reports exit statuses; it is restarted after a SIGKILL, before a launch
 * or while workers run (which keep running); shutdown ends it but not the
 * workers; a program that is no spawner, `spawner: false`, another worker
 * and an oversized request all keep fork + exec. The worker is the
 * stand-in (worker/demo/stand_in_worker.c): the real spawner loop whose
 * children exec their command. test_local_provider.c runs the process
 * tests through it as well. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit/support_local_fixture.c"

static const char *stand_in;

/* The spawners this test process has as children (up to max). */
static size_t spawners(pid_t *out, size_t max) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  size_t n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    char *end, cmdline[1024];
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || lfx_parent_of((pid_t)pid) != getpid())
      continue;
    lfx_cmdline((pid_t)pid, cmdline, sizeof cmdline);
    if (strstr(cmdline, "multinode-worker --spawner") && n < max)
      out[n++] = (pid_t)pid;
  }
  closedir(d);
  return n;
}

static pid_t the_spawner(void) {
  pid_t pids[4];
  size_t n = spawners(pids, 4);
  if (n != 1)
    fail_msg("%zu spawner processes, expected 1", n);
  return pids[0];
}

/* 1 once pid has exited (a zombie counts) or is gone. */
static int exited(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  return !p || p[2] == 'Z' || p[2] == 'X';
}

static void wait_exited(pid_t pid) {
  int64_t deadline = lfx_now_ms() + LFX_WAIT_MS;
  while (!exited(pid)) {
    if (lfx_now_ms() > deadline)
      fail_msg("pid %ld did not exit", (long)pid);
    lfx_pause_ms(10);
  }
}

static int setup_spawner(void **tstate) {
  lfx_worker_binary = stand_in;
  return lfx_setup(tstate);
}

static int setup_script(void **tstate) {
  lfx_worker_binary = NULL;
  return lfx_setup(tstate);
}

static void test_one_spawner_serves_every_launch(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref refs[5];
  lfx_provider_start_ok(fx);
  pid_t spawner = the_spawner(); /* started by init, before any launch */
  for (int i = 0; i < 5; i++) {
    char id[32], script[64];
    snprintf(id, sizeof id, "exe-z%d", i);
    snprintf(script, sizeof script, "echo $PPID; exit %d", 10 + i);
    lfx_launch_sh(fx, id, script, &refs[i]);
  }
  for (int i = 0; i < 5; i++) {
    char reason[64];
    struct mn_worker_state st = lfx_wait_exited(fx, &refs[i]);
    snprintf(reason, sizeof reason, "exited with code %d", 10 + i);
    assert_int_equal(st.exit_code, 10 + i); /* the spawner's report */
    assert_string_equal(st.reason, reason);
    assert_int_equal(lfx_log_pid(fx, &refs[i]), spawner);
  }
  assert_int_equal(the_spawner(), spawner);
}

struct launch_arg {
  struct lfx *fx;
  char id[32];
  char script[64];
  struct mn_worker_ref ref;
};

static void *launch_thread(void *varg) {
  struct launch_arg *a = varg;
  lfx_launch_sh(a->fx, a->id, a->script, &a->ref);
  return NULL;
}

static void test_parallel_launches(void **tstate) {
  struct lfx *fx = *tstate;
  struct launch_arg args[16];
  pthread_t threads[16];
  lfx_provider_start_ok(fx);
  for (int i = 0; i < 16; i++) {
    args[i] = (struct launch_arg){.fx = fx};
    snprintf(args[i].id, sizeof args[i].id, "exe-par%d", i);
    snprintf(args[i].script, sizeof args[i].script, "exit %d", i);
    assert_int_equal(pthread_create(&threads[i], NULL, launch_thread, &args[i]), 0);
  }
  for (int i = 0; i < 16; i++)
    pthread_join(threads[i], NULL);
  for (int i = 0; i < 16; i++)
    assert_int_equal(lfx_wait_exited(fx, &args[i].ref).exit_code, i);
  assert_int_equal(lfx_count_logs(fx, "worker spawner pid"), 1); /* one start */
}

static void test_spawner_killed_between_launches(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref a, b;
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-before", "echo $PPID", &a);
  lfx_wait_exited(fx, &a);
  pid_t first = the_spawner();
  assert_int_equal(kill(first, SIGKILL), 0);
  wait_exited(first);

  /* whether or not the monitor noticed yet: the launch starts another */
  lfx_launch_sh(fx, "exe-after", "echo $PPID; exit 4", &b);
  assert_int_equal(lfx_wait_exited(fx, &b).exit_code, 4);
  pid_t second = the_spawner(); /* the dead one was reaped */
  assert_int_not_equal(second, first);
  assert_int_equal(lfx_log_pid(fx, &b), second);
}

static void test_spawner_killed_while_workers_run(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref, next;
  struct mn_provider_error err = {0};
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-orphan", "echo $$; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  pid_t worker = lfx_log_pid(fx, &ref);
  pid_t spawner = the_spawner();
  assert_int_equal(kill(spawner, SIGKILL), 0);
  wait_exited(spawner);

  /* the worker runs on, still watched; the next launch gets a new spawner */
  assert_int_equal(kill(worker, 0), 0);
  assert_int_equal(lfx_inspect1(fx, &ref).phase, MN_WORKER_PHASE_RUNNING);
  lfx_launch_sh(fx, "exe-next", "exit 6", &next);
  assert_int_equal(lfx_wait_exited(fx, &next).exit_code, 6);

  /* its end is still seen, though nobody can tell its status any more */
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 0, &err), 0);
  struct mn_worker_state st = lfx_wait_exited(fx, &ref);
  assert_int_equal(st.exit_code, -1);
  assert_non_null(strstr(st.reason, "exit status is unknown"));
}

static void test_shutdown_ends_spawner_not_workers(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-stays", "echo $$; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  pid_t worker = lfx_log_pid(fx, &ref);
  pid_t spawner = the_spawner();
  lfx_provider_stop(fx);
  assert_int_equal(kill(spawner, 0), -1); /* exited and reaped */
  assert_int_equal(kill(worker, 0), 0);

  lfx_host_reset(fx, "cluster-a");
  lfx_provider_start_ok(fx);
  assert_int_not_equal(the_spawner(), spawner);
  assert_int_equal(lfx_inspect1(fx, &ref).phase, MN_WORKER_PHASE_RUNNING);
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 0, &err), 0);
  assert_int_equal(lfx_wait_exited(fx, &ref).exit_code, -1); /* not our child any more */
  wait_exited(worker);
}

/* A launch that does not go through a spawner: the provider is the parent. */
static void expect_fork_exec(struct lfx *fx, const char *id) {
  struct mn_worker_ref ref;
  lfx_launch_sh(fx, id, "echo $PPID; exit 7", &ref);
  assert_int_equal(lfx_wait_exited(fx, &ref).exit_code, 7);
  assert_int_equal(lfx_log_pid(fx, &ref), getpid());
}

static void test_not_a_spawner_falls_back(void **tstate) {
  struct lfx *fx = *tstate; /* bin_dir/multinode-worker is a shell script */
  pid_t none[1];
  lfx_provider_start_ok(fx);
  assert_non_null(lfx_find_log(fx, "does not run as a spawner (it exited)"));
  expect_fork_exec(fx, "exe-script");
  assert_int_equal(spawners(none, 1), 0);
}

static void test_spawner_off_or_other_worker(void **tstate) {
  struct lfx *fx = *tstate;
  char other[PATH_MAX + 32];
  pid_t none[1];
  lfx_set(fx, "spawner", "false");
  lfx_provider_start_ok(fx);
  assert_int_equal(spawners(none, 1), 0);
  expect_fork_exec(fx, "exe-off");
  lfx_provider_stop(fx);

  /* the same program under another name is not "the built-in worker" */
  snprintf(other, sizeof other, "%s/other-worker", fx->bin_dir);
  assert_int_equal(symlink(stand_in, other), 0);
  lfx_host_reset(fx, "cluster-a");
  lfx_set(fx, "worker", other);
  lfx_provider_start_ok(fx);
  assert_int_equal(spawners(none, 1), 0);
  expect_fork_exec(fx, "exe-other");
}

static void test_oversized_request_falls_back(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  static char big[4][40 * 1024];
  struct mn_kv env[4];
  lfx_provider_start_ok(fx);
  pid_t spawner = the_spawner();
  for (int i = 0; i < 4; i++) {
    memset(big[i], 'x', sizeof big[i] - 1);
    big[i][sizeof big[i] - 1] = '\0';
    env[i] = (struct mn_kv){i == 0 ? "BIG0" : i == 1 ? "BIG1" : i == 2 ? "BIG2" : "BIG3", big[i]};
  }
  const char *cmd[] = {"sh", "-c", "echo $PPID; echo ${#BIG3}"};
  lfx_launch_env(fx, "exe-big", cmd, 3, 0, env, 4, &ref); /* 160 KiB: more than one request */
  lfx_wait_exited(fx, &ref);
  assert_int_equal(lfx_log_pid(fx, &ref), getpid());
  lfx_wait_log(fx, &ref, "\n40959\n");
  assert_int_equal(the_spawner(), spawner); /* still there for the next launch */
}

int main(void) {
  if (!(stand_in = lfx_stand_in_worker()))
    return 1;
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_one_spawner_serves_every_launch, setup_spawner,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_parallel_launches, setup_spawner, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_spawner_killed_between_launches, setup_spawner,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_spawner_killed_while_workers_run, setup_spawner,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_shutdown_ends_spawner_not_workers, setup_spawner,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_not_a_spawner_falls_back, setup_script, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_spawner_off_or_other_worker, setup_spawner,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_oversized_request_falls_back, setup_spawner,
                                      lfx_teardown),
  };
  int failed = cmocka_run_group_tests_name("local provider: worker spawner", tests, NULL, NULL);
  return failed;
}
