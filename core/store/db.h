/* The store's connection pool and statement runner (internal to core/store
 * and the scheduler's own queries).
 *
 * The pool keeps `pool_size` libpq connections; a thread borrows one for one
 * statement. Every statement is prepared once per connection (lazily, on its
 * first use there) and then run with PQexecPrepared: one round trip.
 *
 * A connection found dead before use (its socket reads EOF: Postgres
 * restarted) is reconnected first; one that dies during a statement is
 * reconnected and, for read-only statements, the statement is run once more.
 * A write that fails that way returns MN_EUNAVAILABLE: every statement is a
 * transaction of its own, so nothing is ever half-written.
 *
 * Statements are bounded in time (mn_store.statement_timeout_ms): a server
 * that hangs (stopped, its disk stalled) costs a caller that much and then
 * MN_EUNAVAILABLE, never a thread stuck for good. */
#ifndef MN_STORE_DB_H
#define MN_STORE_DB_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/group_commit.h"
#include "util/error.h"

/* One SQL statement. Define them `static const` next to the code that runs
 * them; `name` must be unique in the process (it names the prepared
 * statement). */
struct mn_db_stmt {
  const char *name;
  const char *sql;
  int n_params;
  bool read_only; /* safe to run again after a lost connection */
  unsigned flags; /* MN_DB_COMMIT_ASYNC, MN_DB_GENERIC_PLAN, or 0 */
};

/* Its commit does not wait for the WAL to reach the disk
 * (synchronous_commit = off). Only for a write the daemon takes again after a
 * crash of Postgres or the machine (a scheduler decision from durable facts)
 * or that only informs (progress, heartbeats): docs/architecture.md §4,
 * "Which writes wait for the disk". */
#define MN_DB_COMMIT_ASYNC 1u
/* Planned once per connection (plan_cache_mode = force_generic_plan): for a
 * statement whose plan does not depend on its parameters' values, such as
 * the scheduler's batches over unnest($n::text[]), which Postgres would
 * otherwise plan again at most calls (a custom plan sees the array's length
 * and always looks cheaper). bench/README.md, "Generic plans". */
#define MN_DB_GENERIC_PLAN 2u

#define MN_DB_MAX_PREPARED 96

struct mn_db_conn {
  PGconn *pg;
  bool configured; /* non-blocking, with the session's statement_timeout */
  bool commit_async; /* the session's synchronous_commit is off */
  bool generic_plan; /* the session's plan_cache_mode is force_generic_plan */
  const struct mn_db_stmt *prepared[MN_DB_MAX_PREPARED];
  size_t n_prepared;
};

struct mn_store {
  char *dsn;
  char connect_timeout[16];
  /* Postgres's statement_timeout on every pooled session (0: none). The
   * client also gives up DEADLINE_GRACE later (a stopped server cannot
   * cancel anything): the connection is dropped and the call fails with
   * MN_EUNAVAILABLE. Waiting for a free connection is bounded the same way. */
  int statement_timeout_ms;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct mn_db_conn *conns;
  size_t n_conns;
  struct mn_db_conn **idle; /* stack of free connections */
  size_t n_idle;
  uint64_t statements;  /* under mu: statements run (mn_db_exec, retries too) */
  uint64_t pool_waits;  /* under mu: acquisitions that had to wait */
  int64_t pool_wait_us; /* under mu: time they waited */
  /* outage reporting (under mu): one warning per interval, not per call */
  bool down;
  int64_t last_warn_us;
  int64_t last_up_us;
  unsigned suppressed;
  /* the worker's /start and /finish, run in groups (executions.c) */
  struct mn_group start_group, finish_group;
};


/* Sets up / tears down start_group and finish_group (executions.c). */
void mn_execution_groups_init(struct mn_store *s);
void mn_execution_groups_release(struct mn_store *s);

/* Connects one libpq connection with the store's DSN and timeout. */
int mn_db_connect(const char *dsn, const char *connect_timeout, PGconn **out,
                  struct mn_error *err);

/* Borrows a live connection (waits while all are busy) / gives it back.
 * Its session may have synchronous_commit off or generic plans forced
 * (c->commit_async, c->generic_plan): a caller sets what it needs. */
int mn_db_acquire(struct mn_store *s, struct mn_db_conn **out, struct mn_error *err);
void mn_db_release(struct mn_store *s, struct mn_db_conn *c);

/* Runs `stmt` with text parameters (NULL entries are SQL NULL).
 * Returns 0 with *out holding a PGRES_TUPLES_OK/COMMAND_OK result;
 * MN_EUNAVAILABLE when the database cannot be reached (*out NULL);
 * MN_EINTERNAL for an SQL error, with *out holding the failed result so the
 * caller can map its SQLSTATE. The caller PQclear()s *out in every case. */
int mn_db_exec(struct mn_store *s, const struct mn_db_stmt *stmt,
               const char *const *params, PGresult **out);

/* The SQLSTATE / constraint of a failed result ("" when absent). */
const char *mn_db_sqlstate(const PGresult *r);
const char *mn_db_constraint(const PGresult *r);
bool mn_db_is_unique_violation(const PGresult *r);
bool mn_db_is_fk_violation(const PGresult *r);

/* Logs an unexpected SQL failure of `what` and returns MN_EINTERNAL. */
int mn_db_unexpected(const char *what, const PGresult *r);

/* mn_db_exec for a statement none of whose SQL errors the caller maps:
 * one is logged as unexpected (under the statement's name) and returned as
 * MN_EINTERNAL. *out as with mn_db_exec (the caller PQclear()s it). */
int mn_db_query(struct mn_store *s, const struct mn_db_stmt *stmt, const char *const *params,
                PGresult **out);

/* One readiness probe on a connection of its own: connects when *conn is
 * NULL (kept in *conn between probes), then reads the schema version, all
 * within timeout_ms whatever the server does. 0 with *schema_version and
 * *latency_us (the query's round trip) set; or MN_EUNAVAILABLE with err
 * filled and *conn closed and NULL. */
int mn_db_probe(const char *dsn, PGconn **conn, int timeout_ms, int *schema_version,
                int64_t *latency_us, struct mn_error *err);

#endif
