/* test_local_provider_state.c — the local provider across daemon restarts
 * (running workers found again, workers that ended meanwhile, pending kills
 * re-armed), list_owned and release, the memory limit, and configuration
 * and launch errors. Real processes; every wait has a deadline. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "unit/support_local_fixture.c"

static void test_restart_finds_running_worker(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-survivor", "echo $$; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  pid_t pid = lfx_log_pid(fx, &ref);
  lfx_provider_stop(fx); /* the worker keeps running */
  assert_int_equal(kill(pid, 0), 0);

  lfx_host_reset(fx, "cluster-a");
  lfx_provider_start_ok(fx);
  assert_int_equal(lfx_inspect1(fx, &ref).phase, MN_WORKER_PHASE_RUNNING);
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 30, &err), 0);
  struct mn_worker_state st = lfx_wait_exited(fx, &ref);
  assert_int_equal(st.exit_code, 128 + SIGTERM); /* still our child here: real status */
  assert_int_equal(kill(pid, 0), -1);
}

static void test_worker_gone_while_down(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-lost", "echo $$; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  pid_t pid = lfx_log_pid(fx, &ref);
  lfx_provider_stop(fx);
  assert_int_equal(kill(-pid, SIGKILL), 0);
  assert_int_equal(waitpid(pid, NULL, 0), pid); /* reaped behind the provider's back */

  lfx_host_reset(fx, "cluster-a");
  lfx_provider_start_ok(fx);
  struct mn_worker_state st = lfx_inspect1(fx, &ref);
  assert_int_equal(st.phase, MN_WORKER_PHASE_EXITED);
  assert_int_equal(st.exit_code, -1);
  assert_string_equal(st.reason, "worker ended while the daemon was down");
  /* the outcome is now recorded: the same answer again */
  st = lfx_inspect1(fx, &ref);
  assert_string_equal(st.reason, "worker ended while the daemon was down");
}

static void test_pending_kill_survives_restart(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-deadline", "trap '' TERM; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 1, &err), 0);
  lfx_provider_stop(fx); /* before the grace period is over */

  lfx_host_reset(fx, "cluster-a");
  lfx_provider_start_ok(fx);
  struct mn_worker_state st = lfx_wait_exited(fx, &ref);
  assert_int_equal(st.exit_code, 128 + SIGKILL);
}

struct owned {
  char ids[16][64];
  int phases[16];
  size_t n;
};

static int owned_cb(void *ctx, const struct mn_owned_worker *w) {
  struct owned *o = ctx;
  assert_string_equal(w->execution_id, w->ref.identifier);
  snprintf(o->ids[o->n], sizeof o->ids[0], "%s", w->execution_id);
  o->phases[o->n++] = w->state.phase;
  return 0;
}

static int owned_phase(const struct owned *o, const char *id) {
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->ids[i], id) == 0)
      return o->phases[i];
  return -1;
}

