/* libmultinode-client: a C client of the Multinode REST API.
 *
 * The wire contract is docs/compatibility.md §1-§2: paths, JSON field
 * names, error statuses and detail strings are those of the original
 * control plane, so this client also talks to it.
 *
 * Conventions
 * - Every fallible call returns 0 or a negative MN_CLIENT_E* code and, when
 *   `err` is not NULL, fills it with the detail (HTTP status, the server's
 *   error name and detail, or the curl error).
 * - Calls that return a response hand back a new jansson reference in *out
 *   (the API's JSON shape, e.g. InvocationInfo); the caller json_decref()s
 *   it. `out` may be NULL when the caller only wants success or failure.
 *   On failure *out is set to NULL.
 * - A struct mn_client holds one libcurl easy handle (connections are kept
 *   alive between calls). Use one client from one thread at a time; create
 *   one client per thread for parallel calls.
 * - String arguments are borrowed; path segments are URL-escaped here.
 *
 * Quick start:
 *     struct mn_client *c;
 *     struct mn_client_error err;
 *     if (mn_client_from_env(&c, &err) < 0) die(err.detail);
 *     struct mn_client_function_ref fn = {"my-project", NULL, "add"};
 *     json_t *inv;
 *     mn_client_invocation_start(c, &fn, "[1, 2]", NULL, &inv, &err);
 *     const char *id = mn_client_json_str(inv, "invocation_id");
 */
#ifndef MULTINODE_CLIENT_H
#define MULTINODE_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MN_CLIENT_API __attribute__((visibility("default")))
#else
#define MN_CLIENT_API
#endif

/* ---------------------------------------------------------------- errors */

/* X(code suffix, value, message) */
#define MN_CLIENT_ERROR_MAP(X)                                                 \
  X(INVAL, -1, "invalid argument")                                             \
  X(NOMEM, -2, "out of memory")                                                \
  X(TRANSPORT, -3, "cannot reach the Multinode API")                           \
  X(HTTP, -4, "the Multinode API answered with an error")                      \
  X(PROTOCOL, -5, "the Multinode API answered with an unexpected body")        \
  X(TIMEOUT, -6, "the deadline passed")                                        \
  X(CONFIG, -7, "the client configuration is missing or invalid")              \
  X(IO, -8, "an input/output error occurred")

enum mn_client_errno {
  MN_CLIENT_OK = 0,
#define MN_CLIENT_X_ENUM(name, value, msg) MN_CLIENT_E_##name = (value),
  MN_CLIENT_ERROR_MAP(MN_CLIENT_X_ENUM)
#undef MN_CLIENT_X_ENUM
};

/* The detail of a failed call. */
struct mn_client_error {
  int code;        /* the MN_CLIENT_E* code the call returned */
  int http_status; /* the HTTP status for MN_CLIENT_E_HTTP, else 0 */
  /* The server's error name, matched from (status, detail) against the
   * catalogue of docs/compatibility.md §2.2, e.g. "ProjectDoesNotExist"; a 422 whose
   * detail is not in the catalogue is "ValidationError"; "" when unknown. */
  char name[64];
  char detail[1024]; /* the server's detail, or a message for people */
  int transport;     /* the CURLcode for MN_CLIENT_E_TRANSPORT, 0 otherwise */
};

MN_CLIENT_API const char *mn_client_strerror(int code);
/* Non-zero when err holds an HTTP error whose name is `name`. */
MN_CLIENT_API int mn_client_error_is(const struct mn_client_error *err, const char *name);
/* Non-zero when err is a transport error saying nothing answered at the
 * URL (connection refused, host not found, connect timeout). */
MN_CLIENT_API int mn_client_error_unreachable(const struct mn_client_error *err);

/* ------------------------------------------------------- handle, config */

struct mn_client;

/* A client for the API at api_url (e.g. "http://127.0.0.1:5000"; a
 * trailing slash is ignored) with the bearer key api_key (may be NULL for
 * the health check only). Returns NULL on bad arguments or no memory. */
MN_CLIENT_API struct mn_client *mn_client_new(const char *api_url, const char *api_key);
MN_CLIENT_API void mn_client_free(struct mn_client *c); /* NULL-safe */
MN_CLIENT_API const char *mn_client_api_url(const struct mn_client *c);

/* Connect timeout and whole-request timeout in milliseconds (defaults
 * 5000 and 30000; 0 keeps the current value). */
