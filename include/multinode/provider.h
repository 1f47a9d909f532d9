/* multinode/provider.h — the compute-provider plugin ABI, version 1.2.
 *
 * This is the only header a provider needs. A provider is a shared object
 * named mn_provider_<name>.so (CMake: `mn_add_provider(NAME <name> SOURCES ...)`)
 * that exports exactly one symbol:
 *
 *     const struct mn_provider *mn_provider_entry(void);
 *
 * returning a pointer to a static, constant table (below). It never links
 * against the daemon and never writes to stdout/stderr: everything it needs
 * from the daemon (logging, the clock, its configuration, the URL and API key
 * workers must use) arrives in a struct mn_host passed to init. Copy
 * plugins/template to start a new provider (docs/writing-a-provider.md).
 *
 * Life cycle, as the daemon drives it:
 *   1. dlopen + mn_provider_entry(): the daemon checks abi_version (the major
 *      number must equal MN_PROVIDER_ABI_MAJOR), struct_size, and that the
 *      mandatory operations are present. It copies min(struct_size, its own
 *      sizeof) bytes into a zeroed struct, so operations added after the
 *      plugin was built read as NULL.
 *   2. init(config, host, &state, err) once, with the plugin's own YAML
 *      section (providers.<name>). A plugin that declares its keys
 *      (config_keys, since 1.2: "Declarative configuration" below) gets a
 *      section the daemon has already checked against them, every problem
 *      reported at once, and reads it with one host->config_load; one
 *      without checks its keys itself through the config accessors.
 *   3. prepare / launch / inspect_many / terminate / release / list_owned /
 *      logs, any number of times, CONCURRENTLY from several daemon threads:
 *      a provider protects its own state (a mutex, or no shared mutable
 *      state at all). Calls may block on the network; the daemon runs them on
 *      a bounded worker pool, never on its decision path.
 *   4. shutdown(state) once, when no other call is in flight.
 *   (`multinoded --check-config` instead loads the plugin and calls only
 *   check_config, when the plugin has it: since 1.1.)
 *
 * Conventions:
 *   - Every fallible operation returns 0 on success or one of the negative
 *     MN_PROVIDER_E_* codes, and then ALSO fills err (code + a lowercase,
 *     problem-first message for people; host->error() does both at once).
 *     The daemon shows the message to users (e.g. as an execution's
 *     error_message), so make it specific: `image "x" not found`.
 *   - Strings passed in are borrowed for the duration of the call only;
 *     copy what you keep. Nothing allocated by the plugin is freed by the
 *     daemon and vice versa: results go into caller-provided structs.
 *   - The struct only grows at the end; new operations are marked
 *     "since 1.N" and a provider that predates them simply lacks them.
 *
 * The smallest provider (see plugins/template for a complete, commented
 * one):
 *
 *     #include <multinode/provider.h>
 *
 *     struct my_conf { const char *endpoint; };
 *     static const struct mn_config_key my_keys[] = {
 *         {.name = "endpoint", MN_CONFIG_AT(struct my_conf, STRING, endpoint),
 *          .def = "http://localhost:4646", .doc = "The API to call."},
 *         {0}};
 *
 *     static int my_init(const struct mn_cfg_node *config, const struct mn_host *host,
 *                        void **state, struct mn_provider_error *err) {
 *       struct my_conf conf = {0};
 *       int rc = host->config_load(config, my_keys, &conf, err);
 *       ...build *state...
 *       return rc;
 *     }
 *     ...my_shutdown, my_launch, my_inspect_many, my_terminate...
 *
 *     static const struct mn_provider my_provider = {
 *         .abi_version = MN_PROVIDER_ABI_VERSION,
 *         .struct_size = sizeof(struct mn_provider),
 *         .name = "nomad",
 *         .caps = MN_PROVIDER_CAP_BATCH_INSPECT,
 *         .init = my_init, .shutdown = my_shutdown, .launch = my_launch,
 *         .inspect_many = my_inspect_many, .terminate = my_terminate,
 *         .config_keys = my_keys,
 *     };
 *     const struct mn_provider *mn_provider_entry(void) { return &my_provider; }
 */
#ifndef MULTINODE_PROVIDER_H
#define MULTINODE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Versioning                                                              */