static void test_list_owned_and_release(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref a, b, c;
  struct mn_provider_error err = {0};
  struct owned o = {0};
  char text[256];
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-a", "echo from a", &a);
  lfx_launch_sh(fx, "exe-b", "true", &b);
  lfx_launch_sh(fx, "exe-c", "echo ready; " LFX_LOOP, &c);
  lfx_wait_exited(fx, &a);
  lfx_wait_exited(fx, &b);
  lfx_wait_log(fx, &c, "ready");

  assert_int_equal(mn_provider_release(fx->h, &a, &err), 0);
  assert_int_equal(mn_provider_release(fx->h, &a, &err), 0); /* idempotent */
  struct mn_worker_ref unknown = {.identifier = "exe-unknown"};
  assert_int_equal(mn_provider_release(fx->h, &unknown, &err), 0);

  assert_int_equal(mn_provider_list_owned(fx->h, owned_cb, &o, &err), 0);
  assert_int_equal(o.n, 2);
  assert_int_equal(owned_phase(&o, "exe-b"), MN_WORKER_PHASE_EXITED);
  assert_int_equal(owned_phase(&o, "exe-c"), MN_WORKER_PHASE_RUNNING);
  assert_int_equal(owned_phase(&o, "exe-a"), -1);

  /* after release: the log stays readable, inspect keeps the outcome */
  lfx_log_text(fx, &a, text, sizeof text);
  assert_string_equal(text, "from a\n");
  assert_int_equal(lfx_inspect1(fx, &a).phase, MN_WORKER_PHASE_EXITED);

  /* batch inspect, with an unknown and an impossible id */
  struct mn_worker_ref refs[4] = {a, c, {.identifier = "exe-unknown"}, {.identifier = "../x"}};
  struct mn_worker_state states[4];
  assert_int_equal(mn_provider_inspect_many(fx->h, refs, 4, states, &err), 0);
  assert_int_equal(states[0].phase, MN_WORKER_PHASE_EXITED);
  assert_int_equal(states[1].phase, MN_WORKER_PHASE_RUNNING);
  assert_int_equal(states[2].phase, MN_WORKER_PHASE_MISSING);
  assert_int_equal(states[3].phase, MN_WORKER_PHASE_MISSING);

  /* another cluster owns none of these */
  lfx_provider_stop(fx);
  lfx_host_reset(fx, "cluster-b");
  lfx_provider_start_ok(fx);
  memset(&o, 0, sizeof o);
  assert_int_equal(mn_provider_list_owned(fx->h, owned_cb, &o, &err), 0);
  assert_int_equal(o.n, 0);
  assert_int_equal(mn_provider_terminate(fx->h, &c, 0, &err), 0);
  assert_int_equal(lfx_wait_exited(fx, &c).exit_code, 128 + SIGKILL);
  assert_int_equal(mn_provider_release(fx->h, &c, &err), 0);
}

/* The record is an attribute of the log (state_file.h): a launch leaves its
 * log and its working directory and no other file; a log without a record
 * (a launch cut short) is no worker, and a launch of its id then starts
 * one; a torn record is reported and never taken for a worker, and a launch
 * of its id refuses rather than start a second one; a record file (the
 * earlier layout) is still read; logs stay readable. */
