/* The schema: numbered migrations applied in order, each in a transaction
 * of its own and recorded in schema_migrations. They run under a session
 * advisory lock so that daemons starting together apply each one once. */
#ifndef MN_STORE_MIGRATIONS_H
#define MN_STORE_MIGRATIONS_H

#include <libpq-fe.h>

#include "util/error.h"

/* The key of the advisory lock that serialises migrations. */
#define MN_MIGRATIONS_LOCK_KEY INT64_C(7286454551000001)

struct mn_migration {
  int number;
  const char *name;
  const char *sql;
};

/* The migrations in order, and how many there are. */
const struct mn_migration *mn_migrations(int *n_out);

/* Applies every pending migration on `pg`. *version_out (may be NULL) gets
 * the highest applied number. */
int mn_migrations_apply(PGconn *pg, int *version_out, struct mn_error *err);

#endif