#define MN_PROVIDER_ABI_MAJOR 1 /* incompatible changes */
#define MN_PROVIDER_ABI_MINOR 2 /* operations and fields appended at the end */
#define MN_PROVIDER_ABI(major, minor) ((((uint32_t)(major)) << 16) | ((uint32_t)(minor) & 0xffffu))
#define MN_PROVIDER_ABI_VERSION MN_PROVIDER_ABI(MN_PROVIDER_ABI_MAJOR, MN_PROVIDER_ABI_MINOR)
#define MN_PROVIDER_ABI_MAJOR_OF(v) (((uint32_t)(v)) >> 16)
#define MN_PROVIDER_ABI_MINOR_OF(v) (((uint32_t)(v)) & 0xffffu)

/* The symbol the daemon looks up, and its type. */
#define MN_PROVIDER_ENTRY_SYMBOL "mn_provider_entry"
struct mn_provider;
typedef const struct mn_provider *mn_provider_entry_fn(void);

/* Providers are built with hidden visibility; the declaration of
 * mn_provider_entry at the end of this header carries this attribute, so
 * including the header and defining the function exports it. */
#if defined(__GNUC__)
#define MN_PROVIDER_EXPORT __attribute__((visibility("default")))
#else
#define MN_PROVIDER_EXPORT
#endif

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

enum mn_provider_errcode {
  MN_PROVIDER_OK = 0,
  /* Try again later (network hiccup, throttling, 5xx). The daemon retries
   * with backoff and it does NOT consume one of the invocation's attempts. */
  MN_PROVIDER_E_TRANSIENT = -1,
  /* No room right now (quota, no node fits). The daemon waits and retries;
   * no attempt is consumed. */
  MN_PROVIDER_E_CAPACITY = -2,
  /* The request can never succeed as given (bad image, bad config, bad
   * offset). The attempt fails with the message; the retry policy applies. */
  MN_PROVIDER_E_INVALID = -3,
  /* The worker (or log) referred to does not exist (any more). */
  MN_PROVIDER_E_NOT_FOUND = -4,
  /* Credentials were refused. Treated like INVALID, and logged loudly. */
  MN_PROVIDER_E_AUTH = -5,
  /* Set only by the daemon's wrappers: the provider lacks this operation
   * (NULL, or built against an older minor version) or capability. */
  MN_PROVIDER_E_UNSUPPORTED = -6,
};

#define MN_PROVIDER_ERROR_MSG_MAX 512

struct mn_provider_error {
  int code; /* one of enum mn_provider_errcode */
  char msg[MN_PROVIDER_ERROR_MSG_MAX];
  /* since 1.2: with TRANSIENT or CAPACITY, how long (µs) to wait before the
   * daemon calls again for the same execution, function or status batch
   * (an answer's Retry-After, a rate limit's next token); 0: the daemon's
   * own backoff (100 ms doubling to 30 s). The daemon zeroes it before each
   * call and waits at most 15 minutes. It is the ONLY retry policy: a
   * provider never sleeps and retries itself, it returns TRANSIENT. Write
   * it only when MN_HOST_AT_LEAST(host, 1, 2) (older daemons' struct ends
   * at msg); mn_provider_retry_after() does both. */
  int64_t retry_after_us;
};

/* ---------------------------------------------------------------------- */
/* Capabilities: what the provider can do; the daemon adapts.              */

/* inspect_many accepts any n (the provider batches internally). Without
 * it the daemon calls inspect_many with n == 1. */
#define MN_PROVIDER_CAP_BATCH_INSPECT (UINT64_C(1) << 0)
/* logs is implemented. Without it the logs endpoint returns no lines. */
#define MN_PROVIDER_CAP_LOGS (UINT64_C(1) << 1)
/* vcpus is enforced on the worker (otherwise it is advisory). */
#define MN_PROVIDER_CAP_CPU_LIMIT (UINT64_C(1) << 2)
/* memory_gb is enforced on the worker (otherwise it is advisory). */
#define MN_PROVIDER_CAP_MEMORY_LIMIT (UINT64_C(1) << 3)
/* list_owned is implemented (reconciliation after a restart). */
#define MN_PROVIDER_CAP_LIST_OWNED (UINT64_C(1) << 4)
/* GPUs can be requested (reserved for a later minor version). */
#define MN_PROVIDER_CAP_GPU (UINT64_C(1) << 5)