static void test_record_on_the_log(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref done, torn, cut;
  struct mn_provider_error err = {0};
  struct owned o = {0};
  char dir[PATH_MAX], path[PATH_MAX + 64], value[1024], text[256];
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-done", "echo done", &done);
  lfx_launch_sh(fx, "exe-torn", "echo torn", &torn);
  lfx_wait_exited(fx, &done);
  lfx_wait_exited(fx, &torn);
  snprintf(dir, sizeof dir, "%s/local", fx->data_dir);
  DIR *d = opendir(dir);
  struct dirent *e;
  int files = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "work") == 0)
      continue; /* the provider's own files, the working directories */
    assert_true(strcmp(e->d_name, "exe-done.log") == 0 || strcmp(e->d_name, "exe-torn.log") == 0);
    files++;
  }
  closedir(d);
  assert_int_equal(files, 2);
  ssize_t len = getxattr(done.logs_identifier, "user.multinode.record", value, sizeof value - 1);
  assert_true(len > 20);
  value[len] = '\0';
  assert_non_null(strstr(value, "\"status\":\"exited\""));
  lfx_provider_stop(fx);

  /* torn: the attribute ends mid-text */
  assert_int_equal(setxattr(torn.logs_identifier, "user.multinode.record", value, 20, 0), 0);
  /* cut short: an empty log and a working directory, no record */
  snprintf(path, sizeof path, "%s/exe-cut.log", dir);
  lfx_write_file(path, "", 0600);
  snprintf(path, sizeof path, "%s/work/exe-cut", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  /* a record file beside a log without the attribute: a daemon from
   * before records moved onto the log, or a file system without them */
  snprintf(path, sizeof path, "%s/exe-legacy.log", dir);
  lfx_write_file(path, "legacy\n", 0600);
  snprintf(path, sizeof path, "%s/exe-legacy.json", dir);
  lfx_write_file(path,
                 "{\"execution_id\":\"exe-legacy\",\"cluster_id\":\"cluster-a\",\"status\":"
                 "\"exited\",\"pid\":1,\"start_time\":0,\"exit_code\":3,\"reason\":\"exited with "
                 "code 3\",\"created_us\":1,\"kill_deadline_us\":0,\"released\":false,\"cgroup\":\"\"}",
                 0600);

  lfx_host_reset(fx, "cluster-a");
  lfx_provider_start_ok(fx);
  assert_non_null(lfx_find_log(fx, "ignoring an unreadable record of \"exe-torn\""));
  assert_int_equal(mn_provider_list_owned(fx->h, owned_cb, &o, &err), 0);
  assert_int_equal(o.n, 2);
  assert_int_equal(owned_phase(&o, "exe-done"), MN_WORKER_PHASE_EXITED);
  assert_int_equal(owned_phase(&o, "exe-legacy"), MN_WORKER_PHASE_EXITED);
  assert_int_equal(lfx_inspect1(fx, &(struct mn_worker_ref){.identifier = "exe-legacy"}).exit_code,
                   3);
  struct mn_worker_state st = lfx_inspect1(fx, &torn);
  assert_int_equal(st.phase, MN_WORKER_PHASE_MISSING);
  assert_non_null(strstr(st.reason, "unreadable record"));
  st = lfx_inspect1(fx, &(struct mn_worker_ref){.identifier = "exe-cut"});
  assert_int_equal(st.phase, MN_WORKER_PHASE_MISSING);
  assert_string_equal(st.reason, "no such worker");

  const char *cmd[] = {"sh", "-c", "echo again"};
  struct mn_launch_spec spec = {
      .function_name = "f", .execution_id = "exe-torn", .command = cmd, .n_command = 3};
  assert_int_equal(mn_provider_launch(fx->h, &spec, &cut, &err), MN_PROVIDER_E_INVALID);
  assert_non_null(strstr(err.msg, "cannot read the record of \"exe-torn\""));
  lfx_launch_sh(fx, "exe-cut", "echo cut", &cut);
  assert_int_equal(lfx_wait_exited(fx, &cut).exit_code, 0);
  lfx_log_text(fx, &cut, text, sizeof text);
  assert_string_equal(text, "cut\n");
  lfx_log_text(fx, &done, text, sizeof text);
  assert_string_equal(text, "done\n");
  assert_int_equal(mn_provider_release(fx->h, &done, &err), 0);
  lfx_log_text(fx, &done, text, sizeof text); /* after the release too */
  assert_string_equal(text, "done\n");
}

static void test_memory_limit(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref small, big;
  char text[4096];
  lfx_provider_start_ok(fx);
  const char *how = lfx_find_log(fx, "limits:");
  assert_non_null(how);
  int cgroup = strstr(how, "memory.max") != NULL;
  int rlimit = strstr(how, "RLIMIT_DATA") != NULL && !strstr(how, "NOT enforced: a sanitizer");
#ifdef MN_SANITIZER_BUILD
  if (!cgroup) {
    /* the only fallback, RLIMIT_DATA, cannot hold a sanitizer build's workers */
    assert_non_null(strstr(how, "memory_gb and vcpus NOT enforced: a sanitizer build"));
    print_message("memory limit: not enforced in this sanitizer build (provider said: %s)\n",
                  how);
    return;
  }
#endif
  assert_true(cgroup != rlimit); /* exactly one mechanism holds memory */
  print_message("memory limit mechanism tested: %s\n  (provider said: %s)\n",
                cgroup ? "cgroup v2 memory.max" : "RLIMIT_DATA per process", how);

  /* 256 MiB of data with a 64 MiB limit, then with 4 GiB */
  const char *cmd[] = {"perl", "-e", "$x = 'x' x (256*1024*1024); print \"allocated\\n\""};
  lfx_launch_env(fx, "exe-mem-small", cmd, 3, 0.0625, NULL, 0, &small);
  lfx_launch_env(fx, "exe-mem-big", cmd, 3, 4, NULL, 0, &big);
  struct mn_worker_state st = lfx_wait_exited(fx, &small);
  lfx_log_text(fx, &small, text, sizeof text);
  assert_int_not_equal(st.exit_code, 0);
  assert_null(strstr(text, "allocated"));
  if (cgroup)
    assert_int_equal(st.exit_code, 128 + SIGKILL); /* the OOM killer */
  st = lfx_wait_exited(fx, &big);
  lfx_log_text(fx, &big, text, sizeof text);
  assert_int_equal(st.exit_code, 0);
  assert_string_equal(text, "allocated\n");
}

