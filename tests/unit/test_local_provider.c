/* test_local_provider.c — the local provider (plugins/local) loaded by the
 * daemon's own plugin host (a real configuration file), with real child
 * processes: exit codes, log paging, idempotent launch, terminate (TERM, then KILL after the
 * grace period), the worker's environment, session and descriptors, a stale
 * leaf cgroup. All of
 * it twice: with workers forked and exec'd by the provider, and with workers
 * forked by the worker spawner (plugins/local/zygote.h).
 * test_local_provider_state.c covers restarts, ownership, limits, errors;
 * test_local_zygote.c what is particular to the spawner. */
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

static void test_entry_table(void **tstate) {
  struct lfx *fx = *tstate;
  lfx_provider_start_ok(fx); /* the plugin host checked the table first */
  const struct mn_provider *p = &fx->h->ops;
  assert_int_equal(MN_PROVIDER_ABI_MAJOR_OF(p->abi_version), MN_PROVIDER_ABI_MAJOR);
  assert_int_equal(p->struct_size, sizeof(struct mn_provider));
  assert_string_equal(p->name, "local");
  uint64_t want = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_LIST_OWNED;
  assert_int_equal(p->caps & want, want);
  assert_non_null(p->prepare);
  assert_non_null(p->release);
}

static void test_exit_code_and_log_paging(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct lfx_page p;
  struct mn_provider_error err;
  lfx_provider_start_ok(fx);
  assert_int_equal(lfx_count_logs(fx, "limits:"), 1); /* logged once */

  lfx_launch_sh(fx, "exe-exit3", "echo hello; echo err >&2; exit 3", &ref);
  assert_string_equal(ref.identifier, "exe-exit3");
  assert_non_null(strstr(ref.logs_identifier, "/local/exe-exit3.log"));
  struct mn_worker_state st = lfx_wait_exited(fx, &ref);
  assert_int_equal(st.exit_code, 3);
  assert_string_equal(st.reason, "exited with code 3");

  /* one line per page, then the final offset yields nothing new */
  assert_int_equal(lfx_logs_page(fx, &ref, NULL, 1, &p, &err), 0);
  assert_int_equal(p.n, 1);
  assert_string_equal(p.lines[0], "hello");
  char off[MN_LOG_OFFSET_MAX];
  snprintf(off, sizeof off, "%s", p.page.next_offset);
  assert_int_equal(lfx_logs_page(fx, &ref, off, 1, &p, &err), 0);
  assert_int_equal(p.n, 1);
  assert_string_equal(p.lines[0], "err");
  snprintf(off, sizeof off, "%s", p.page.next_offset);
  assert_int_equal(lfx_logs_page(fx, &ref, off, 1, &p, &err), 0);
  assert_int_equal(p.n, 0);
  assert_string_equal(p.page.next_offset, off); /* a tail token: same place */

  /* offsets we never issued */
  const char *bad[] = {"abc", "-1", "9999", "1e3", " 1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(lfx_logs_page(fx, &ref, bad[i], 10, &p, &err), MN_PROVIDER_E_INVALID);
    assert_int_equal(err.code, MN_PROVIDER_E_INVALID);
  }
  /* a page that is full after one line: the second is served next time */
  lfx_page_init(&p, 1);
  assert_int_equal(fx->h->ops.logs(fx->h->state, &ref, NULL, 10, &p.page, &err), 0);
  assert_int_equal(p.n, 1);
  assert_string_equal(p.page.next_offset, "6");

  struct mn_worker_ref unknown = {.identifier = "exe-nope"};
  assert_int_equal(lfx_logs_page(fx, &unknown, NULL, 10, &p, &err), MN_PROVIDER_E_NOT_FOUND);
}

static void test_partial_last_line_waits_for_exit(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct lfx_page p;
  struct mn_provider_error err;
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-partial", "trap 'exit 0' TERM; printf 'a\\nb'; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "a\n");
  assert_int_equal(lfx_logs_page(fx, &ref, NULL, 10, &p, &err), 0);
  assert_int_equal(p.n, 1); /* "b" may still grow */
  assert_string_equal(p.page.next_offset, "2");
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 0, &err), 0);
  lfx_wait_exited(fx, &ref);
  assert_int_equal(lfx_logs_page(fx, &ref, "2", 10, &p, &err), 0);
  assert_int_equal(p.n, 1);
  assert_string_equal(p.lines[0], "b");
  assert_string_equal(p.page.next_offset, "3");
}

struct launch_arg {
  struct lfx *fx;
  const char *id;
  const char *script;
  struct mn_worker_ref ref;
};