/* ---------------------------------------------------------------------- */
/* What runs in the worker                                                 */
/*
 * A worker is one process (a container, a task, a pod's container) started
 * for one execution. Its entrypoint is `multinode-worker` (the image's
 * ENTRYPOINT; the function's command is its argv); it reads the variables
 * below, calls POST .../start (the daemon answers with the invocation's
 * arguments, or refuses a worker it no longer expects), runs the function,
 * and calls POST .../finish with the result. Its exit code after /finish is
 * informational: the daemon takes the outcome from /finish; a worker that
 * ends without /finish is a failed attempt, its exit_code and reason (e.g.
 * OOMKilled) named in the message.
 *
 * Who enforces what:
 *   - the function's timeout_seconds: the daemon (it terminates the worker
 *     when the deadline passes); a provider need not.
 *   - vcpus and memory_gb: the provider, when it declares
 *     MN_PROVIDER_CAP_CPU_LIMIT / MN_PROVIDER_CAP_MEMORY_LIMIT; without the
 *     bit the daemon logs once per function that the limit is not enforced.
 *   - termination: terminate's grace_seconds (SIGTERM, then a hard kill).
 *
 * The environment is built by the daemon, once: prepare gets the part every
 * execution of the function shares (mn_function_desc.worker_env, since
 * 1.2), launch the complete one (mn_launch_spec.env) with the execution's
 * secret named by secret_env_name. MULTINODE_API_URL is the host's
 * public_url, or the section's `api_url` key (a URL workers reach the
 * daemon by from their network), handled by the daemon for every provider.
 * Pass the environment through unchanged. */
#include "multinode/common/worker_env.h" /* MN_WORKER_ENV_* */

/* ---------------------------------------------------------------------- */
/* Data passed to and from operations                                      */

struct mn_kv {
  const char *key;
  const char *value;
};

/* A deployed function, as prepare sees it. */
struct mn_function_desc {
  const char *project_name;
  const char *version_id;
  const char *function_name;
  const char *image;                /* container image; may be NULL/"" for local */
  const char *const *command;       /* argv; NULL when the function names none */
  size_t n_command;
  const struct mn_kv *env;          /* the function's own env */
  size_t n_env;
  double vcpus;
  double memory_gb;
  int timeout_seconds;
  /* since 1.2 (read only when MN_HOST_AT_LEAST(host, 1, 2)): the worker
   * environment every execution of this function shares, in order: env
   * without MULTINODE_* entries, then MULTINODE_API_URL, _PROJECT_NAME,
   * _VERSION_ID, _FUNCTION_NAME. No secret: fit for a shared object (an
   * ECS task definition). */
  const struct mn_kv *worker_env;
  size_t n_worker_env;
};

/* What prepare returns: details the daemon stores with the function (as
 * prepared_function_details) and hands back to every launch. */
#define MN_PREPARED_DETAILS_MAX 4096
struct mn_prepared {
  /* A JSON object as text, e.g. {"task_definition_arn":"arn:..."}; leave it
   * empty ("") when there is nothing to remember. */
  char details_json[MN_PREPARED_DETAILS_MAX];
};

/* One worker to start, for one execution (one attempt of an invocation). */
struct mn_launch_spec {
  const char *project_name;
  const char *version_id;
  const char *function_name;
  const char *invocation_id;
  const char *execution_id;   /* unique; the idempotency key of launch */
  const char *image;          /* container image; may be NULL/"" */
  const char *const *command; /* argv to run; NULL/0 means the image's own CMD */
  size_t n_command;
  /* The complete environment the worker must get, in order: the function's
   * env, then the MULTINODE_* variables the worker entrypoint reads
   * (MULTINODE_API_URL, MULTINODE_API_KEY, MULTINODE_PROJECT_NAME,
   * MULTINODE_VERSION_ID, MULTINODE_FUNCTION_NAME, MULTINODE_INVOCATION_ID,
   * MULTINODE_EXECUTION_ID; a function env entry named MULTINODE_* is
   * dropped). A provider whose workers reach the daemon by
   * another URL (e.g. from inside a container network) overrides
   * MULTINODE_API_URL; otherwise pass env through unchanged. */
  const struct mn_kv *env;
  size_t n_env;
  double vcpus;
  double memory_gb;
  int timeout_seconds;
  /* Worker credentials (also present in env). api_key is this execution's
   * own key (since 1.2; before, the daemon's single key). */
  const char *api_url;
  const char *api_key;
  /* What prepare returned for this function (JSON object text), or NULL. */
  const char *prepared_details_json;
  /* since 1.2: the name of the env entry that is a secret (the execution's
   * own API key, "MULTINODE_API_KEY"), or NULL. Deliver it the least
   * visible way the platform has: never in a shared or long-lived object
   * (an ECS task definition, a Job's spec), but per execution (a RunTask
   * container override, a Secret owned by the Job referenced with
   * secretKeyRef, the environment of that one process or container). It is
   * valid only while this execution runs. */
  const char *secret_env_name;
};