/* The log (with its record) and working directory of a released worker go
 * once the retention has passed since its release (checked when the
 * provider starts, then hourly); an unreleased one stays, and so does a
 * released one whose release is recent. The release is backdated instead
 * of waited for: it sets the log's modification time. */
static bool file_gone(const char *path) { return access(path, F_OK) != 0; }

static void test_retention_prunes_released(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref old, kept, recent;
  struct mn_provider_error err = {0};
  char old_work[PATH_MAX], kept_work[PATH_MAX];
  lfx_host_reset(fx, "cluster-a");
  lfx_set(fx, "retention", "60");
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-old", "echo old", &old);
  lfx_launch_sh(fx, "exe-kept", "echo kept", &kept);
  lfx_launch_sh(fx, "exe-recent", "echo recent", &recent);
  lfx_wait_exited(fx, &old);
  lfx_wait_exited(fx, &kept);
  lfx_wait_exited(fx, &recent);
  /* the logs' times are from before the releases: a release sets them */
  struct timespec past[2] = {{time(NULL) - 120, 0}, {time(NULL) - 120, 0}};
  assert_int_equal(utimensat(AT_FDCWD, recent.logs_identifier, past, 0), 0);
  assert_int_equal(mn_provider_release(fx->h, &old, &err), 0);
  assert_int_equal(mn_provider_release(fx->h, &recent, &err), 0);
  lfx_provider_stop(fx);
  snprintf(old_work, sizeof old_work, "%s/local/work/exe-old", fx->data_dir);
  snprintf(kept_work, sizeof kept_work, "%s/local/work/exe-kept", fx->data_dir);
  assert_false(file_gone(old_work));
  /* old and kept released or not 2 minutes ago, past the 60 s retention */
  assert_int_equal(utimensat(AT_FDCWD, old.logs_identifier, past, 0), 0);
  assert_int_equal(utimensat(AT_FDCWD, kept.logs_identifier, past, 0), 0);

  lfx_provider_start_ok(fx);
  int64_t deadline = lfx_now_ms() + 10000;
  while (!file_gone(old.logs_identifier) && lfx_now_ms() < deadline)
    lfx_pause_ms(10);
  assert_true(file_gone(old.logs_identifier));
  assert_true(file_gone(old_work));
  assert_false(file_gone(kept.logs_identifier)); /* not released */
  assert_false(file_gone(kept_work));
  assert_false(file_gone(recent.logs_identifier)); /* released just now */
  assert_int_equal(lfx_inspect1(fx, &old).phase, MN_WORKER_PHASE_MISSING);
  assert_int_equal(lfx_inspect1(fx, &kept).phase, MN_WORKER_PHASE_EXITED);
  assert_int_equal(lfx_inspect1(fx, &recent).phase, MN_WORKER_PHASE_EXITED);
}

static void expect_init_error(struct lfx *fx, const char *key, const char *value,
                              const char *needle) {
  struct mn_provider_error err;
  lfx_host_reset(fx, "cluster-a");
  lfx_set(fx, key, value);
  assert_int_equal(lfx_provider_start(fx, &err), MN_PROVIDER_E_INVALID);
  assert_null(fx->h);
  assert_int_equal(err.code, MN_PROVIDER_E_INVALID);
  if (!strstr(err.msg, needle))
    fail_msg("init error \"%s\" does not name \"%s\"", err.msg, needle);
}

