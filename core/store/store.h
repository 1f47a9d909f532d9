/* The store: every persistent state of the control plane, in Postgres.
 *
 * All functions return 0 or a negative MN_E* code (util/error.h). Domain
 * failures use the API's codes (MN_EPROJECT_NOT_FOUND, ...), checked from the
 * top of the hierarchy down: a request for an execution of a missing project
 * fails with MN_EPROJECT_NOT_FOUND. A lost or unreachable database gives
 * MN_EUNAVAILABLE. Every state change is one transaction; transitions are
 * guarded by the expected current state.
 *
 * `version_ref` arguments accept a version id or "latest" (any case), which
 * resolves to the newest version (creation time in microseconds, then id).
 * Outputs are filled only on success and released by the caller with the
 * matching mn_*_release. The store is safe to use from many threads: it
 * keeps a pool of connections. */
#ifndef MN_STORE_STORE_H
#define MN_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/model.h"
#include "util/error.h"

struct mn_store;

struct mn_store_options {
  const char *dsn;       /* libpq connection string; must not be empty */
  int pool_size;         /* connections kept open; 0 means 8 */
  int connect_timeout_s; /* 0 means 10 */
  int statement_timeout_ms; /* per statement (server-side, and the client
                               gives up 2 s later); 0 means 30 s, < 0 none */
};

/* Connects, applies pending migrations under an advisory lock (safe with
 * several daemons starting together). Statements are prepared on each pooled
 * connection at first use. */
int mn_store_open(const struct mn_store_options *opt, struct mn_store **out,
                  struct mn_error *err);
void mn_store_free(struct mn_store *store);
/* The schema version after migrations (the highest applied number). */
int mn_store_schema_version(struct mn_store *store, int *version_out);

/* A path to one function / invocation / execution. */
struct mn_function_key {
  const char *project_name;
  const char *version_ref; /* id or "latest" */
  const char *function_name;
};

/* Projects */
int mn_store_create_project(struct mn_store *s, const char *name, int64_t now,
                            struct mn_project *out);
/* Marks for deletion: sets deletion_request_time = now (overwrites). */
int mn_store_request_project_deletion(struct mn_store *s, const char *name,
                                      int64_t now, struct mn_project *out);
int mn_store_get_project(struct mn_store *s, const char *name, struct mn_project *out);
/* Newest first, then name ascending. */
int mn_store_list_projects(struct mn_store *s, struct mn_project **out, size_t *n_out);

/* Versions: creation is one transaction (all functions or nothing). The
 * definition must be valid already (the API validates bounds and names). */
int mn_store_create_version(struct mn_store *s, const char *project_name,
                            const struct mn_version_definition *def, int64_t now,
                            struct mn_version *out);
int mn_store_get_version(struct mn_store *s, const char *project_name,
                         const char *version_ref, struct mn_version *out);
/* Newest first. */
int mn_store_list_versions(struct mn_store *s, const char *project_name,
                           struct mn_version_brief **out, size_t *n_out);

/* Invocations */
struct mn_parent_ref {
  const char *function_name;
  const char *invocation_id;
};
/* parent may be NULL. A parent must exist in the same project and version
 * (else MN_EPARENT_NOT_FOUND). */
int mn_store_create_invocation(struct mn_store *s, const struct mn_function_key *fk,
                               const struct mn_parent_ref *parent, const char *input,
                               int64_t now, struct mn_invocation *out);
/* The additive fields of an invocation (docs/compatibility.md, "Task
 * semantics"). start_at: MN_TIME_NULL when not delayed. */
struct mn_invocation_options {
  int priority;
  int64_t start_at;
  const char *concurrency_key;
  const char *idempotency_key;
  bool *existed; /* set true when the idempotency key already had an invocation */
};
/* With options (NULL: none). A second create with the same idempotency key
 * returns the first invocation, or MN_EIDEMPOTENCY_CONFLICT when its input
 * differs. */