/* A reference to one worker, as the daemon stores it in the execution's
 * worker_details {type, identifier, logs_identifier}. The provider fills it
 * in launch and gets it back in every other call. Both are NUL-terminated
 * strings chosen by the provider (a container id, a task ARN, a pid + file). */
#define MN_WORKER_ID_MAX 512
struct mn_worker_ref {
  char identifier[MN_WORKER_ID_MAX];
  char logs_identifier[MN_WORKER_ID_MAX]; /* where its log lives; may equal identifier */
};

enum mn_worker_phase {
  MN_WORKER_PHASE_PENDING = 0, /* accepted, not running yet (pulling, scheduling) */
  MN_WORKER_PHASE_RUNNING,     /* running */
  MN_WORKER_PHASE_EXITED,      /* finished; exit_code and reason are set */
  MN_WORKER_PHASE_MISSING,     /* the provider has no such worker (any more) */
};

struct mn_worker_state {
  int phase;     /* enum mn_worker_phase */
  int exit_code; /* EXITED: the process's exit status; 128+N for signal N; -1 unknown */
  char reason[256]; /* EXITED/MISSING: short human reason ("OOMKilled"), or "" */
};

/* One worker found by list_owned. */
struct mn_owned_worker {
  const char *execution_id; /* read back from the worker's labels/tags */
  struct mn_worker_ref ref;
  struct mn_worker_state state;
};

/* list_owned callback: return 0 to continue, nonzero to stop early. */
typedef int mn_owned_worker_fn(void *ctx, const struct mn_owned_worker *worker);

/* A page of log lines. The daemon owns it; the provider fills it with
 * add_line (in order, at most max_lines times, lines without their trailing
 * newline; bytes need not be valid UTF-8) and sets next_offset. */
#define MN_LOG_OFFSET_MAX 256
struct mn_log_page {
  /* Returns 0 when the line was added; nonzero when it was NOT (the page
   * is full, or the daemon ran out of memory): stop, and set next_offset so
   * that the next call starts at this line. */
  int (*add_line)(struct mn_log_page *page, const char *line, size_t len);
  /* The offset to pass to the next logs call to continue after the last
   * line returned, as a NUL-terminated opaque string; "" when the log has no
   * more lines for now. */
  char next_offset[MN_LOG_OFFSET_MAX];
  void *host_private; /* the daemon's; do not touch */
};

/* Where deployments push worker images, and how to log in there (since 1.1;
 * GET /container_repository_credentials). */
struct mn_registry_credentials {
  char repository_name[512]; /* the full repository URL, e.g. 123.dkr.ecr.eu-west-2.amazonaws.com/mn */
  char username[256];
  char password[8192];
  char endpoint_url[512]; /* the registry to log in to, e.g. https://123.dkr.ecr... */
};

/* ---------------------------------------------------------------------- */
/* The host table: daemon services handed to init                          */

struct mn_cfg_node; /* opaque: a node of the daemon's YAML configuration */
struct mn_config_key;

enum mn_host_log_level {
  MN_HOST_LOG_ERROR = 0,
  MN_HOST_LOG_WARN,
  MN_HOST_LOG_INFO,
  MN_HOST_LOG_DEBUG,
};

/* Valid from init until shutdown returns. Versioned by struct_size: a field
 * added in 1.N may be used only if struct_size covers it: MN_HOST_HAS(host,
 * newthing), below.
 * All fields below exist since 1.0. */
struct mn_host {
  uint32_t abi_version; /* the daemon's MN_PROVIDER_ABI_VERSION */
  uint32_t struct_size; /* sizeof(struct mn_host) in the daemon */
  void *host_private;   /* the daemon's; do not touch */

  /* The section name of this provider instance (providers.<name>), which is
   * also the worker_details "type". */
  const char *provider_name;
  /* The URL workers must call, e.g. "http://127.0.0.1:5000". */
  const char *public_url;
  /* Empty since 1.2: each worker gets its own key in its launch spec
   * (api_key, the env entry secret_env_name names); the daemon's keys never
   * reach a provider. Before 1.2: the single key workers sent. */
  const char *api_key;
  /* The daemon's data directory (exists); keep provider state under
   * <data_dir>/<provider_name>/. */
  const char *data_dir;
  /* Identifies this daemon's cluster (one database). Tag/label every worker
   * with it, and have list_owned return only workers carrying it. */
  const char *cluster_id;

