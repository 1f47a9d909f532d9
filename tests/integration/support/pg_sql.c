#include "pg_sql.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pg_testdb.h"
#include "store/store.h"

int mn_test_open(int pool_size, struct mn_store **store, PGconn **pg) {
  if (mn_testdb_open_store(pool_size, store) < 0)
    return -1;
  *pg = PQconnectdb(mn_testdb_dsn());
  if (PQstatus(*pg) == CONNECTION_OK)
    return 0;
  fprintf(stderr, "raw connection: %s", PQerrorMessage(*pg));
  return -1;
}

void mn_test_close(struct mn_store *store, PGconn *pg) {
  PQfinish(pg);
  mn_store_free(store);
}

PGresult *mn_test_sql(PGconn *pg, const char *q) {
  PGresult *r = PQexec(pg, q);
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    fail_msg("%s: %s", q, PQerrorMessage(pg));
  return r;
}

static PGresult *vsql(PGconn *pg, const char *fmt, va_list ap) {
  char q[16384];
  int n = vsnprintf(q, sizeof q, fmt, ap);
  if (n < 0 || (size_t)n >= sizeof q)
    fail_msg("statement longer than %zu bytes: %.80s...", sizeof q, fmt);
  return mn_test_sql(pg, q);
}

void mn_test_exec(PGconn *pg, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = vsql(pg, fmt, ap);
  va_end(ap);
  PQclear(r);
}

long long mn_test_scalar(PGconn *pg, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = vsql(pg, fmt, ap);
  va_end(ap);
  long long v = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return v;
}

void mn_test_enqueue(PGconn *pg, const char *project, const char *version, const char *function,
                     int n, long long base) {
  mn_test_exec(pg,
               "INSERT INTO invocations (project_name, version_id, function_name, invocation_id,"
               " input, invocation_status, creation_time, last_update_time, deadline)"
               " SELECT '%s', '%s', '%s', 'inv-' || lpad(to_hex(%lld + g), 32, '0'), '',"
               " 'RUNNING', %lld + g, %lld + g, 9000000000000000 FROM generate_series(1, %d) g",
               project, version, function, base, base, base, n);
}
