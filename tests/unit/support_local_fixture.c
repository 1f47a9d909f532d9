/* support_local_fixture.c — see support_local_fixture.h. */
#include "unit/support_local_fixture.h"

#include <fcntl.h>
#include <pthread.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

const char *lfx_worker_binary;
static pthread_mutex_t lfx_launched_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t lfx_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lfx_pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

void lfx_write_file(const char *path, const char *text, mode_t mode) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
}

static int lfx_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void lfx_host_reset(struct lfx *fx, const char *cluster) {
  char copy[sizeof fx->cluster];
  snprintf(copy, sizeof copy, "%s", cluster);
  snprintf(fx->cluster, sizeof fx->cluster, "%s", copy);
  fx->n_keys = 0;
  lfx_set(fx, "bin_dir", fx->bin_dir);
}

void lfx_set(struct lfx *fx, const char *key, const char *value) {
  size_t i = 0;
  while (i < fx->n_keys && strcmp(fx->keys[i], key) != 0)
    i++;
  assert_true(i < sizeof fx->keys / sizeof fx->keys[0]);
  snprintf(fx->keys[i], sizeof fx->keys[0], "%s", key);
  snprintf(fx->values[i], sizeof fx->values[0], "%s", value);
  if (i == fx->n_keys)
    fx->n_keys++;
}

/* A YAML scalar: plain when it is, else double-quoted (JSON escapes). */
static void put_scalar(FILE *f, const char *v) {
  int plain = v[0] != '\0';
  for (const char *p = v; *p && plain; p++)
    plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-", *p);
  if (plain) {
    fputs(v, f);
    return;
  }
  fputc('"', f);
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if ((unsigned char)*p < 0x20)
      fprintf(f, "\\x%02x", (unsigned char)*p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void write_config(struct lfx *fx) {
  FILE *f = fopen(fx->config_path, "w");
  assert_non_null(f);
  fprintf(f, "server:\n  api_key: lfx-key\ndata_dir: %s\nproviders:\n  default: local\n  local:\n",
          fx->data_dir);
  for (size_t i = 0; i < fx->n_keys; i++) {
    fprintf(f, "    %s: ", fx->keys[i]);
    put_scalar(f, fx->values[i]);
    fputc('\n', f);
  }
  fclose(f);
}

int lfx_provider_start(struct lfx *fx, struct mn_provider_error *err) {
  struct mn_error e = {0};
  struct mn_plugin_env env = {.public_url = "http://127.0.0.1:5999",
                              .api_key = "test-key",
                              .data_dir = fx->data_dir,
                              .cluster_id = fx->cluster};
  memset(err, 0, sizeof *err);
  write_config(fx);
  if (mn_config_load(fx->config_path, &fx->cfg, &e) == 0 &&
      mn_plugins_load(&fx->cfg, &env, &fx->plugins, &e) == 0) {
    fx->h = mn_plugins_find(fx->plugins, "local");
    assert_non_null(fx->h);
    return 0;
  }
  /* the daemon refuses to start, whatever init's code: its message tells */
  mn_config_release(&fx->cfg);
  err->code = MN_PROVIDER_E_INVALID;
  snprintf(err->msg, sizeof err->msg, "%s", e.msg);
  return MN_PROVIDER_E_INVALID;
}

void lfx_provider_start_ok(struct lfx *fx) {
  struct mn_provider_error err;
  int rc = lfx_provider_start(fx, &err);
  if (rc != 0)
    fail_msg("init failed: %s", err.msg);
}

void lfx_provider_stop(struct lfx *fx) {
  if (fx->plugins) {
    mn_plugins_free(fx->plugins);
    mn_config_release(&fx->cfg);
  }
  fx->plugins = NULL;
  fx->h = NULL;
}

/* Every line of the captured log holding needle: counted, the first kept. */
static size_t scan_log(struct lfx *fx, const char *needle, char *first, size_t size) {
  char line[4096];
  size_t n = 0;
  fflush(stderr);
  FILE *f = fopen(fx->log_path, "r");
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f)) {
    if (!strstr(line, needle))
      continue;
    if (n++ == 0 && first)
      snprintf(first, size, "%s", line);
  }
  fclose(f);
  return n;
}

size_t lfx_count_logs(struct lfx *fx, const char *needle) {
  return scan_log(fx, needle, NULL, 0);
}

const char *lfx_find_log(struct lfx *fx, const char *needle) {
  return scan_log(fx, needle, fx->found, sizeof fx->found) ? fx->found : NULL;
}

