/* The embedded Postgres: with no DSN configured the daemon runs a private
 * cluster under <data_dir>/postgres (initdb + pg_ctl of the installed
 * PostgreSQL, found through `pg_config --bindir` or /usr/lib/postgresql/N/bin),
 * listening on a unix socket only. As root, Postgres runs as the `postgres`
 * user. A cluster left running by a killed daemon is adopted; one left
 * crashed is recovered by starting it again (Postgres replays its WAL).
 *
 * Layout: <data_dir>/postgres/data (PGDATA), .../run (the socket; under
 * /tmp/mn-pg-<hash> when that path would be too long for a unix socket),
 * .../server.log (the server's log), .../ctl.log (initdb and pg_ctl). The
 * database is "multinode", user "postgres". Authentication is peer, over
 * the socket only: the daemon's user and the cluster's owner connect as
 * "postgres" (pg_ident.conf map "multinode"), no other local user does;
 * pg_hba.conf and pg_ident.conf are rewritten at every start. */
#ifndef MN_STORE_EMBEDDED_PG_H
#define MN_STORE_EMBEDDED_PG_H

#include <stdbool.h>

#include "util/error.h"

struct mn_pg_embedded;

int mn_pg_embedded_start(const char *data_dir, struct mn_pg_embedded **out,
                         struct mn_error *err);
/* The libpq connection string of the running cluster. */
const char *mn_pg_embedded_dsn(const struct mn_pg_embedded *pg);
/* Frees, and stops the cluster (fast shutdown) when no other process that
 * started or adopted it still runs (each holds a shared flock on
 * <data_dir>/postgres/users.lock while it runs; starts and stops take
 * start.lock in turn). NULL-safe. */
void mn_pg_embedded_stop(struct mn_pg_embedded *pg);

/* Frees the handle and leaves the cluster running, as a daemon killed with
 * SIGKILL would; the next start adopts it. NULL-safe. */
void mn_pg_embedded_detach(struct mn_pg_embedded *pg);
/* True when start found the cluster already running and adopted it. */
bool mn_pg_embedded_adopted(const struct mn_pg_embedded *pg);
/* Restarts the cluster; mode is "fast" or "immediate" (no checkpoint, like a
 * crash: Postgres recovers from its WAL on the way up). */
int mn_pg_embedded_restart(struct mn_pg_embedded *pg, const char *mode,
                           struct mn_error *err);
/* When the server is gone (killed, crashed), adopts the one another daemon
 * started meanwhile or starts it again. 0 when it runs. */
int mn_pg_embedded_revive(struct mn_pg_embedded *pg, struct mn_error *err);
/* The postmaster's pid (from postmaster.pid), or 0 when not running. */
long mn_pg_embedded_pid(const struct mn_pg_embedded *pg);

#endif