int mn_store_create_invocation_with(struct mn_store *s, const struct mn_function_key *fk,
                                    const struct mn_parent_ref *parent, const char *input,
                                    const struct mn_invocation_options *opt, int64_t now,
                                    struct mn_invocation *out);
/* Sets cancellation_request_time = now unless TERMINATED
 * (MN_EINVOCATION_TERMINATED). */
int mn_store_cancel_invocation(struct mn_store *s, const struct mn_function_key *fk,
                               const char *invocation_id, int64_t now,
                               struct mn_invocation *out);
int mn_store_get_invocation(struct mn_store *s, const struct mn_function_key *fk,
                            const char *invocation_id, struct mn_invocation *out);

/* The paging position "<creation_time_us>,<invocation_id>". */
struct mn_page_offset {
  int64_t creation_time;
  char invocation_id[128];
};
/* Parses the text at the first comma; the left part must be an integer.
 * 0 or MN_EOFFSET_INVALID. */
int mn_page_offset_parse(const char *text, struct mn_page_offset *out);
/* Returns a heap string, or NULL on allocation failure. */
char *mn_page_offset_format(int64_t creation_time, const char *invocation_id);

struct mn_invocation_query {
  int max_results;                       /* 1..50 (the API clamps) */
  const struct mn_page_offset *offset;   /* NULL: from the newest */
  bool filter_status;
  enum mn_invocation_status status;
  const struct mn_parent_ref *parent;    /* NULL: any */
};
/* Newest first, then id ascending; next_offset names the first row of the
 * next page, NULL on the last one. */
int mn_store_list_invocations(struct mn_store *s, const struct mn_function_key *fk,
                              const struct mn_invocation_query *q,
                              struct mn_invocation_page *out);
/* The same, and *version_id_out (a heap string the caller frees) gets the
 * id of the version the list was read from ("latest" resolved in the same
 * query, so it cannot disagree with the rows). */
int mn_store_list_invocations_with_version(struct mn_store *s,
                                           const struct mn_function_key *fk,
                                           const struct mn_invocation_query *q,
                                           struct mn_invocation_page *out,
                                           char **version_id_out);

/* Executions. `out` is the invocation (with its function) holding exactly
 * the one execution asked for: together they form ExecutionInfo. */
int mn_store_get_execution(struct mn_store *s, const struct mn_function_key *fk,
                           const char *invocation_id, const char *execution_id,
                           struct mn_invocation *out);
/* Worker protocol. When a guarded update finds the row in another state, the
 * reason is picked in this order: EXECUTION_NOT_STARTED, EXECUTION_STARTED,
 * EXECUTION_NOT_FINISHED, EXECUTION_FINISHED, EXECUTION_TERMINATED, else
 * EXECUTION_NOT_FOUND.
 * key_hash (NULL: none): the SHA-256 hex of the execution's own key, which
 * the write then also requires, in the same statement (the API's check of
 * an execution's key, api/authorize.h, done in one round trip). When the
 * write does not apply with a key given, the answer is API_KEY_INVALID and
 * nothing else is read: the caller checks the key the long way and calls
 * again without it for the reason. */
int mn_store_start_execution(struct mn_store *s, const struct mn_function_key *fk,
                             const char *invocation_id, const char *execution_id,
                             int64_t now, struct mn_invocation *out);
/* start, by a worker that names itself with claim_token (may be NULL:
 * then exactly start). The same token again, while the execution has not
 * finished or terminated, answers with the execution unchanged instead of
 * EXECUTION_STARTED: a worker whose start was applied but whose answer was
 * lost (daemon killed, connection dropped) may retry it. */
int mn_store_claim_execution(struct mn_store *s, const struct mn_function_key *fk,
                             const char *invocation_id, const char *execution_id,
                             const char *key_hash, const char *claim_token, int64_t now,
                             struct mn_invocation *out);
int mn_store_update_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, const char *execution_id,
                              const char *key_hash, const char *latest_output, int64_t now,
                              struct mn_invocation *out);
