/* conformance.h — the provider conformance suite's harness (issue 17,
 * docs/writing-a-provider.md): a provider loaded by the daemon's own plugin
 * host (config/config.h, plugin/host.h) from a real configuration file, and
 * functions, launch specs and log pages built by the daemon's own code
 * (plugin/launch_spec.h), so that a provider is checked exactly as
 * multinoded drives it. */
#ifndef MN_CONFORMANCE_H
#define MN_CONFORMANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "multinode/provider.h"
#include "plugin/host.h"
#include "store/model.h"

/* Every failure names the contract of include/multinode/provider.h it broke. */
#define CONTRACT(cond, contract, ...)                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      char cf_msg_[1500];                                                      \
      snprintf(cf_msg_, sizeof cf_msg_, __VA_ARGS__);                          \
      fail_msg("contract broken: %s: %s", (contract), cf_msg_);                \
    }                                                                          \
  } while (0)

/* The contracts the harness itself checks. */
#define C_INIT "init accepts a valid section and builds the provider"
#define C_LAUNCH "launch starts one worker for the execution and fills ref_out"
#define C_INSPECT "inspect_many reports each worker's state (a launched worker runs and ends)"
#define C_LOGS "logs return the worker's output, page by page"

#define CF_MAX_WORKERS 64
#define CF_WAIT_MS 30000

/* One running instance of the provider: what one daemon (one cluster id,
 * one data_dir) has loaded. */
struct cf_instance {
  struct mn_config cfg;
  struct mn_plugins *plugins;
  struct mn_provider_handle *h;
  char cluster[64];
  char data_dir[600];
  /* every worker this instance launched, for list_owned and the clean-up */
  struct {
    char execution_id[64];
    struct mn_worker_ref ref;
    bool released;
  } workers[CF_MAX_WORKERS];
  size_t n_workers;
  const void *prepared_for; /* the cf_function last prepared here */
};

/* A deployed function: a shell script run by `sh -c`. */
struct cf_function {
  struct mn_invocation inv;
  char name[64];
};

/* The run's parameters (tests/conformance/run.sh sets them). */
struct cf_params {
  const char *config;        /* the configuration file */
  const char *bad_config;    /* the same with an unknown key in the section */
  const char *down_config;   /* the same with a backend that does not answer, or "" */
  const char *work;          /* a scratch folder */
  const char *image;         /* the functions' image ($CONFORMANCE_IMAGE) or "" */
  /* shell commands after which the provider's next backend call fails */
  const char *fault_429;  /* HTTP 429 with "Retry-After: 7" */
  const char *fault_5xx;  /* a server error */
  const char *fault_auth; /* credentials refused */
  bool no_restart;           /* the provider forgets its workers at shutdown */
  bool accepts_any_function; /* nothing the suite deploys is refused */
  bool fake_workers;         /* workers run no command (their logs are made up) */
};
extern struct cf_params cf;

int64_t cf_now_ms(void);
void cf_pause_ms(int ms);

/* Loads the provider as a daemon with this cluster id and data_dir would;
 * fails the test on error. cf_close shuts it down (workers keep running). */
void cf_open(struct cf_instance *in, const char *cluster);
void cf_close(struct cf_instance *in);

void cf_function_init(struct cf_function *f, const char *name, const char *script,
                      const char *image);
void cf_function_release(struct cf_function *f);

/* prepare, once per function and instance (again after another function). */
int cf_prepare(struct cf_instance *in, struct cf_function *f, struct mn_provider_error *err);
/* prepare (once per instance) + launch of EXECUTION_ID; the provider's code. */
int cf_launch(struct cf_instance *in, struct cf_function *f, const char *execution_id,
              struct mn_worker_ref *ref, struct mn_provider_error *err);
/* The same, failing the test unless it succeeds. */
void cf_launch_ok(struct cf_instance *in, struct cf_function *f, const char *execution_id,
                  struct mn_worker_ref *ref);
int cf_release(struct cf_instance *in, const struct mn_worker_ref *ref,
               struct mn_provider_error *err);
struct mn_worker_state cf_inspect1(struct cf_instance *in, const struct mn_worker_ref *ref);
/* Polls inspect until the phase is PHASE (or, for RUNNING, past it). */
struct mn_worker_state cf_wait_phase(struct cf_instance *in, const struct mn_worker_ref *ref,
                                     int phase);
/* Polls inspect until the worker is EXITED or MISSING (terminated: gone). */
struct mn_worker_state cf_wait_gone(struct cf_instance *in, const struct mn_worker_ref *ref,
                                    const char *contract);
/* Every line of the worker's log, paged MAX at a time (max_pages at most);
 * a JSON array. */
json_t *cf_log_all(struct cf_instance *in, const struct mn_worker_ref *ref, int max,
                   const char *contract);
/* Polls the log until it holds a line containing NEEDLE. */
json_t *cf_wait_log(struct cf_instance *in, const struct mn_worker_ref *ref, const char *needle);
size_t cf_count_lines(const json_t *lines, const char *needle);

/* A fresh execution id. */
void cf_new_id(char out[64]);
/* A reference of the same shape as REF that no worker has. */
void cf_unknown_ref(const struct mn_worker_ref *ref, const char *execution_id,
                    struct mn_worker_ref *out);

/* Terminates and releases what the instance left running. */
void cf_cleanup(struct cf_instance *in);

#endif