int lfx_setup(void **tstate) {
  struct lfx *fx = calloc(1, sizeof *fx);
  char script[PATH_MAX + 32];
  assert_non_null(fx);
  snprintf(fx->root, sizeof fx->root, "/tmp/mn-local-test-XXXXXX");
  assert_non_null(mkdtemp(fx->root));
  snprintf(fx->data_dir, sizeof fx->data_dir, "%s/data", fx->root);
  snprintf(fx->bin_dir, sizeof fx->bin_dir, "%s/bin", fx->root);
  assert_int_equal(mkdir(fx->data_dir, 0700), 0);
  assert_int_equal(mkdir(fx->bin_dir, 0755), 0);
  /* The workers run as nobody (the provider's default as root): they pass
   * through the root to their working directories, run the stand-in from
   * bin/ and may leave files in the root, as the tests' commands do. */
  assert_int_equal(chmod(fx->root, 01777), 0);
  /* A stand-in for multinode-worker: runs its arguments. */
  snprintf(script, sizeof script, "%s/multinode-worker", fx->bin_dir);
  if (lfx_worker_binary)
    assert_int_equal(symlink(lfx_worker_binary, script), 0);
  else
    lfx_write_file(script, "#!/bin/sh\nexec \"$@\"\n", 0755);
  lfx_host_reset(fx, "cluster-a");
  snprintf(fx->config_path, sizeof fx->config_path, "%s/multinode.yaml", fx->root);
  /* the daemon's log: the provider's lines, through the host's log */
  snprintf(fx->log_path, sizeof fx->log_path, "%s/daemon.log", fx->root);
  mn_log_set_level(MN_LOG_DEBUG);
  fflush(stderr);
  int fd = open(fx->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  fx->saved_stderr = dup(2);
  assert_true(fx->saved_stderr >= 0);
  assert_int_equal(dup2(fd, 2), 2);
  close(fd);
  *tstate = fx;
  return 0;
}

/* Puts stderr back, and copies what the test wrote there but debug lines. */
static void restore_stderr(struct lfx *fx) {
  char line[4096];
  fflush(stderr);
  dup2(fx->saved_stderr, 2);
  close(fx->saved_stderr);
  FILE *f = fopen(fx->log_path, "r");
  while (f && fgets(line, sizeof line, f))
    if (!strstr(line, " debug "))
      fputs(line, stderr);
  if (f)
    fclose(f);
}

/* After a failed test: SIGKILL whatever it left running, through a fresh
 * instance of the provider (the failed one may be half gone). */
static void kill_leftovers(struct lfx *fx) {
  struct mn_provider_error err;
  lfx_provider_stop(fx);
  lfx_host_reset(fx, fx->cluster);
  if (fx->n_launched == 0 || lfx_provider_start(fx, &err) != 0)
    return;
  for (size_t i = 0; i < fx->n_launched; i++) {
    struct mn_worker_ref ref = {0};
    struct mn_worker_state st;
    snprintf(ref.identifier, sizeof ref.identifier, "%s", fx->launched[i]);
    mn_provider_terminate(fx->h, &ref, 0, &err);
    int64_t deadline = lfx_now_ms() + LFX_WAIT_MS;
    for (;;) {
      mn_provider_inspect_many(fx->h, &ref, 1, &st, &err);
      if (st.phase != MN_WORKER_PHASE_RUNNING || lfx_now_ms() > deadline)
        break;
      lfx_pause_ms(20);
    }
  }
  lfx_provider_stop(fx);
}

int lfx_teardown(void **tstate) {
  struct lfx *fx = *tstate;
  kill_leftovers(fx);
  restore_stderr(fx);
  nftw(fx->root, lfx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(fx);
  return 0;
}

void lfx_launch_env(struct lfx *fx, const char *id, const char *const *cmd, size_t n_cmd,
                    double memory_gb, const struct mn_kv *env, size_t n_env,
                    struct mn_worker_ref *ref) {
  struct mn_provider_error err = {0};
  struct mn_launch_spec spec = {.project_name = "p",
                                .version_id = "ver-1",
                                .function_name = "f",
                                .invocation_id = "inv-1",
                                .execution_id = id,
                                .command = cmd,
                                .n_command = n_cmd,
                                .env = env,
                                .n_env = n_env,
                                .vcpus = 1,
                                .memory_gb = memory_gb,
                                .timeout_seconds = 60,
                                .api_url = "http://127.0.0.1:5999",
                                .api_key = "test-key"};
  pthread_mutex_lock(&lfx_launched_lock); /* tests launch from several threads */
  if (fx->n_launched < sizeof fx->launched / sizeof fx->launched[0])
    snprintf(fx->launched[fx->n_launched++], sizeof fx->launched[0], "%s", id);
  pthread_mutex_unlock(&lfx_launched_lock);
  int rc = mn_provider_launch(fx->h, &spec, ref, &err);
  if (rc != 0)
    fail_msg("launch %s failed (%d): %s", id, rc, err.msg);
}

void lfx_launch_sh(struct lfx *fx, const char *id, const char *script, struct mn_worker_ref *ref) {
  const char *cmd[] = {"sh", "-c", script};
  const struct mn_kv env[] = {{"MULTINODE_EXECUTION_ID", id}};
  lfx_launch_env(fx, id, cmd, 3, 0, env, 1, ref);
}

struct mn_worker_state lfx_inspect1(struct lfx *fx, const struct mn_worker_ref *ref) {
  struct mn_worker_state st;
  struct mn_provider_error err = {0};
  memset(&st, 0xff, sizeof st);
  assert_int_equal(mn_provider_inspect_many(fx->h, ref, 1, &st, &err), 0);
  return st;
}

struct mn_worker_state lfx_wait_exited(struct lfx *fx, const struct mn_worker_ref *ref) {
  int64_t deadline = lfx_now_ms() + LFX_WAIT_MS;
  struct mn_worker_state st;
  while ((st = lfx_inspect1(fx, ref)).phase != MN_WORKER_PHASE_EXITED) {
    if (st.phase != MN_WORKER_PHASE_RUNNING)
      fail_msg("worker %s: phase %d, reason %s", ref->identifier, st.phase, st.reason);
    if (lfx_now_ms() > deadline)
      fail_msg("worker %s did not exit within %d ms", ref->identifier, LFX_WAIT_MS);
    lfx_pause_ms(20);
  }
  return st;
}

static int lfx_page_add(struct mn_log_page *page, const char *line, size_t len) {
  struct lfx_page *p = (struct lfx_page *)page;
  if (p->n >= p->max)
    return 1;
  snprintf(p->lines[p->n++], sizeof p->lines[0], "%.*s", (int)len, line);
  return 0;
}

void lfx_page_init(struct lfx_page *p, size_t max) {
  memset(p, 0, sizeof *p);
  p->page.add_line = lfx_page_add;
  p->max = max;
}

int lfx_logs_page(struct lfx *fx, const struct mn_worker_ref *ref, const char *offset,
                  int max_lines, struct lfx_page *p, struct mn_provider_error *err) {
  lfx_page_init(p, 256);
  memset(err, 0, sizeof *err);
  return fx->h->ops.logs(fx->h->state, ref, offset, max_lines, &p->page, err);
}

/* The whole log as one string, lines joined with '\n'. */
void lfx_log_text(struct lfx *fx, const struct mn_worker_ref *ref, char *out, size_t size) {
  struct lfx_page p;
  struct mn_provider_error err;
  size_t used = 0;
  out[0] = '\0';
  assert_int_equal(lfx_logs_page(fx, ref, NULL, 250, &p, &err), 0);
  for (size_t i = 0; i < p.n && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s\n", p.lines[i]);
}

void lfx_wait_log(struct lfx *fx, const struct mn_worker_ref *ref, const char *needle) {
  char text[8192];
  int64_t deadline = lfx_now_ms() + LFX_WAIT_MS;
  for (;;) {
    lfx_log_text(fx, ref, text, sizeof text);
    if (strstr(text, needle))
      return;
    if (lfx_now_ms() > deadline)
      fail_msg("log of %s never showed \"%s\"; it holds:\n%s", ref->identifier, needle, text);
    lfx_pause_ms(20);
  }
}

/* The worker's pid, which the test scripts print first. */
pid_t lfx_log_pid(struct lfx *fx, const struct mn_worker_ref *ref) {
  struct lfx_page p;
  struct mn_provider_error err;
  assert_int_equal(lfx_logs_page(fx, ref, NULL, 1, &p, &err), 0);
  assert_int_equal(p.n, 1);
  return (pid_t)atol(p.lines[0]);
}

int lfx_count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  int n = 0, c;
  if (!f)
    return 0;
  while ((c = fgetc(f)) != EOF)
    n += c == '\n';
  fclose(f);
  return n;
}

const char *lfx_stand_in_worker(void) {
  static char path[PATH_MAX];
  char guess[PATH_MAX];
  const char *dir = getenv("MN_PLUGIN_DIR");
  snprintf(guess, sizeof guess, "%s/../../bin/mn-test-stand-in-worker", dir ? dir : ".");
  if (!realpath(guess, path) || access(path, X_OK) != 0) {
    fprintf(stderr, "missing %s (build the mn-test-stand-in-worker target)\n", guess);
    return NULL;
  }
  return path;
}

pid_t lfx_parent_of(pid_t pid) {
  char path[64], line[256];
  pid_t ppid = -1;
  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "PPid:", 5) == 0)
      ppid = (pid_t)atol(line + 5);
  fclose(f);
  return ppid;
}

void lfx_cmdline(pid_t pid, char *out, size_t size) {
  char path[64];
  size_t n = 0;
  snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
  FILE *f = fopen(path, "r");
  if (f) {
    n = fread(out, 1, size - 1, f);
    fclose(f);
  }
  for (size_t i = 0; i < n; i++)
    if (out[i] == '\0')
      out[i] = ' ';
  out[n] = '\0';
}