/* The worker is alive: heartbeat_time = now (heartbeat_timeout_seconds; an
 * update does the same), nothing else changes. Same guards as update. */
int mn_store_heartbeat_execution(struct mn_store *s, const struct mn_function_key *fk,
                                 const char *invocation_id, const char *execution_id,
                                 const char *key_hash, int64_t now, struct mn_invocation *out);
/* final_output / error_message may be NULL: the stored value is kept. */
int mn_store_finish_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, const char *execution_id,
                              const char *key_hash, enum mn_outcome outcome, const char *final_output,
                              const char *error_message, int64_t now,
                              struct mn_invocation *out);

/* ---- Scheduler side (additions to the API's needs) ------------------- *
 * These take concrete version ids as well as "latest". Guarded updates that
 * find the row in another state return 0 with *applied = false; a missing
 * object gives its *_NOT_FOUND code, checked top-down.
 *
 * Notifications: every transaction that changes something the scheduler
 * reacts to (a project marked or deleted, a version created, a function
 * prepared, an invocation created / cancelled / terminated, an execution
 * created, started, updated, finished, signalled or moved to another
 * worker_status) also runs pg_notify('multinode', kind) with kind one of
 * "project", "version", "function", "invocation", "execution". Postgres
 * delivers it at commit, and only then: a listener that wakes up sees the
 * change. Refused (guarded) changes notify nothing. */

/* The connection string the store was opened with (for a LISTEN or
 * advisory-lock connection of one's own). */
const char *mn_store_dsn(const struct mn_store *s);

/* Really deletes a project and everything under it (ON DELETE CASCADE).
 * The caller decides when (marked for deletion, no RUNNING invocation).
 * MN_EPROJECT_NOT_FOUND when missing. */
int mn_store_delete_project(struct mn_store *s, const char *name);

/* PENDING -> READY with the provider's details (may be NULL); clears
 * preparation_error. *applied (may be NULL) is false when not PENDING. */
int mn_store_set_function_ready(struct mn_store *s, const struct mn_function_key *fk,
                                const json_t *prepared_details, bool *applied);
/* Records (or with NULL clears) the last preparation failure. */
int mn_store_set_function_preparation_error(struct mn_store *s,
                                            const struct mn_function_key *fk,
                                            const char *message);

/* RUNNING -> TERMINATED, last_update_time = now. MN_EINVOCATION_TERMINATED
 * when it already is. out may be NULL. */
int mn_store_terminate_invocation(struct mn_store *s, const struct mn_function_key *fk,
                                  const char *invocation_id, int64_t now,
                                  struct mn_invocation *out);

/* A new attempt: an execution (new "exe-" id) PENDING, times = now, and the
 * invocation's last_update_time = now, in one transaction. The invocation
 * must be RUNNING (else MN_EINVOCATION_TERMINATED). out may be NULL. */
int mn_store_create_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, int64_t now,
                              struct mn_execution *out);

/* worker_status from -> to when it is `from`; worker_details / error_message
 * replace the stored ones when not NULL; last_update_time = now. */
int mn_store_transition_execution(struct mn_store *s, const struct mn_function_key *fk,
                                  const char *invocation_id, const char *execution_id,
                                  enum mn_worker_status from, enum mn_worker_status to,
                                  const json_t *worker_details, const char *error_message,
                                  int64_t now, bool *applied);

/* Retention: deletes up to max_rows TERMINATED invocations (with their
 * executions) last updated before `before`, oldest first. An invocation
 * with children waits until they are gone (deleting it would cascade to
 * them), so call it until it deletes nothing. *n_deleted may be NULL. */
int mn_store_prune_invocations(struct mn_store *s, int64_t before, int max_rows,
                               int *n_deleted);

/* Records the termination signal (termination_signal_time = now) once: not
 * applied when already signalled or TERMINATED. */
int mn_store_signal_execution(struct mn_store *s, const struct mn_function_key *fk,
                              const char *invocation_id, const char *execution_id,
                              int64_t now, bool *applied);

#endif
