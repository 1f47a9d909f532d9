/* support_local_fixture.h — a fixture for the local provider's tests: a
 * temporary data_dir and bin_dir (holding a stand-in multinode-worker that
 * runs its arguments), the provider loaded by the daemon's own plugin host
 * (config/config.h + plugin/host.h: a real configuration file, the real
 * host table and config accessors), and helpers that launch, inspect and
 * read logs through the host's wrappers. The daemon's log (stderr) is
 * captured per test, so that tests can look for the provider's lines. Every
 * wait is a condition with a deadline (LFX_WAIT_MS).
 *
 * A test program does `#include "unit/support_local_fixture.c"` once and
 * uses lfx_setup/lfx_teardown per test. */
#ifndef MN_TEST_SUPPORT_LOCAL_FIXTURE_H
#define MN_TEST_SUPPORT_LOCAL_FIXTURE_H

#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "multinode/provider.h"
#include "plugin/handle.h"
#include "plugin/host.h"

#define LFX_WAIT_MS 15000
/* A shell loop that keeps a worker busy. */
#define LFX_LOOP "while :; do sleep 0.05; done"

/* When set (before lfx_setup), bin_dir/multinode-worker is a symlink to this
 * program instead of the shell stand-in that runs its arguments. */
extern const char *lfx_worker_binary;

struct lfx {
  char root[256];
  char data_dir[300];
  char bin_dir[300];
  char cluster[128];
  char keys[16][64]; /* the provider's section, key: value */
  char values[16][512];
  size_t n_keys;
  char config_path[320];
  char log_path[320]; /* the daemon's captured stderr */
  int saved_stderr;
  char found[1024]; /* lfx_find_log's answer */
  struct mn_config cfg;
  struct mn_plugins *plugins;
  struct mn_provider_handle *h; /* the running provider instance, or NULL */
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

int lfx_setup(void **tstate);
int lfx_teardown(void **tstate);

int64_t lfx_now_ms(void);
void lfx_pause_ms(int ms);
void lfx_write_file(const char *path, const char *text, mode_t mode);
int lfx_count_lines(const char *path);

/* A fresh section (bin_dir only) and this cluster id, on the same
 * data_dir, for a restart. */
void lfx_host_reset(struct lfx *fx, const char *cluster);
/* Adds (or replaces) a key of the provider's section. */
void lfx_set(struct lfx *fx, const char *key, const char *value);
/* How many lines of the daemon's log so far hold needle; the first one. */
size_t lfx_count_logs(struct lfx *fx, const char *needle);
const char *lfx_find_log(struct lfx *fx, const char *needle);
/* Loads the provider as the daemon does; INVALID (err->msg: the daemon's
 * message) when it refuses to start. */
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
/* The provider's own logs operation (page semantics: add_line refusals). */
int lfx_logs_page(struct lfx *fx, const struct mn_worker_ref *ref, const char *offset,
                  int max_lines, struct lfx_page *p, struct mn_provider_error *err);
/* The whole log, lines joined with '\n'. */
void lfx_log_text(struct lfx *fx, const struct mn_worker_ref *ref, char *out, size_t size);
void lfx_wait_log(struct lfx *fx, const struct mn_worker_ref *ref, const char *needle);
/* The first log line as a pid (test scripts start with `echo $$`). */
pid_t lfx_log_pid(struct lfx *fx, const struct mn_worker_ref *ref);

#endif