static void *launch_thread(void *varg) {
  struct launch_arg *a = varg;
  lfx_launch_sh(a->fx, a->id, a->script, &a->ref);
  return NULL;
}

static void test_launch_is_idempotent(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref r1, r2, r3;
  char marks[PATH_MAX], script[PATH_MAX + 64];
  lfx_provider_start_ok(fx);
  snprintf(marks, sizeof marks, "%s/marks", fx->root);
  snprintf(script, sizeof script, "echo ran >> %s", marks);

  lfx_launch_sh(fx, "exe-once", script, &r1);
  lfx_launch_sh(fx, "exe-once", script, &r2);
  lfx_wait_exited(fx, &r1);
  lfx_launch_sh(fx, "exe-once", script, &r3); /* also after the exit */
  assert_memory_equal(&r1, &r2, sizeof r1);
  assert_memory_equal(&r1, &r3, sizeof r1);
  assert_int_equal(lfx_wait_exited(fx, &r3).exit_code, 0);
  assert_int_equal(lfx_count_lines(marks), 1);

  /* concurrent launches of one execution start one process */
  struct launch_arg args[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (struct launch_arg){.fx = fx, .id = "exe-race", .script = script};
    assert_int_equal(pthread_create(&threads[i], NULL, launch_thread, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(threads[i], NULL);
  for (int i = 1; i < 4; i++)
    assert_memory_equal(&args[0].ref, &args[i].ref, sizeof args[0].ref);
  lfx_wait_exited(fx, &args[0].ref);
  assert_int_equal(lfx_count_lines(marks), 2);
}

static void test_terminate_trapped(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-trap", "trap 'echo got term; exit 0' TERM; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  assert_int_equal(lfx_inspect1(fx, &ref).phase, MN_WORKER_PHASE_RUNNING);
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 30, &err), 0);
  struct mn_worker_state st = lfx_wait_exited(fx, &ref);
  assert_int_equal(st.exit_code, 0);
  lfx_wait_log(fx, &ref, "got term");
  /* terminating an exited worker, or an unknown one, succeeds */
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 30, &err), 0);
  struct mn_worker_ref unknown = {.identifier = "exe-unknown"};
  assert_int_equal(mn_provider_terminate(fx->h, &unknown, 30, &err), 0);
}

static void test_terminate_ignored_is_killed_after_grace(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-stubborn", "trap '' TERM; echo ready; " LFX_LOOP, &ref);
  lfx_wait_log(fx, &ref, "ready");
  int64_t t0 = lfx_now_ms();
  assert_int_equal(mn_provider_terminate(fx->h, &ref, 1, &err), 0);
  lfx_pause_ms(300);
  assert_int_equal(lfx_inspect1(fx, &ref).phase, MN_WORKER_PHASE_RUNNING); /* TERM ignored */
  struct mn_worker_state st = lfx_wait_exited(fx, &ref);
  int64_t elapsed = lfx_now_ms() - t0;
  assert_int_equal(st.exit_code, 128 + SIGKILL);
  assert_string_equal(st.reason, "killed by signal 9");
  assert_true(elapsed >= 900);
  print_message("SIGKILL after %lld ms (grace 1 s)\n", (long long)elapsed);
}

static void test_environment_is_exact(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  char text[8192], expect[8192];
  lfx_set(fx, "worker", "/usr/bin/env");
  lfx_provider_start_ok(fx);
  const struct mn_kv env[] = {{"FOO", "bar"},
                              {"WITH_SPACES", "a b  c"},
                              {"MULTINODE_EXECUTION_ID", "exe-env"},
                              {"MULTINODE_API_URL", "http://127.0.0.1:5999"}};
  const char *cmd[] = {"/usr/bin/env"};
  lfx_launch_env(fx, "exe-env", cmd, 1, 0, env, 4, &ref);
  lfx_wait_exited(fx, &ref);
  lfx_log_text(fx, &ref, text, sizeof text);

  const char *path = getenv("PATH"), *home = getenv("HOME"), *lang = getenv("LANG");
  char workdir[PATH_MAX];
  /* as root the workers run as nobody, whose HOME is its working directory */
  snprintf(workdir, sizeof workdir, "%s/local/work/exe-env", fx->data_dir);
  if (geteuid() == 0)
    home = workdir;
  int n = snprintf(expect, sizeof expect,
                   "FOO=bar\nWITH_SPACES=a b  c\nMULTINODE_EXECUTION_ID=exe-env\n"
                   "MULTINODE_API_URL=http://127.0.0.1:5999\nPATH=%s%s%s\n",
                   fx->bin_dir, path ? ":" : "", path ? path : "");
  if (home)
    n += snprintf(expect + n, sizeof expect - (size_t)n, "HOME=%s\n", home);
  if (lang)
    n += snprintf(expect + n, sizeof expect - (size_t)n, "LANG=%s\n", lang);
  snprintf(expect + n, sizeof expect - (size_t)n, "MULTINODE_LOG_MAX_BYTES=%d\n", 64 << 20);
  assert_string_equal(text, expect);
}