  /* Logs one line through the daemon's log, tagged with the provider name.
   * level is an enum mn_host_log_level; no trailing newline. */
  void (*log)(const struct mn_host *host, int level, const char *fmt, ...)
      __attribute__((format(printf, 3, 4)));
  /* Wall clock in microseconds since the Unix epoch. */
  int64_t (*now_us)(void);
  /* Sets err->code = code and err->msg from fmt; returns code, so
   * `return host->error(err, MN_PROVIDER_E_INVALID, "bad %s", x);` */
  int (*error)(struct mn_provider_error *err, int code, const char *fmt, ...)
      __attribute__((format(printf, 3, 4)));

  /* Config accessors over the plugin's section (the `config` node given to
   * init; NULL when the section is empty). key is relative to that node and
   * may be dotted for nested mappings ("auth.token_file").
   *
   * Each returns 0 on success; when the key is absent and required == 0 it
   * also returns 0 and leaves *out untouched (so set your default first).
   * On a missing required key, a wrong type or an out-of-range value it
   * returns MN_PROVIDER_E_INVALID and err->msg reads, for example:
   *   multinode.yaml:9:13: providers.docker.socket: expected a string
   * Returned strings and arrays belong to the daemon and stay valid until
   * shutdown returns. */
  int (*config_has)(const struct mn_cfg_node *config, const char *key);
  int (*config_string)(const struct mn_cfg_node *config, const char *key, int required,
                       const char **out, struct mn_provider_error *err);
  int (*config_int)(const struct mn_cfg_node *config, const char *key, int required,
                    int64_t min, int64_t max, int64_t *out, struct mn_provider_error *err);
  int (*config_bool)(const struct mn_cfg_node *config, const char *key, int required,
                     int *out, struct mn_provider_error *err);
  /* "90s", "5m", "1h", "2h30m", "1d" or a bare integer (seconds). */
  int (*config_duration)(const struct mn_cfg_node *config, const char *key, int required,
                         int64_t *seconds_out, struct mn_provider_error *err);
  /* A sequence of scalars, e.g. `subnets: [subnet-1, subnet-2]`. */
  int (*config_strings)(const struct mn_cfg_node *config, const char *key, int required,
                        const char *const **items_out, size_t *n_out,
                        struct mn_provider_error *err);
  /* Fails when the section holds a key not in known[0..n_known) (the
   * daemon's own `plugin` key is always allowed); err->msg then lists EVERY
   * unknown key, one per line. Call it first in init. */
  int (*config_check_keys)(const struct mn_cfg_node *config, const char *const *known,
                           size_t n_known, struct mn_provider_error *err);
  /* For checks of your own (a path that must exist, two keys that exclude
   * each other): sets err to "FILE:LINE:COL: providers.<name>.KEY: <fmt...>"
   * at KEY's value (at the section when KEY is absent) and returns
   * MN_PROVIDER_E_INVALID. */
  int (*config_error)(const struct mn_cfg_node *config, const char *key,
                      struct mn_provider_error *err, const char *fmt, ...)
      __attribute__((format(printf, 4, 5)));

  /* Tells the daemon that the state of some worker changed (it exited), so
   * it inspects at once instead of at its next status poll. Callable from
   * any thread, at any time between init and shutdown; cheap. Providers
   * that learn about exits by events (a reaped child, a watch) call it;
   * others never need to. */
  void (*wake)(const struct mn_host *host);

  /* since 1.2: fills the struct at OUT from the section by the key table
   * KEYS (below, "Declarative configuration"): each key's value, or its
   * default, converted to its type and stored at its offset; a key that is
   * absent and has no default leaves its field untouched. Returns 0, or
   * INVALID with the first problem (the daemon has already reported them
   * all when KEYS is the provider's config_keys). */
  int (*config_load)(const struct mn_cfg_node *config, const struct mn_config_key *keys,
                     void *out, struct mn_provider_error *err);
};

/* 1 when the daemon's host table has `field` (added after 1.0), e.g.
 * `if (MN_HOST_HAS(host, wake) && host->wake) host->wake(host);` */
