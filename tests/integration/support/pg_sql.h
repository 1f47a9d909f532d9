/* Raw SQL for store tests that look under the store (plans, buffers, rows
 * written the way the API writes them), on their own libpq connection to
 * the program's database (pg_testdb.h). Each call fails the running test,
 * with the statement and Postgres's message, when the statement fails. */
#ifndef MN_TEST_PG_SQL_H
#define MN_TEST_PG_SQL_H

#include <libpq-fe.h>

struct mn_store;

/* A store of pool_size connections on the program's database and a raw
 * connection beside it: 0, or -1 with a message on stderr. */
int mn_test_open(int pool_size, struct mn_store **store, PGconn **pg);
void mn_test_close(struct mn_store *store, PGconn *pg);

/* Runs q; the caller PQclear()s the result. */
PGresult *mn_test_sql(PGconn *pg, const char *q);
/* Runs a printf-formatted statement and drops its result. */
void mn_test_exec(PGconn *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first column of the first row as a number, or -1 when there is none. */
long long mn_test_scalar(PGconn *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Queues n invocations of project/version/function, RUNNING and created at
 * base+1 .. base+n microseconds, as the API's INSERT writes them, with
 * ids made from their times. */
void mn_test_enqueue(PGconn *pg, const char *project, const char *version, const char *function,
                     int n, long long base);

#endif