static void test_path_puts_bin_dir_first(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  char text[8192], expect[1024];
  lfx_provider_start_ok(fx); /* default worker: found in bin_dir */
  const char *cmd[] = {"sh", "-c", "echo \"$PATH\"; command -v multinode-worker"};
  const struct mn_kv env[] = {{"PATH", "/usr/bin:/bin"}};
  lfx_launch_env(fx, "exe-path", cmd, 3, 0, env, 1, &ref);
  lfx_wait_exited(fx, &ref);
  lfx_log_text(fx, &ref, text, sizeof text);
  snprintf(expect, sizeof expect, "%s:/usr/bin:/bin\n%s/multinode-worker\n", fx->bin_dir,
           fx->bin_dir);
  assert_string_equal(text, expect);
}

/* The highest descriptor number pid holds, -1 if none can be read. */
static int highest_fd(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
  DIR *d = opendir(path);
  struct dirent *e;
  int top = -1;
  /* unreadable (EACCES while exec changes the process's credentials):
   * not known to be clean yet */
  if (!d)
    return INT_MAX;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.' && atoi(e->d_name) > top)
      top = atoi(e->d_name);
  closedir(d);
  return top;
}

/* The state letter of /proc/PID/stat (R, S, D...), or 0. */
static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
  if (f)
    fclose(f);
  buf[n] = '\0';
  const char *close = strrchr(buf, ')'); /* the comm may hold spaces */
  return close && close[1] == ' ' ? close[2] : 0;
}

static void test_own_session_and_descriptors(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  struct mn_provider_error err = {0};
  char path[64], target[PATH_MAX];
  lfx_provider_start_ok(fx);
  lfx_launch_sh(fx, "exe-session", "echo $$; exec sleep 60", &ref);
  lfx_wait_log(fx, &ref, "\n");
  pid_t pid = lfx_log_pid(fx, &ref);
  assert_true(pid > 0);
  /* wait for the exec of sleep, then look at its /proc entry */
  int64_t deadline = lfx_now_ms() + LFX_WAIT_MS;
  for (;;) {
    char comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
    FILE *f = fopen(path, "r");
    if (f) {
      if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
      fclose(f);
    }
    /* the comm changes during exec before the close-on-exec descriptors
     * of the image it replaces are closed, and the new image's own start
     * (the dynamic loader opening ld.so.cache and libc) holds fd 3 for a
     * moment: wait until sleep sleeps, in state S, with those closed (a
     * real leak stays, and fails below) */
    if (strcmp(comm, "sleep\n") == 0 &&
        ((proc_state(pid) == 'S' && highest_fd(pid) <= 2) || lfx_now_ms() > deadline))
      break;
    if (lfx_now_ms() > deadline)
      fail_msg("pid %ld never became sleep", (long)pid);
    lfx_pause_ms(20);
  }
  /* the provider's child, or the spawner's (itself the provider's) */
  pid_t parent = lfx_parent_of(pid);
  if (lfx_worker_binary) {
    char cmdline[512];
    assert_int_not_equal(parent, getpid());
    assert_int_equal(lfx_parent_of(parent), getpid());
    lfx_cmdline(parent, cmdline, sizeof cmdline);
    assert_non_null(strstr(cmdline, "/multinode-worker --spawner"));
  } else {
    assert_int_equal(parent, getpid());
  }
  assert_int_equal(getpgid(pid), pid);
  assert_int_equal(getsid(pid), pid);
  assert_int_not_equal(getpgid(pid), getpgrp());
  assert_int_not_equal(getsid(pid), getsid(0));

  /* exactly 0, 1, 2: /dev/null and the log */
  snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
  DIR *d = opendir(path);
  assert_non_null(d);
  struct dirent *e;
  int fds = 0;
  ssize_t n;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    fds++;
    if (atoi(e->d_name) > 2) {
      char fdpath[PATH_MAX];
      snprintf(fdpath, sizeof fdpath, "%s/%s", path, e->d_name);
      n = readlink(fdpath, target, sizeof target - 1);
      target[n > 0 ? n : 0] = '\0';
      fail_msg("worker holds fd %s (%s)", e->d_name, target);
    }
  }
  closedir(d);
  assert_int_equal(fds, 3);
  snprintf(path, sizeof path, "/proc/%ld/fd/0", (long)pid);
  n = readlink(path, target, sizeof target - 1);
  assert_true(n > 0);
  target[n] = '\0';
  assert_string_equal(target, "/dev/null");
  snprintf(path, sizeof path, "/proc/%ld/fd/2", (long)pid);
  n = readlink(path, target, sizeof target - 1);
  assert_true(n > 0);
  target[n] = '\0';
  assert_string_equal(target, ref.logs_identifier);

  /* no signal blocked or ignored (this test process ignores SIGPIPE) */
  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  char line[256];
  int checked = 0;
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0) {
      assert_string_equal(line + 7, "\t0000000000000000\n");
      checked++;
    }
  }
  fclose(f);
  assert_int_equal(checked, 2);

  assert_int_equal(mn_provider_terminate(fx->h, &ref, 0, &err), 0); /* grace 0: SIGKILL */
  assert_int_equal(lfx_wait_exited(fx, &ref).exit_code, 128 + SIGKILL);
}