MN_CLIENT_API void mn_client_set_timeouts(struct mn_client *c, long connect_ms, long request_ms);

/* Retry policy (off by default). When on, a request that cannot reach the
 * daemon (connection refused, host not found, connect timeout) or that is
 * answered 502/503/504 is retried with exponential backoff (100 ms doubling
 * to 5 s) until deadline_ms have passed since the call began. A request
 * whose connection broke after it was sent is retried too, except a POST
 * (which would create a second invocation): a retried PUT .../finish may
 * then answer 409 ExecutionHasAlreadyFinished, meaning the first attempt
 * was applied. The worker runtime turns this on so a daemon restart does
 * not lose a result. (Independently of this policy, libcurl re-sends a
 * request once when a kept-alive connection closes before any answer,
 * taking it for an idle close.) */
MN_CLIENT_API void mn_client_set_retry(struct mn_client *c, int enabled, long deadline_ms);

/* The configuration file and environment (docs/compatibility.md §6.1).
 * File: ~/.multinode/config.json = {"api_url": ..., "api_key": ...}.
 * Env: MULTINODE_API_URL, MULTINODE_API_KEY; each one, when set and not
 * empty, wins over the file. The URL defaults to MN_CLIENT_DEFAULT_URL. */
#define MN_CLIENT_DEFAULT_URL "http://127.0.0.1:5000"

struct mn_client_config {
  char *api_url; /* heap strings or NULL */
  char *api_key;
};
MN_CLIENT_API void mn_client_config_release(struct mn_client_config *cfg);
/* Path of the config file into buf ($HOME/.multinode/config.json). */
MN_CLIENT_API int mn_client_config_path(char *buf, size_t size, struct mn_client_error *err);
/* Reads the file only (a missing file gives an empty config, 0). */
MN_CLIENT_API int mn_client_config_load_file(struct mn_client_config *out,
                                             struct mn_client_error *err);
/* The file, then the environment over it, then the default URL. */
MN_CLIENT_API int mn_client_config_load(struct mn_client_config *out,
                                        struct mn_client_error *err);
/* Writes the file atomically with mode 0600 (its folder 0700). NULL fields
 * are left out; other keys already in the file are kept. */
MN_CLIENT_API int mn_client_config_save(const struct mn_client_config *cfg,
                                        struct mn_client_error *err);

/* A client from mn_client_config_load(); MN_CLIENT_E_CONFIG when no API
 * key is found anywhere. */
MN_CLIENT_API int mn_client_from_env(struct mn_client **out, struct mn_client_error *err);

/* --------------------------------------------------------- json helpers */

/* Borrowed string value of obj[key], NULL when absent, null or not a string. */
MN_CLIENT_API const char *mn_client_json_str(const json_t *obj, const char *key);
/* obj[key] as an integer (a real is truncated): 1 when present, 0 when
 * absent or null (then *out is untouched). */
MN_CLIENT_API int mn_client_json_int(const json_t *obj, const char *key, long long *out);

/* ------------------------------------------------- projects and versions */

MN_CLIENT_API int mn_client_health(struct mn_client *c, json_t **out,
                                   struct mn_client_error *err); /* GET / */
/* ProvidersList, GET /providers (additive): {default, providers: [{name,
 * type}]}; a daemon without it answers 404. */
MN_CLIENT_API int mn_client_providers_list(struct mn_client *c, json_t **out,
                                           struct mn_client_error *err);

/* ContainerRepositoryCredentials, GET /container_repository_credentials:
 * {repository_name, username, password, endpoint_url}; repository_name
 * "multinode-local" means no registry (images stay on the engine). */
MN_CLIENT_API int mn_client_registry_credentials(struct mn_client *c, json_t **out,
                                                 struct mn_client_error *err);

/* ProjectInfo */
MN_CLIENT_API int mn_client_project_create(struct mn_client *c, const char *project_name,
                                           json_t **out, struct mn_client_error *err);
MN_CLIENT_API int mn_client_project_delete(struct mn_client *c, const char *project_name,
                                           json_t **out, struct mn_client_error *err);
MN_CLIENT_API int mn_client_project_get(struct mn_client *c, const char *project_name,
                                        json_t **out, struct mn_client_error *err);
/* ProjectsList */
MN_CLIENT_API int mn_client_projects_list(struct mn_client *c, json_t **out,
                                          struct mn_client_error *err);

