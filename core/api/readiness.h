/* Readiness (GET /readyz): whether this daemon can do its work, from
 * memory. A thread of its own probes the database on a connection of its
 * own (within a deadline, so a hung Postgres makes the probe fail, never
 * the request wait) and the free space of data_dir's file system; the
 * report only reads what the probes left, so it answers at once whatever
 * the database or the disk do. */
#ifndef MN_API_READINESS_H
#define MN_API_READINESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/server.h"
#include "util/error.h"

/* Whether the scheduler holds the lock (active) or stands by. */
typedef bool mn_readiness_role_fn(void *ctx);

struct mn_readiness_options {
  const char *dsn;        /* probed on a connection of its own; NULL: not probed */
  const char *data_dir;   /* its file system's free space; NULL: not checked */
  int64_t min_free_bytes; /* below this, not ready */
  int interval_ms;        /* between probes; 0: 1000 */
  int timeout_ms;         /* the bound of one database probe; 0: 1000 */
  bool scheduler_enabled; /* false: "off" */
  mn_api_providers_fn *providers; /* the provider list (from memory); NULL: [] */
  void *providers_ctx;
};

struct mn_readiness;

/* Starts the probe thread; the first probe runs at once. */
int mn_readiness_start(const struct mn_readiness_options *opt, struct mn_readiness **out,
                       struct mn_error *err);
/* Names the scheduler whose role is reported (thread-safe; until then an
 * enabled scheduler reads "standby"). */
void mn_readiness_set_scheduler(struct mn_readiness *r, mn_readiness_role_fn *active,
                                void *ctx);
/* The Readiness object (a new reference; NULL when out of memory) and
 * whether the daemon is ready: the database answered the last probe, in
 * time and recently, its schema has every migration this daemon knows, and
 * data_dir has at least min_free_bytes free. Never blocks on I/O. */
json_t *mn_readiness_report(struct mn_readiness *r, bool *ready);
/* Stops the probe thread (waits at most one probe), frees. NULL-safe. */
void mn_readiness_stop(struct mn_readiness *r);

#endif