#define MN_HOST_HAS(host, field)                                               \
  ((host)->struct_size >= offsetof(struct mn_host, field) + sizeof((host)->field))
/* 1 when the daemon speaks at least ABI major.minor (its structs passed to
 * the provider have that version's fields, e.g. retry_after_us in 1.2). */
#define MN_HOST_AT_LEAST(host, major, minor)                                   \
  (MN_PROVIDER_ABI_MAJOR_OF((host)->abi_version) == (major) &&                 \
   MN_PROVIDER_ABI_MINOR_OF((host)->abi_version) >= (minor))

/* Asks the daemon to call again in `us` µs (a TRANSIENT or CAPACITY error's
 * Retry-After), when the daemon knows the field (since 1.2). */
static inline void mn_provider_retry_after(const struct mn_host *host,
                                           struct mn_provider_error *err, int64_t us) {
  if (MN_HOST_AT_LEAST(host, 1, 2))
    err->retry_after_us = us > 0 ? us : 0;
}

/* ---------------------------------------------------------------------- */
/* Declarative configuration (since 1.2)                                   */
/*
 * A provider declares the keys of its section ONCE, as a table ending with
 * a key whose name is NULL (nginx's ngx_command_t, Fluent Bit's config
 * maps), and points config_keys (in struct mn_provider) at it. The daemon
 * then, before init or check_config:
 *   - checks every key of the section against the table and reports EVERY
 *     problem at once, each as "FILE:LINE:COL: providers.<name>.KEY:
 *     problem" (unknown key, with a "did you mean"; wrong type; out of
 *     bounds; not one of the allowed values; refused by the key's check);
 *     the provider is not created when there is one;
 *   - prints the table in `multinoded --print-config-reference` and in the
 *     docs' key tables (scripts/config_docs.sh).
 * init then reads the whole section into its own struct in one call:
 *
 *     struct my_conf { const char *endpoint; int64_t timeout_s; };
 *     #define AT(T, field) MN_CONFIG_AT(struct my_conf, T, field)
 *     static const struct mn_config_key my_keys[] = {
 *         {.name = "endpoint", AT(STRING, endpoint), .def = "http://localhost:4646",
 *          .doc = "The API to call."},
 *         {.name = "timeout", AT(DURATION, timeout_s), .def = "30s", .min = 1,
 *          .max = 3600, .doc = "Longest one call may take."},
 *         {0}};
 *     ...  rc = host->config_load(config, my_keys, &conf, err);
 *
 * Checks across keys (two keys that exclude each other) stay in init and
 * check_config, through config_error. The daemon's own keys of every
 * section (`plugin`, `api_url`) are never in the table. A provider without
 * a table (or built against 1.0/1.1) checks its keys itself, as before. */

enum mn_config_type {
  MN_CONFIG_STRING = 1, /* const char *: any scalar */
  MN_CONFIG_BOOL,       /* int: true/false (also yes/no, on/off) */
  MN_CONFIG_INT,        /* int64_t, within [min, max] */
  MN_CONFIG_DURATION,   /* int64_t seconds: 90s, 5m, 1h, 2h30m, 1d or bare seconds; [min, max] */
  MN_CONFIG_BYTES,      /* uint64_t bytes: 512, 64KiB, 64MiB, 1GiB (k/M/G: powers of 1024);
                         * [min, max] */
  MN_CONFIG_ENUM,       /* const char *: one of allowed[] (the table's own string) */
  MN_CONFIG_STRINGS,    /* a list of scalars: const char *const * at offset, size_t count at
                         * count_offset; [min, max] items */
  MN_CONFIG_ANY,        /* const struct mn_cfg_node *: any YAML value (a mapping, ...), read
                         * with the config accessors above */
};

#define MN_CONFIG_REQUIRED 0x1u /* an error when absent */
#define MN_CONFIG_NONEMPTY 0x2u /* STRING: "" is refused */

struct mn_config_key {
  const char *name;  /* the key in the section; NULL ends the table */
  int type;          /* enum mn_config_type */
  unsigned flags;    /* MN_CONFIG_REQUIRED | MN_CONFIG_NONEMPTY */
  const char *def;   /* the default as written in YAML ("7d", "64MiB", "true"); NULL: none */
  int64_t min, max;  /* INT, DURATION, BYTES: bounds; STRINGS: item count; 0, 0: unbounded;
                      * max INT64_MAX: no upper bound */
  const char *const *allowed; /* ENUM: the values, ending with NULL */
  size_t offset;              /* of the field in the struct config_load fills */
  size_t count_offset;        /* STRINGS: of its size_t count */
  /* optional: a check of a STRING/ENUM value or of each STRINGS item; 0 when
   * fine, else nonzero with a problem in why ("is not a subnet id"; the
   * daemon prefixes the position, key and value). */
  int (*check)(const char *value, char *why, size_t why_size);
  const char *doc;   /* one line for the reference: what it does */
};