/* A FunctionSpec (docs/compatibility.md §1.5; additive fields: docs/architecture.md §7). */
struct mn_client_function_spec {
  const char *function_name;
  const char *docker_image_override; /* NULL: the version's default image */
  double virtual_cpus;
  double memory_gbs;
  int max_concurrency;
  int max_retries;
  int timeout_seconds;
  const char *const *command; /* NULL-terminated argv, or NULL */
  const char *provider;       /* NULL: the daemon's default provider */
  const char *const *env;     /* NULL-terminated "KEY=VALUE" list, or NULL */
  /* additive (docs/compatibility.md, "Task semantics"); 0: not set */
  int max_concurrency_per_key;
  double retry_delay_seconds;
  double retry_backoff_factor;
  double retry_max_delay_seconds;
  int attempt_timeout_seconds;
  int queue_timeout_seconds;
  int heartbeat_timeout_seconds;
};

struct mn_client_version_definition {
  const char *default_docker_image;
  const struct mn_client_function_spec *functions;
  size_t n_functions;
};

/* The VersionDefinition JSON of def (new reference; NULL on bad input). */
MN_CLIENT_API json_t *mn_client_version_definition_json(
    const struct mn_client_version_definition *def);

/* VersionInfo. definition is borrowed. */
MN_CLIENT_API int mn_client_version_create_json(struct mn_client *c, const char *project_name,
                                                const json_t *definition, json_t **out,
                                                struct mn_client_error *err);
MN_CLIENT_API int mn_client_version_create(struct mn_client *c, const char *project_name,
                                           const struct mn_client_version_definition *def,
                                           json_t **out, struct mn_client_error *err);
/* version_ref: a version id, or "latest" (NULL means "latest"). */
MN_CLIENT_API int mn_client_version_get(struct mn_client *c, const char *project_name,
                                        const char *version_ref, json_t **out,
                                        struct mn_client_error *err);
/* VersionsListForProject */
MN_CLIENT_API int mn_client_versions_list(struct mn_client *c, const char *project_name,
                                          json_t **out, struct mn_client_error *err);

/* ----------------------------------------------------------- invocations */

/* Names one function of one version. version_ref NULL means "latest". */
struct mn_client_function_ref {
  const char *project_name;
  const char *version_ref;
  const char *function_name;
};

/* The invocation that starts a child (InvocationDefinition.parent_invocation). */
struct mn_client_parent {
  const char *function_name;
  const char *invocation_id;
};

/* POST .../invocations -> InvocationInfo. input must not be NULL (use ""
 * for none); parent may be NULL. */
MN_CLIENT_API int mn_client_invocation_start(struct mn_client *c,
                                             const struct mn_client_function_ref *fn,
                                             const char *input,
                                             const struct mn_client_parent *parent,
                                             json_t **out, struct mn_client_error *err);
/* The additive fields of an invocation (docs/compatibility.md, "Task
 * semantics"); zero/NULL fields are left out. */
struct mn_client_start_options {
  int has_priority;            /* send priority (-100 ... 100) */
  int priority;
  double start_at;             /* unix seconds; 0: now */
  const char *concurrency_key; /* 1 ... 256 characters */
  const char *idempotency_key; /* 1 ... 256 characters */
};
/* mn_client_invocation_start with options (NULL: none). A repeated
 * idempotency key answers the first invocation; with a different input the
 * server refuses it (409). */
MN_CLIENT_API int mn_client_invocation_start_with(struct mn_client *c,
                                                  const struct mn_client_function_ref *fn,
                                                  const char *input,
                                                  const struct mn_client_parent *parent,
                                                  const struct mn_client_start_options *opt,
                                                  json_t **out, struct mn_client_error *err);
/* GET .../invocations/{id} -> InvocationInfo */
MN_CLIENT_API int mn_client_invocation_get(struct mn_client *c,
                                           const struct mn_client_function_ref *fn,
                                           const char *invocation_id, json_t **out,
                                           struct mn_client_error *err);
/* GET /invocations/{id} -> InvocationInfo (additive: the id alone; the
 * answer names its project, version and function). 404
 * InvocationDoesNotExist when the key does not see it. */
MN_CLIENT_API int mn_client_invocation_get_by_id(struct mn_client *c, const char *invocation_id,
                                                 json_t **out, struct mn_client_error *err);
/* GET /executions/{id} -> ExecutionInfo (additive, as above). */
MN_CLIENT_API int mn_client_execution_get_by_id(struct mn_client *c, const char *execution_id,
                                                json_t **out, struct mn_client_error *err);
