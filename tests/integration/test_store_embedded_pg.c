/* The embedded Postgres (core/store/embedded_pg.h) in a temp directory:
 * initdb + start, stop, reuse, adopting a server whose daemon died,
 * recovering a server killed with SIGKILL, and the socket fallback for data
 * directories too long for a unix socket path. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store/embedded_pg.h"
#include "store/pg_exec.h"
#include "util/clock.h"

static char dir[64];
static struct mn_pg_embedded *pg; /* the running one, if any */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

static int setup(void **state) {
  snprintf(dir, sizeof dir, "/tmp/mn-emb-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  mn_pg_embedded_stop(pg);
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static void start(bool expect_adopted) {
  struct mn_error err = {0};
  int rc = mn_pg_embedded_start(dir, &pg, &err);
  if (rc != 0)
    fprintf(stderr, "start: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_int_equal(mn_pg_embedded_adopted(pg), expect_adopted);
  assert_true(mn_pg_embedded_pid(pg) > 0);
}

static PGconn *connect_db(void) {
  PGconn *c = PQconnectdb(mn_pg_embedded_dsn(pg));
  if (PQstatus(c) != CONNECTION_OK)
    fprintf(stderr, "connect: %s", PQerrorMessage(c));
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  return c;
}

static void exec_ok(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
  assert_true(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
  PQclear(r);
}

static long count_markers(void) {
  PGconn *c = connect_db();
  PGresult *r = PQexec(c, "SELECT count(*) FROM marker");
  assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

static void test_start_stop_reuse(void **state) {
  start(false);
  const char *dsn = mn_pg_embedded_dsn(pg);
  assert_non_null(strstr(dsn, "dbname=multinode"));
  assert_non_null(strstr(dsn, dir)); /* the socket lives under the data dir */
  PGconn *c = connect_db();
  exec_ok(c, "CREATE TABLE marker (n integer)");
  exec_ok(c, "INSERT INTO marker VALUES (1)");
  /* unix socket only */
  PGresult *r = PQexec(c, "SHOW listen_addresses");
  assert_string_equal(PQgetvalue(r, 0, 0), "");
  PQclear(r);
  PQfinish(c);

  char dsn_copy[512];
  snprintf(dsn_copy, sizeof dsn_copy, "%s", dsn);
  mn_pg_embedded_stop(pg);
  pg = NULL;
  assert_int_equal(PQping(dsn_copy), PQPING_NO_RESPONSE);

  /* the same cluster comes back: no new initdb, the data is there */
  start(false);
  assert_int_equal(count_markers(), 1);
}

/* A daemon killed with SIGKILL leaves its server running: the next start
 * uses that server instead of starting another. */
static void test_adopt(void **state) {
  long before = mn_pg_embedded_pid(pg);
  mn_pg_embedded_detach(pg);
  pg = NULL;
  start(true);
  assert_int_equal(mn_pg_embedded_pid(pg), before);
  assert_int_equal(count_markers(), 1);
}

/* A server killed with SIGKILL is started again and recovers its data. */
static void test_recover_after_kill(void **state) {
  PGconn *c = connect_db();
  exec_ok(c, "INSERT INTO marker VALUES (2)");
  PQfinish(c);
  long pid = mn_pg_embedded_pid(pg);
  assert_true(pid > 0);
  assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
  int64_t deadline = mn_monotonic_us() + 10 * MN_US_PER_S;
  while (mn_pg_process_alive((pid_t)pid) && mn_monotonic_us() < deadline) {
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
  }
  assert_false(mn_pg_process_alive((pid_t)pid));
  mn_pg_embedded_detach(pg);
  pg = NULL;

  start(false);
  assert_true(mn_pg_embedded_pid(pg) != pid);
  assert_int_equal(count_markers(), 2);
}

static void test_restart_modes(void **state) {
  struct mn_error err = {0};
  assert_int_equal(mn_pg_embedded_restart(pg, "sideways", &err), MN_EINVAL);
  long before = mn_pg_embedded_pid(pg);
  assert_int_equal(mn_pg_embedded_restart(pg, "immediate", &err), 0);
  assert_true(mn_pg_embedded_pid(pg) != before);
  assert_int_equal(count_markers(), 2);
  mn_pg_embedded_stop(pg);
  pg = NULL;
}

/* A pid file left behind whose pid now belongs to another process (here:
 * this test) is stale: the server is started, not "adopted". */
static void test_recycled_pid(void **state) {
  assert_null(pg); /* stopped by the previous test */
  char path[256];
  snprintf(path, sizeof path, "%s/postgres/data/postmaster.pid", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%ld\n%s/postgres/data\n1700000000\n5432\n%s/postgres/run\n\n  0 0\nready\n",
          (long)getpid(), dir, dir);
  fclose(f);
  start(false);
  assert_true(mn_pg_embedded_pid(pg) != getpid());
  assert_int_equal(count_markers(), 2);
  mn_pg_embedded_stop(pg);
  pg = NULL;
}

/* A data dir so deep that <dir>/postgres/run/.s.PGSQL.5432 exceeds the
 * 107 bytes of a unix socket path: the socket moves under /tmp. */
static void test_long_path(void **state) {
  char deep[512];
  snprintf(deep, sizeof deep, "%s/%s/%s", dir,
           "a-rather-long-directory-name-to-push-the-socket-path-over-the-limit",
           "and-another-one-for-good-measure");
  struct mn_error err = {0};
  struct mn_pg_embedded *p2 = NULL;
  int rc = mn_pg_embedded_start(deep, &p2, &err);
  if (rc != 0)
    fprintf(stderr, "start: %s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(mn_pg_embedded_dsn(p2), "host='/tmp/mn-pg-"));
  PGconn *c = PQconnectdb(mn_pg_embedded_dsn(p2));
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  char sockdir[64];
  snprintf(sockdir, sizeof sockdir, "%s", PQhost(c));
  PQfinish(c);
  mn_pg_embedded_stop(p2);
  assert_int_equal(rmdir(sockdir), 0); /* stop left it empty */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_stop_reuse),
      cmocka_unit_test(test_adopt),
      cmocka_unit_test(test_recover_after_kill),
      cmocka_unit_test(test_restart_modes),
      cmocka_unit_test(test_recycled_pid),
      cmocka_unit_test(test_long_path),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