/* `.type = MN_CONFIG_<T>, .offset = offsetof(S, FIELD)`, and in C11 a
 * compile error when FIELD is not the C type config_load stores for T
 * (above): {.name = "pull", MN_CONFIG_AT(struct my_conf, BOOL, pull)}.
 * MN_CONFIG_LIST_AT is the same for STRINGS and its count. */
#define MN_CONFIG_CTYPE_STRING const char *
#define MN_CONFIG_CTYPE_BOOL int
#define MN_CONFIG_CTYPE_INT int64_t
#define MN_CONFIG_CTYPE_DURATION int64_t
#define MN_CONFIG_CTYPE_BYTES uint64_t
#define MN_CONFIG_CTYPE_ENUM const char *
#define MN_CONFIG_CTYPE_ANY const struct mn_cfg_node *
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__cplusplus)
#define MN_CONFIG_OFFSET(S, field, ctype)                                      \
  (offsetof(S, field) + 0 * sizeof(char[_Generic(((S *)0)->field, ctype: 1)]))
#else
#define MN_CONFIG_OFFSET(S, field, ctype) offsetof(S, field)
#endif
#define MN_CONFIG_AT(S, T, field)                                              \
  .type = MN_CONFIG_##T, .offset = MN_CONFIG_OFFSET(S, field, MN_CONFIG_CTYPE_##T)
#define MN_CONFIG_LIST_AT(S, field, count_field)                               \
  .type = MN_CONFIG_STRINGS, .offset = MN_CONFIG_OFFSET(S, field, const char *const *), \
  .count_offset = MN_CONFIG_OFFSET(S, count_field, size_t)

/* ---------------------------------------------------------------------- */
/* The provider table                                                      */

struct mn_provider {
  /* --- header: never changes --- */
  uint32_t abi_version; /* MN_PROVIDER_ABI_VERSION of the header you built with */
  uint32_t struct_size; /* sizeof(struct mn_provider) of the header you built with */
  const char *name;     /* e.g. "docker" (informational; the section name rules) */
  uint64_t caps;        /* MN_PROVIDER_CAP_* bits */

  /* --- operations; MANDATORY ones must be non-NULL --- */

  /* since 1.0, MANDATORY. Validates the section (config_check_keys first,
   * then the typed accessors) and builds the provider's state. May check
   * that its backend is reachable, but must not fail for a transient
   * outage (log a warning instead). Keep the host pointer: it stays valid
   * until shutdown. Errors: INVALID (bad config), AUTH, TRANSIENT. The
   * daemon refuses to start when init fails and shows err->msg. */
  int (*init)(const struct mn_cfg_node *config, const struct mn_host *host,
              void **state_out, struct mn_provider_error *err);

  /* since 1.0, MANDATORY. Stops every thread the provider started and
   * frees the state: the daemon unloads the shared object right after.
   * Workers keep running: the daemon finds them again through
   * list_owned/inspect_many after a restart. */
  void (*shutdown)(void *state);

  /* since 1.0, optional (NULL: nothing to prepare). Called once per
   * deployed function before its first launch, and again after a failure
   * (e.g. ECS RegisterTaskDefinition; Docker: check the image exists).
   * Must be idempotent. Errors: TRANSIENT/CAPACITY (retried), INVALID (the
   * attempt that needed it ends TERMINATED with err->msg as its
   * error_message), AUTH. */
  int (*prepare)(void *state, const struct mn_function_desc *function,
                 struct mn_prepared *prepared_out, struct mn_provider_error *err);

  /* since 1.0, MANDATORY. Starts one worker for spec->execution_id and
   * fills ref_out. MUST be idempotent on the execution id: a second call
   * with the same execution id (after a daemon crash, or a retried call
   * whose reply was lost) returns the same worker or finds it — never starts
   * a second one. Use the id as an idempotency token (ECS clientToken) or
   * in a deterministic name (Docker container, K8s Job), and label the
   * worker with the execution id and host->cluster_id. May return before
   * the worker runs (PENDING). Errors: TRANSIENT (retried with backoff, no
   * attempt consumed), CAPACITY (waits), INVALID/AUTH (the attempt fails
   * with err->msg). */
  int (*launch)(void *state, const struct mn_launch_spec *spec,
                struct mn_worker_ref *ref_out, struct mn_provider_error *err);

