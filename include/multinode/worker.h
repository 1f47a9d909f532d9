/* Functions written in C, run by multinode-worker (docs/architecture.md §6).
 *
 * multinode-worker runs the function's command with the invocation's input
 * on its standard input and takes what it writes to standard output as the
 * result. A function written in C can do all of that with stdio alone; this
 * small library (static, `multinode-worker-api`, on top of
 * libmultinode-client) adds what needs the API, in process instead of
 * through the `multinode` CLI:
 *
 *     int main(void) {
 *       struct mn_worker *w;
 *       struct mn_client_error err;
 *       if (mn_worker_open(&w, &err) < 0) { fprintf(stderr, "%s\n", err.detail); return 1; }
 *       const char *input = mn_worker_input(w, NULL);
 *       mn_worker_progress(w, "half way", &err);
 *       int rc = mn_worker_set_result(w, "42", &err);
 *       mn_worker_close(w);
 *       return rc < 0;
 *     }
 *
 * Conventions are those of client.h: 0 or a negative MN_CLIENT_E* code,
 * with the detail in err (may be NULL). Standard output is the result, so
 * a function using mn_worker_set_result() must print nothing else there;
 * its diagnostics go to standard error (the execution's log, and the tail
 * of a failure's error_message). Exit status 0 means success.
 */
#ifndef MULTINODE_WORKER_H
#define MULTINODE_WORKER_H

#include <stddef.h>

#include "multinode/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Multinode environment of a worker (docs/compatibility.md §4.1). The strings are
 * borrowed from the process environment. */
struct mn_worker_env {
  const char *api_url;       /* MULTINODE_API_URL */
  const char *api_key;       /* MULTINODE_API_KEY */
  const char *project_name;  /* MULTINODE_PROJECT_NAME */
  const char *version_id;    /* MULTINODE_VERSION_ID */
  const char *function_name; /* MULTINODE_FUNCTION_NAME */
  const char *invocation_id; /* MULTINODE_INVOCATION_ID */
  const char *execution_id;  /* MULTINODE_EXECUTION_ID */
};

/* Reads the seven variables; MN_CLIENT_E_CONFIG naming the first one that
 * is unset or empty ("MULTINODE_EXECUTION_ID is not set"). */
MN_CLIENT_API int mn_worker_env_load(struct mn_worker_env *env, struct mn_client_error *err);

/* The execution the environment names, as the client's reference. */
MN_CLIENT_API void mn_worker_env_execution(const struct mn_worker_env *env,
                                           struct mn_client_execution_ref *out);

struct mn_worker;

/* The environment plus a client of the API (retrying while the daemon is
 * unreachable, for up to a minute per call). Free with mn_worker_close(). */
MN_CLIENT_API int mn_worker_open(struct mn_worker **out, struct mn_client_error *err);
MN_CLIENT_API void mn_worker_close(struct mn_worker *w); /* NULL-safe */

MN_CLIENT_API const struct mn_worker_env *mn_worker_get0_env(const struct mn_worker *w);
/* The worker's client, for any other call (borrowed; one thread at a time). */
MN_CLIENT_API struct mn_client *mn_worker_get0_client(struct mn_worker *w);

/* The invocation's input: all of standard input, read on the first call and
 * kept (NUL-terminated; *len, when not NULL, gets its length in bytes).
 * NULL when standard input cannot be read or memory runs out. */
MN_CLIENT_API const char *mn_worker_input(struct mn_worker *w, size_t *len);

/* Records progress: PUT .../update {latest_output: text}. The last
 * progress stays the execution's output if the function ends successfully
 * without a result. */
MN_CLIENT_API int mn_worker_progress(struct mn_worker *w, const char *text,
                                     struct mn_client_error *err);

/* Tells the control plane the attempt is alive without storing progress:
 * PUT .../heartbeat. A function with heartbeat_timeout_seconds calls it (or
 * mn_worker_progress) more often than that, or its attempt fails. */
MN_CLIENT_API int mn_worker_heartbeat(struct mn_worker *w, struct mn_client_error *err);

/* The result: writes text to standard output and flushes it. Once only
 * (MN_CLIENT_E_INVAL the second time); MN_CLIENT_E_IO when the write fails. */
MN_CLIENT_API int mn_worker_set_result(struct mn_worker *w, const char *text,
                                       struct mn_client_error *err);

/* Starts a child invocation of function_name in the same project and
 * version, with the current invocation as its parent. *out (may be NULL)
 * receives its InvocationInfo; mn_client_json_str(*out, "invocation_id")
 * is its id. */
MN_CLIENT_API int mn_worker_start_child(struct mn_worker *w, const char *function_name,
                                        const char *input, json_t **out,
                                        struct mn_client_error *err);

#ifdef __cplusplus
}
#endif

#endif
