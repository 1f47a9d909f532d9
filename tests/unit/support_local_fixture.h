/* support_local_fixture.h — a fixture for the local provider's tests: a
 * temporary data_dir and bin_dir (holding a stand-in multinode-worker that
 * runs its arguments), a fake host, and helpers that launch, inspect and
 * read logs through the loaded provider table. Every wait is a condition
 * with a deadline (LFX_WAIT_MS).
 *
 * A test program does `#include "unit/support_local_fixture.c"` once, sets
 * lfx_prov in main (lfx_load) and uses lfx_setup/lfx_teardown per test. */
#ifndef MN_TEST_SUPPORT_LOCAL_FIXTURE_H
#define MN_TEST_SUPPORT_LOCAL_FIXTURE_H

#include <stdint.h>
#include <sys/types.h>

#include "unit/support_fake_host.h"

#define LFX_WAIT_MS 15000
/* A shell loop that keeps a worker busy. */
#define LFX_LOOP "while :; do sleep 0.05; done"

extern const struct mn_provider *lfx_prov;
/* When set (before lfx_setup), bin_dir/multinode-worker is a symlink to this
 * program instead of the shell stand-in that runs its arguments. */
extern const char *lfx_worker_binary;

struct lfx {
  char root[256];
  char data_dir[300];
  char bin_dir[300];
  struct mn_fake_host fh;
  void *state;           /* the running provider instance, or NULL */
  char launched[32][64]; /* execution ids, for the teardown's clean-up */
  size_t n_launched;
};

/* A log page that collects up to max lines. */
struct lfx_page {
  struct mn_log_page page;
  char lines[256][256];
  size_t n, max;
};

/* The built stand-in worker that also runs as a spawner
 * (worker/demo/stand_in_worker.c), found beside $MN_PLUGIN_DIR; NULL (and a
 * message) when it is missing. */
const char *lfx_stand_in_worker(void);
/* The parent pid of pid (from /proc), or -1. */
pid_t lfx_parent_of(pid_t pid);
/* /proc/PID/cmdline with the NULs as spaces ("" when gone). */
void lfx_cmdline(pid_t pid, char *out, size_t size);

/* Loads mn_provider_local.so; 0 or -1. lfx_unload at the end of main. */
int lfx_load(void);
void lfx_unload(void);

int lfx_setup(void **tstate);
int lfx_teardown(void **tstate);

int64_t lfx_now_ms(void);
void lfx_pause_ms(int ms);
void lfx_write_file(const char *path, const char *text, mode_t mode);
int lfx_count_lines(const char *path);

/* A fresh fake host on the same data_dir (bin_dir set), for a restart. */
void lfx_host_reset(struct lfx *fx, const char *cluster);
int lfx_provider_start(struct lfx *fx, struct mn_provider_error *err);
void lfx_provider_start_ok(struct lfx *fx);
void lfx_provider_stop(struct lfx *fx);

void lfx_launch_env(struct lfx *fx, const char *id, const char *const *cmd, size_t n_cmd,
                    double memory_gb, const struct mn_kv *env, size_t n_env,
                    struct mn_worker_ref *ref);
/* Runs `sh -c script` (through the stand-in worker). */
void lfx_launch_sh(struct lfx *fx, const char *id, const char *script, struct mn_worker_ref *ref);
struct mn_worker_state lfx_inspect1(struct lfx *fx, const struct mn_worker_ref *ref);
struct mn_worker_state lfx_wait_exited(struct lfx *fx, const struct mn_worker_ref *ref);

void lfx_page_init(struct lfx_page *p, size_t max);
int lfx_logs_page(struct lfx *fx, const struct mn_worker_ref *ref, const char *offset,
                  int max_lines, struct lfx_page *p, struct mn_provider_error *err);
/* The whole log, lines joined with '\n'. */
void lfx_log_text(struct lfx *fx, const struct mn_worker_ref *ref, char *out, size_t size);
void lfx_wait_log(struct lfx *fx, const struct mn_worker_ref *ref, const char *needle);
/* The first log line as a pid (test scripts start with `echo $$`). */
pid_t lfx_log_pid(struct lfx *fx, const struct mn_worker_ref *ref);

#endif