  /* since 1.0, MANDATORY. Fills states_out[i] for refs[i], i < n. A worker
   * the provider does not know is MISSING (that is not an error). Without
   * MN_PROVIDER_CAP_BATCH_INSPECT the daemon passes n == 1. Errors:
   * TRANSIENT/AUTH for the whole batch (the daemon keeps the old states). */
  int (*inspect_many)(void *state, const struct mn_worker_ref *refs, size_t n,
                      struct mn_worker_state *states_out, struct mn_provider_error *err);

  /* since 1.0, MANDATORY. Asks the worker to stop: SIGTERM now, a hard kill
   * once grace_seconds have passed. Should return without waiting for the
   * worker to exit. Terminating a worker that already exited or is gone is
   * success. Errors: TRANSIENT (retried), AUTH. */
  int (*terminate)(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                   struct mn_provider_error *err);

  /* since 1.0, optional (NULL: nothing to clean up). Called once after the
   * worker exited and its outcome is recorded: remove what it left behind
   * while keeping its logs readable through logs() (Docker: save the log,
   * remove the container; local: keep the log file). Idempotent; a worker
   * that is already gone is success. Errors: TRANSIENT (retried). */
  int (*release)(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err);

  /* since 1.0, optional; requires MN_PROVIDER_CAP_LIST_OWNED. Calls cb once
   * per worker (running or exited, not yet released) labelled with
   * host->cluster_id, with the execution id read back from its labels; a
   * backend that keeps finished workers a while (ECS, a Kubernetes Job's
   * TTL) may still list a released one, EXITED. Stops early when cb
   * returns nonzero (and then returns 0). Errors: TRANSIENT, AUTH. */
  int (*list_owned)(void *state, mn_owned_worker_fn *cb, void *ctx,
                    struct mn_provider_error *err);

  /* since 1.0, optional; requires MN_PROVIDER_CAP_LOGS. Adds up to
   * max_lines lines of the worker's log, starting at offset (NULL: from the
   * start; otherwise a next_offset this provider returned earlier), and
   * sets page->next_offset. Works after the worker exited and after
   * release. Errors: INVALID (an offset this provider never produced),
   * NOT_FOUND (no such log), TRANSIENT. */
  int (*logs)(void *state, const struct mn_worker_ref *ref, const char *offset,
              int max_lines, struct mn_log_page *page, struct mn_provider_error *err);

  /* since 1.1, optional (NULL: the daemon answers with empty local
   * credentials). Fills out with the registry the provider's workers pull
   * images from and short-lived credentials to push there (ECR
   * GetAuthorizationToken); the daemon serves it, for the default provider,
   * as GET /container_repository_credentials. Errors: TRANSIENT, AUTH,
   * INVALID (not configured). */
  int (*registry_credentials)(void *state, struct mn_registry_credentials *out,
                              struct mn_provider_error *err);

  /* since 1.1, optional. Validates the section as init does (keys, types,
   * values, config_error for checks of its own) and nothing more: no files
   * written, no threads, no network, no state. `multinoded --check-config`
   * calls it (with host->cluster_id and data_dir set but not created);
   * without it, --check-config only loads the plugin. Errors: INVALID. */
  int (*check_config)(const struct mn_cfg_node *config, const struct mn_host *host,
                      struct mn_provider_error *err);

  /* since 1.2, optional (NULL: the provider checks its keys itself). The
   * section's keys ("Declarative configuration", above): the daemon checks
   * the section against them, reporting every problem, before init or
   * check_config, and prints them in the configuration reference. */
  const struct mn_config_key *config_keys;
};

/* The daemon refuses a struct_size smaller than this: the header plus every
 * mandatory operation. */
#define MN_PROVIDER_MIN_STRUCT_SIZE                                            \
  (offsetof(struct mn_provider, terminate) + sizeof(((struct mn_provider *)0)->terminate))

/* The one symbol a provider exports. */
MN_PROVIDER_EXPORT const struct mn_provider *mn_provider_entry(void);

#ifdef __cplusplus
}
#endif

#endif
