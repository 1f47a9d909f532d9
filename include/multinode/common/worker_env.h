/* The names of the worker's environment: what the daemon sets for every
 * execution (through its provider), what multinode-worker, the worker API
 * (worker.h) and the CLI inside a worker read, and what multinode-worker
 * sets for the command it runs. The one place these names are spelled
 * (docs/architecture.md, "The common library"). */
#ifndef MN_COMMON_WORKER_ENV_H
#define MN_COMMON_WORKER_ENV_H

/* Set by the daemon for every execution. */
#define MN_WORKER_ENV_API_URL "MULTINODE_API_URL"
#define MN_WORKER_ENV_API_KEY "MULTINODE_API_KEY" /* the execution's own key: the secret */
#define MN_WORKER_ENV_PROJECT_NAME "MULTINODE_PROJECT_NAME"
#define MN_WORKER_ENV_VERSION_ID "MULTINODE_VERSION_ID"
#define MN_WORKER_ENV_FUNCTION_NAME "MULTINODE_FUNCTION_NAME"
#define MN_WORKER_ENV_INVOCATION_ID "MULTINODE_INVOCATION_ID"
#define MN_WORKER_ENV_EXECUTION_ID "MULTINODE_EXECUTION_ID"
#define MN_WORKER_ENV_PREFIX "MULTINODE_" /* reserved: a function env entry so named is dropped */
/* Set by a provider that caps the worker's log (the local provider). */
#define MN_WORKER_ENV_LOG_MAX_BYTES "MULTINODE_LOG_MAX_BYTES"
/* Set by multinode-worker for the command it runs. */
#define MN_WORKER_ENV_TIMEOUT_AT "MULTINODE_TIMEOUT_AT"
#define MN_WORKER_ENV_REPORT_FD "MULTINODE_REPORT_FD"

#endif
