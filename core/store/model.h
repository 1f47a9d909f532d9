/* The entities of the control plane as the store returns them and the API
 * encodes them. Times are microseconds since the epoch, MN_TIME_NULL when
 * absent. Strings are heap copies owned by the struct; *_release frees the
 * members of an embedded struct (NULL-safe, also on half-built ones). */
#ifndef MN_STORE_MODEL_H
#define MN_STORE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "multinode/common/limits.h" /* the API's bounds */

#define MN_TERMINATION_QUEUE_TIMEOUT "QUEUE_TIMEOUT"

enum mn_function_status { MN_FUNCTION_PENDING = 0, MN_FUNCTION_READY };
enum mn_invocation_status { MN_INVOCATION_RUNNING = 0, MN_INVOCATION_TERMINATED };
enum mn_worker_status {
  MN_WORKER_PENDING = 0,
  MN_WORKER_PROVISIONING,
  MN_WORKER_RUNNING,
  MN_WORKER_TERMINATED
};
enum mn_outcome { MN_OUTCOME_NONE = 0, MN_OUTCOME_SUCCEEDED, MN_OUTCOME_FAILED,
                  MN_OUTCOME_ABORTED };

/* Wire strings of the enums; *_parse return 0 or MN_EINVAL. */
const char *mn_function_status_str(enum mn_function_status s);
const char *mn_invocation_status_str(enum mn_invocation_status s);
const char *mn_worker_status_str(enum mn_worker_status s);
const char *mn_outcome_str(enum mn_outcome o); /* NULL for NONE */
int mn_function_status_parse(const char *s, enum mn_function_status *out);
int mn_invocation_status_parse(const char *s, enum mn_invocation_status *out);
int mn_worker_status_parse(const char *s, enum mn_worker_status *out);
int mn_outcome_parse(const char *s, enum mn_outcome *out);

struct mn_resource_spec {
  double virtual_cpus;
  double memory_gbs;
  int max_concurrency;
  int max_concurrency_per_key; /* 0: no quota per concurrency key */
};

struct mn_execution_spec {
  int max_retries;
  int timeout_seconds;
  double retry_delay_seconds;     /* 0: retry at once (the original) */
  double retry_backoff_factor;    /* default 2 */
  double retry_max_delay_seconds; /* default 300 */
  int attempt_timeout_seconds;    /* 0: none */
  int queue_timeout_seconds;      /* 0: none */
  int heartbeat_timeout_seconds;  /* 0: none */
};

/* The defaults of the additive execution_spec fields. */
#define MN_RETRY_BACKOFF_FACTOR_DEFAULT 2.0
#define MN_RETRY_MAX_DELAY_DEFAULT 300.0

struct mn_project {
  char *project_name;
  int64_t deletion_request_time;
  int64_t creation_time;
};

/* A function of a version (FunctionInfoForVersion plus our additive fields). */
struct mn_function {
  char *project_name;
  char *version_id;
  char *function_name;
  char *docker_image;
  struct mn_resource_spec resource_spec;
  struct mn_execution_spec execution_spec;
  enum mn_function_status function_status;
  json_t *prepared_function_details; /* object or NULL */
  json_t *command;                   /* array of strings or NULL */
  json_t *env;                       /* object of strings or NULL */
  char *provider;                    /* NULL: the configured default */
  char *preparation_error;           /* last preparation failure or NULL */
};

/* The input of a function in a VersionDefinition (FunctionSpec). */
struct mn_function_spec {
  char *function_name;
  char *docker_image_override; /* NULL when absent */
  struct mn_resource_spec resource_spec;
  struct mn_execution_spec execution_spec;
  json_t *command; /* array of strings or NULL */
  json_t *env;     /* object of strings or NULL */
  char *provider;  /* NULL when absent */
};

struct mn_version_definition {
  char *default_docker_image;
  struct mn_function_spec *functions;
  size_t n_functions;
};

struct mn_version {
  char *project_name;
  char *version_id;
  int64_t creation_time;
  struct mn_function *functions; /* in name order */
  size_t n_functions;
};

struct mn_execution {
  char *execution_id;
  enum mn_worker_status worker_status;
  json_t *worker_details; /* object or NULL */
  int64_t termination_signal_time;
  enum mn_outcome outcome;
  char *output;
  char *error_message;
  int64_t creation_time;
  int64_t last_update_time;
  int64_t execution_start_time;
  int64_t execution_finish_time;
  int64_t heartbeat_time; /* the worker's last heartbeat or /update */
};

/* The parent as InvocationInfo shows it (ParentInvocationInfo). */
struct mn_parent_info {
  char *function_name;
  char *invocation_id;
  int64_t cancellation_request_time;
  enum mn_invocation_status invocation_status;
  int64_t creation_time;
  int64_t last_update_time;
};

struct mn_invocation {
  struct mn_function function; /* key fields + specs of the invoked function */
  char *invocation_id;
  bool has_parent;
  struct mn_parent_info parent; /* valid when has_parent */
  char *input;
  int64_t cancellation_request_time;
  enum mn_invocation_status invocation_status;
  int64_t creation_time;
  int64_t last_update_time;
  int priority;             /* -100 ... 100, default 0 */
  int64_t start_at;         /* MN_TIME_NULL when not delayed */
  char *concurrency_key;    /* NULL when none */
  char *idempotency_key;    /* NULL when none */
  char *termination_reason; /* NULL, or "QUEUE_TIMEOUT" */
  struct mn_execution *executions; /* creation order */
  size_t n_executions;
};

/* One row of InvocationsListForFunction. */
struct mn_invocation_brief {
  char *invocation_id;
  char *parent_function_name; /* NULL when no parent */
  char *parent_invocation_id;
  int64_t cancellation_request_time;
  enum mn_invocation_status invocation_status;
  int64_t creation_time;
  int64_t last_update_time;
};

struct mn_invocation_page {
  struct mn_invocation_brief *items;
  size_t n_items;
  char *next_offset; /* NULL on the last page */
};

struct mn_version_brief {
  char *version_id;
  int64_t creation_time;
};

void mn_project_release(struct mn_project *p);
void mn_function_release(struct mn_function *f);
/* A deep copy of src (strings duplicated, JSON deep-copied): 0 or
 * MN_ENOMEM (then *dst holds nothing). */
int mn_function_copy(struct mn_function *dst, const struct mn_function *src);
void mn_function_spec_release(struct mn_function_spec *s);
void mn_version_definition_release(struct mn_version_definition *d);
void mn_version_release(struct mn_version *v);
void mn_execution_release(struct mn_execution *e);
void mn_parent_info_release(struct mn_parent_info *p);
void mn_invocation_release(struct mn_invocation *inv);
void mn_invocation_brief_release(struct mn_invocation_brief *b);
void mn_invocation_page_release(struct mn_invocation_page *page);
void mn_project_list_free(struct mn_project *items, size_t n);
void mn_version_brief_list_free(struct mn_version_brief *items, size_t n);

#endif
