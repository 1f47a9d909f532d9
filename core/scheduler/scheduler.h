/* The scheduler: moves every invocation forward (docs/compatibility.md §3.5 with the
 * changes of docs/architecture.md §5).
 *
 * One thread decides; a bounded pool calls the providers. The decision
 * thread sleeps until something happens: a NOTIFY from the store (every API
 * change), a provider's wake-up (a worker exited), a finished provider call,
 * or the next deadline (a timeout, a backoff, a provisioning limit, the next
 * status poll). Exactly one scheduler decides per database: it holds a
 * Postgres advisory lock on a session of its own, and stops deciding when
 * that session is lost. Every other daemon serves the API and retries the
 * lock, so it takes over within about a second after the active one dies. */
#ifndef MN_SCHEDULER_SCHEDULER_H
#define MN_SCHEDULER_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "plugin/host.h"
#include "store/store.h"
#include "util/error.h"

/* The advisory lock every scheduler of a database competes for. */
#define MN_SCHEDULER_LOCK_KEY INT64_C(7286454551000002)

struct mn_scheduler_options {
  /* the secret execution keys are derived under (util/token.h); the
   * daemons of one database must share it */
  unsigned char key_secret[32];
  int64_t termination_grace_seconds; /* SIGTERM -> SIGKILL; < 0: 120 */
  int64_t provision_timeout_seconds; /* default 300 */
  int64_t retention_seconds;         /* terminated invocations kept; 0: forever; < 0: 7 days */
  int64_t inspect_interval_ms;       /* status poll of running workers; default 1000 */
  int64_t lock_retry_ms;             /* a standby's lock attempts; default 500 */
  int pool_threads;                  /* provider calls in parallel; default 8 */
  int64_t pass_spacing_us;           /* least time between two passes; default 2000 */
};

struct mn_scheduler;

/* Starts the scheduler thread (standby until it holds the lock). */
int mn_scheduler_start(const struct mn_scheduler_options *opt, struct mn_store *store,
                       struct mn_plugins *plugins, struct mn_scheduler **out,
                       struct mn_error *err);
/* Wakes the decision thread (thread-safe; e.g. from a provider). */
void mn_scheduler_wake(struct mn_scheduler *s);
/* Whether this scheduler currently holds the lock. */
bool mn_scheduler_is_active(struct mn_scheduler *s);
/* Stops deciding, waits for provider calls in flight, frees. NULL-safe. */
void mn_scheduler_stop(struct mn_scheduler *s);

#endif