/* PUT .../invocations/{id}/cancel -> InvocationInfo */
MN_CLIENT_API int mn_client_invocation_cancel(struct mn_client *c,
                                              const struct mn_client_function_ref *fn,
                                              const char *invocation_id, json_t **out,
                                              struct mn_client_error *err);

/* Query of GET .../invocations; zero/NULL fields are left out. */
struct mn_client_list_options {
  int max_results;                  /* 0: the server's default (50) */
  const char *initial_offset;       /* next_offset of the previous page */
  const char *status;               /* "RUNNING" or "TERMINATED" */
  const char *parent_function_name; /* both parent fields, or neither */
  const char *parent_invocation_id;
};
/* InvocationsListForFunction. opt may be NULL. */
MN_CLIENT_API int mn_client_invocations_list(struct mn_client *c,
                                             const struct mn_client_function_ref *fn,
                                             const struct mn_client_list_options *opt,
                                             json_t **out, struct mn_client_error *err);

/* ------------------------------------------------------- derived status */

/* The readable status of an invocation (docs/compatibility.md §6.4). */
enum mn_status {
  MN_STATUS_PENDING = 0,
  MN_STATUS_RUNNING,
  MN_STATUS_CANCELLING,
  MN_STATUS_SUCCEEDED,
  MN_STATUS_FAILED,
  MN_STATUS_CANCELLED,
  MN_STATUS_TIMED_OUT
};

/* "PENDING", "RUNNING", "CANCELLING", "SUCCEEDED", "FAILED", "CANCELLED",
 * "TIMED OUT" (with a space, as the original). */
MN_CLIENT_API const char *mn_status_str(enum mn_status s);
/* SUCCEEDED, FAILED, CANCELLED and TIMED_OUT are finished. */
MN_CLIENT_API int mn_status_finished(enum mn_status s);

/* What the original client's Invocation object shows. */
struct mn_status_info {
  enum mn_status status;
  int terminated;          /* server invocation_status is TERMINATED */
  int num_failed_attempts; /* executions that failed (§6.4 "failed") */
  /* From the execution with the largest last_update_time_us when every
   * execution has it, else last_update_time (the later of equals),
   * borrowed from the InvocationInfo; NULL when none. */
  const char *result; /* its output */
  const char *error;  /* its error_message */
  const char *latest_execution_id;
};

/* Derives the status from an InvocationInfo (rules of §6.4, in order).
 * MN_CLIENT_E_PROTOCOL when a field it needs is missing or mistyped. */
MN_CLIENT_API int mn_status_derive(const json_t *invocation_info, struct mn_status_info *out,
                                   struct mn_client_error *err);
/* e.g. "FAILED, 2 failed attempts" or "SUCCEEDED - terminating". */
MN_CLIENT_API void mn_status_readable(const struct mn_status_info *info, char *buf,
                                      size_t size);

/* Called by mn_client_invocation_wait whenever the derived status or the
 * latest progress (st->result while it runs) changes, and once after the
 * first poll; info is borrowed for the call. */
typedef void mn_client_wait_fn(void *ctx, const json_t *info,
                               const struct mn_status_info *status);

/* Waits until the invocation's derived status is finished, or timeout_ms
 * pass (< 0: no deadline) — then MN_CLIENT_E_TIMEOUT, with *out still
 * holding the last InvocationInfo. On success *out holds the final
 * InvocationInfo and *status (may be NULL) its status, borrowing from *out.
 * Without on_change every GET asks the server to hold it until the end
 * (?wait_seconds, up to 60 s); with on_change the invocation's event
 * stream says when to read it again (docs/events.md). A server without
 * either (the original) is polled (backoff 50 ms doubling to 1 s). */
MN_CLIENT_API int mn_client_invocation_wait(struct mn_client *c,
                                            const struct mn_client_function_ref *fn,
                                            const char *invocation_id, long timeout_ms,
                                            mn_client_wait_fn *on_change, void *ctx,
                                            json_t **out, struct mn_status_info *status,
                                            struct mn_client_error *err);

/* ------------------------------------------------------- live events */

/* One Server-Sent Event (docs/events.md): type ("invocation", "execution",
 * "progress", "end"), id (NULL when it has none) and its JSON data (NULL
 * when it is not JSON). */
