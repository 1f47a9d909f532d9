/* The API's limits, shared by the daemon (which enforces them) and its
 * clients (the CLI's manifest checks, the worker's output and error texts),
 * so a client refuses before the server would. Bounds of the original
 * control plane (docs/compatibility.md §1.2) and of its additions ("Task
 * semantics"). Lengths count characters (code points), as the server does. */
#ifndef MN_COMMON_LIMITS_H
#define MN_COMMON_LIMITS_H

#include <stddef.h>

#define MN_VIRTUAL_CPUS_LIMIT 16.0
#define MN_MEMORY_GBS_LIMIT 64.0
#define MN_MAX_CONCURRENCY_LIMIT 100
#define MN_MAX_RETRIES_LIMIT 50
#define MN_TIMEOUT_SECONDS_LIMIT 86400
#define MN_INPUT_LENGTH_LIMIT 250000     /* rejected when len >= limit */
#define MN_OUTPUT_LENGTH_LIMIT 250000    /* rejected when len >= limit */
#define MN_ERROR_MESSAGE_LENGTH_LIMIT 16384 /* rejected when len >= limit */
#define MN_FUNCTION_NAME_LENGTH_LIMIT 1024  /* rejected when len >= limit */
#define MN_DOCKER_IMAGE_LENGTH_LIMIT 1024   /* rejected when len >= limit */
#define MN_PROJECT_NAME_LENGTH_LIMIT 64  /* rejected when len > limit */
#define MN_LIST_PAGE_LIMIT 50
#define MN_LOG_PAGE_LIMIT 250
/* Additions (docs/compatibility.md, "Task semantics") */
#define MN_KEY_LENGTH_LIMIT 256          /* concurrency and idempotency keys: at most */
#define MN_PRIORITY_LIMIT 100            /* -100 ... 100 */
#define MN_RETRY_DELAY_LIMIT 86400.0
#define MN_BACKOFF_FACTOR_LIMIT 100.0
/* The largest request body the daemon reads; more is answered 413. */
#define MN_API_MAX_BODY_DEFAULT ((size_t)1 << 20)

#endif