/* A leaf cgroup left from an earlier launch of the same execution (a
 * daemon stopped between the leaf and the record), still holding a
 * process: the launch kills what it held and gives the worker a fresh
 * one, in which the worker runs to its end. */
static void test_stale_leaf_is_replaced(void **tstate) {
  struct lfx *fx = *tstate;
  struct mn_worker_ref ref;
  lfx_provider_start_ok(fx);
  const char *line = lfx_find_log(fx, "a cgroup per execution under ");
  if (!line)
    skip(); /* no cgroup v2 here: nothing to leave behind */
  char dir[PATH_MAX], leaf[PATH_MAX + 32], procs[PATH_MAX + 64];
  const char *from = strstr(line, "under ") + 6;
  snprintf(dir, sizeof dir, "%.*s", (int)strcspn(from, ", "), from);
  snprintf(leaf, sizeof leaf, "%s/mn-exe-stale", dir);
  snprintf(procs, sizeof procs, "%s/cgroup.procs", leaf);
  assert_true(mkdir(leaf, 0755) == 0 || errno == EEXIST); /* the other half left it */
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t stale = fork();
  if (stale == 0) {
    FILE *f = fopen(procs, "w");
    int ok = f && fputs("0", f) >= 0 && fclose(f) == 0;
    if (write(ready[1], ok ? "y" : "n", 1) != 1)
      _exit(2);
    pause();
    _exit(0);
  }
  char got = 0;
  assert_int_equal(read(ready[0], &got, 1), 1);
  close(ready[0]);
  close(ready[1]);
  assert_int_equal(got, 'y');

  /* the worker sees the stale process gone (or a zombie), not sleeping
   * beside it */
  char script[160];
  snprintf(script, sizeof script,
           "s=$(cut -d' ' -f3 /proc/%ld/stat 2>/dev/null); echo \"stale:${s:-gone}\"",
           (long)stale);
  lfx_launch_sh(fx, "exe-stale", script, &ref);
  assert_int_equal(lfx_wait_exited(fx, &ref).exit_code, 0);
  char text[256];
  lfx_log_text(fx, &ref, text, sizeof text);
  if (!strstr(text, "stale:gone") && !strstr(text, "stale:Z"))
    fail_msg("the worker ran beside the stale leaf's process: %s", text);
  int status = 0;
  int64_t deadline = lfx_now_ms() + 5000;
  pid_t w;
  while ((w = waitpid(stale, &status, WNOHANG)) == 0 && lfx_now_ms() < deadline)
    lfx_pause_ms(10);
  if (w == 0) {
    kill(stale, SIGKILL);
    waitpid(stale, NULL, 0);
    fail_msg("the process left in the stale leaf was not killed by the launch");
  }
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_entry_table, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_exit_code_and_log_paging, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_partial_last_line_waits_for_exit, lfx_setup,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_launch_is_idempotent, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_terminate_trapped, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_terminate_ignored_is_killed_after_grace, lfx_setup,
                                      lfx_teardown),
      cmocka_unit_test_setup_teardown(test_environment_is_exact, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_path_puts_bin_dir_first, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_own_session_and_descriptors, lfx_setup, lfx_teardown),
      cmocka_unit_test_setup_teardown(test_stale_leaf_is_replaced, lfx_setup, lfx_teardown),
  };
  int failed = cmocka_run_group_tests_name("local provider: processes (fork + exec)", tests,
                                           NULL, NULL);
  if (!(lfx_worker_binary = lfx_stand_in_worker()))
    failed++;
  else
    failed += cmocka_run_group_tests_name("local provider: processes (spawner)", tests, NULL,
                                          NULL);
  return failed;
}