struct mn_client_event {
  char *id;
  char *type;
  json_t *data;
};
MN_CLIENT_API void mn_client_event_release(struct mn_client_event *ev);

struct mn_client_stream;
/* mn_client_events_next's answer when the server ended the stream. */
#define MN_CLIENT_EVENTS_ENDED 2
/* Opens GET path as an event stream (resuming after last_event_id when
 * not NULL): 0, or the error of a call (MN_CLIENT_E_HTTP with the
 * server's detail, MN_CLIENT_E_TRANSPORT). */
MN_CLIENT_API int mn_client_events_open(struct mn_client *c, const char *path,
                                        const char *last_event_id,
                                        struct mn_client_stream **out,
                                        struct mn_client_error *err);
MN_CLIENT_API int mn_client_invocation_events_open(struct mn_client *c,
                                                   const struct mn_client_function_ref *fn,
                                                   const char *invocation_id,
                                                   const char *last_event_id,
                                                   struct mn_client_stream **out,
                                                   struct mn_client_error *err);
MN_CLIENT_API int mn_client_project_events_open(struct mn_client *c, const char *project_name,
                                                const char *last_event_id,
                                                struct mn_client_stream **out,
                                                struct mn_client_error *err);
/* The next event within timeout_ms (< 0: no limit): 1 with *ev filled
 * (release it), 0 when none came in time, MN_CLIENT_EVENTS_ENDED, or
 * MN_CLIENT_E_TRANSPORT when the connection broke. */
MN_CLIENT_API int mn_client_events_next(struct mn_client_stream *s, long timeout_ms,
                                        struct mn_client_event *ev,
                                        struct mn_client_error *err);
MN_CLIENT_API void mn_client_events_close(struct mn_client_stream *s); /* NULL-safe */

/* ------------------------------------------- executions (worker protocol) */

struct mn_client_execution_ref {
  const char *project_name;
  const char *version_ref; /* NULL means "latest"; workers pass the id */
  const char *function_name;
  const char *invocation_id;
  const char *execution_id;
};

/* Names this client as the worker of the executions it starts: every
 * request then carries X-Multinode-Claim-Token: TOKEN, and a /start that
 * the daemon applied but whose answer was lost can be retried by the same
 * worker (it is answered again instead of refused with 409). Any other
 * worker is still refused. TOKEN: 1 to 128 characters; set it once.
 * 0, MN_CLIENT_E_INVAL or MN_CLIENT_E_NOMEM. */
MN_CLIENT_API int mn_client_set_claim_token(struct mn_client *c, const char *token);

/* ExecutionInfo for each of these. */
MN_CLIENT_API int mn_client_execution_get(struct mn_client *c,
                                          const struct mn_client_execution_ref *ex,
                                          json_t **out, struct mn_client_error *err);
MN_CLIENT_API int mn_client_execution_start(struct mn_client *c,
                                            const struct mn_client_execution_ref *ex,
                                            json_t **out, struct mn_client_error *err);
/* PUT .../update {latest_output} */
MN_CLIENT_API int mn_client_execution_update(struct mn_client *c,
                                             const struct mn_client_execution_ref *ex,
                                             const char *latest_output, json_t **out,
                                             struct mn_client_error *err);
/* PUT .../heartbeat (no body): the worker is alive; stores no progress
 * (heartbeat_timeout_seconds). */
MN_CLIENT_API int mn_client_execution_heartbeat(struct mn_client *c,
                                                const struct mn_client_execution_ref *ex,
                                                json_t **out, struct mn_client_error *err);
/* PUT .../finish {outcome, final_output, error_message}. outcome is
 * "SUCCEEDED", "FAILED" or "ABORTED"; NULL strings are sent as null (a
 * null final_output keeps the last progress output). error_message must be
 * given exactly when outcome is FAILED. */
MN_CLIENT_API int mn_client_execution_finish(struct mn_client *c,
                                             const struct mn_client_execution_ref *ex,
                                             const char *outcome, const char *final_output,
                                             const char *error_message, json_t **out,
                                             struct mn_client_error *err);
/* ExecutionLogs: up to max_lines (0: the server's default) from
 * initial_offset (NULL: the beginning); next_offset is null at the end. */
MN_CLIENT_API int mn_client_execution_logs(struct mn_client *c,
                                           const struct mn_client_execution_ref *ex,
                                           int max_lines, const char *initial_offset,
                                           json_t **out, struct mn_client_error *err);

#ifdef __cplusplus
}
#endif

#endif