static void test_bad_config(void **tstate) {
  struct lfx *fx = *tstate;
  expect_init_error(fx, "bogus", "1", "bogus");
  expect_init_error(fx, "bin_dir", "/nonexistent/dir", "bin_dir");
  expect_init_error(fx, "worker", "", "worker");
  expect_init_error(fx, "cgroup_parent", "relative/path", "cgroup_parent");
  expect_init_error(fx, "cgroup_parent", "/not/a/cgroup/mount", "cgroup_parent");
  expect_init_error(fx, "retention", "soon", "retention");
}

static void test_launch_errors(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  char script[PATH_MAX + 32];
  lfx_set(fx, "worker", "no-such-multinode-worker");
  lfx_provider_start_ok(fx);
  assert_int_equal(lfx_count_logs(fx, "no-such-multinode-worker"), 1); /* warned */

  const char *cmd[] = {"true"};
  struct mn_launch_spec spec = {
      .function_name = "f", .execution_id = "exe-x", .command = cmd, .n_command = 1};
  assert_int_equal(mn_provider_launch(fx->h, &spec, &ref, &err), MN_PROVIDER_E_INVALID);
  assert_non_null(strstr(err.msg, "not found"));
  assert_int_equal(lfx_inspect1(fx, &(struct mn_worker_ref){.identifier = "exe-x"}).phase,
                   MN_WORKER_PHASE_MISSING);

  struct mn_function_desc fn = {.function_name = "f", .command = cmd, .n_command = 1};
  struct mn_prepared prepared;
  assert_int_equal(mn_provider_prepare(fx->h, &fn, &prepared, &err), MN_PROVIDER_E_INVALID);
  assert_non_null(strstr(err.msg, "no-such-multinode-worker"));
  lfx_provider_stop(fx);

  /* a worker the kernel cannot execute: the handshake reports exec's error
   * (valgrind cannot survive a failed execve in the child, so not there) */
  if (RUNNING_ON_VALGRIND) {
    print_message("exec failure report not checked: running under valgrind\n");
    return;
  }
  snprintf(script, sizeof script, "%s/broken-worker", fx->bin_dir);
  lfx_write_file(script, "#!/nonexistent/interpreter\n", 0755);
  lfx_host_reset(fx, "cluster-a");
  lfx_set(fx, "worker", script);
  lfx_provider_start_ok(fx);
  assert_int_equal(mn_provider_launch(fx->h, &spec, &ref, &err), MN_PROVIDER_E_INVALID);
  assert_non_null(strstr(err.msg, "cannot start worker"));
  assert_int_equal(lfx_inspect1(fx, &(struct mn_worker_ref){.identifier = "exe-x"}).phase,
                   MN_WORKER_PHASE_MISSING); /* no record left: a later launch may retry */
  lfx_provider_stop(fx);

  lfx_host_reset(fx, "cluster-a");
  lfx_provider_start_ok(fx);
  fn.n_command = 0;
  assert_int_equal(mn_provider_prepare(fx->h, &fn, &prepared, &err), MN_PROVIDER_E_INVALID);
  fn.n_command = 1;
  assert_int_equal(mn_provider_prepare(fx->h, &fn, &prepared, &err), 0);
  assert_string_equal(prepared.details_json, "");
  spec.execution_id = "../escape";
  assert_int_equal(mn_provider_launch(fx->h, &spec, &ref, &err), MN_PROVIDER_E_INVALID);
  spec.execution_id = "exe-x";
  spec.n_command = 0;
  assert_int_equal(mn_provider_launch(fx->h, &spec, &ref, &err), MN_PROVIDER_E_INVALID);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_restart_finds_running_worker, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_worker_gone_while_down, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_pending_kill_survives_restart, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_list_owned_and_release, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_memory_limit, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_bad_config, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_record_on_the_log, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_retention_prunes_released, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_launch_errors, lfx_setup, lfx_teardown),
  };
  int failed = cmocka_run_group_tests_name("local provider: state", tests, NULL, NULL);
  return failed;
}
