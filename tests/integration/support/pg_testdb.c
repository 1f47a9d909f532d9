#include "pg_testdb.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "multinode/common/ids.h"
#include "store/store.h"

enum { MAX_DBS = 16, NAME_MAX_LEN = 64, DSN_MAX = 2048 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char names[MAX_DBS][NAME_MAX_LEN];
static int n_names;
static bool atexit_done;
static char main_dsn[DSN_MAX];

/* Appends " key='value'" with libpq's quoting. */
static bool append_kv(char *out, size_t size, const char *key, const char *value) {
  size_t len = strlen(out);
  int n = snprintf(out + len, size - len, "%s%s='", len ? " " : "", key);
  if (n < 0 || (size_t)n >= size - len)
    return false;
  len += (size_t)n;
  for (const char *p = value; *p; p++) {
    if (len + 3 >= size)
      return false;
    if (*p == '\'' || *p == '\\')
      out[len++] = '\\';
    out[len++] = *p;
  }
  out[len++] = '\'';
  out[len] = '\0';
  return true;
}

/* MN_TEST_DSN with dbname replaced. */
static int dsn_with_dbname(const char *dbname, char *out, size_t size) {
  const char *base = getenv("MN_TEST_DSN");
  if (!base || !*base) {
    fprintf(stderr, "pg_testdb: MN_TEST_DSN is not set (run the tests through ctest)\n");
    return -1;
  }
  char *errmsg = NULL;
  PQconninfoOption *opts = PQconninfoParse(base, &errmsg);
  if (!opts) {
    fprintf(stderr, "pg_testdb: MN_TEST_DSN does not parse: %s\n", errmsg ? errmsg : "?");
    PQfreemem(errmsg);
    return -1;
  }
  out[0] = '\0';
  int rc = 0;
  for (PQconninfoOption *o = opts; o->keyword; o++)
    if (o->val && strcmp(o->keyword, "dbname") != 0 && !append_kv(out, size, o->keyword, o->val))
      rc = -1;
  if (!append_kv(out, size, "dbname", dbname))
    rc = -1;
  PQconninfoFree(opts);
  if (rc < 0)
    fprintf(stderr, "pg_testdb: MN_TEST_DSN is too long\n");
  return rc;
}

static int admin_exec(const char *sql) {
  char dsn[DSN_MAX];
  if (dsn_with_dbname("postgres", dsn, sizeof dsn) < 0)
    return -1;
  PGconn *pg = PQconnectdb(dsn);
  int rc = 0;
  if (PQstatus(pg) != CONNECTION_OK) {
    fprintf(stderr, "pg_testdb: cannot connect to the test server: %s", PQerrorMessage(pg));
    rc = -1;
  } else {
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fprintf(stderr, "pg_testdb: %s: %s", sql, PQresultErrorMessage(r));
      rc = -1;
    }
    PQclear(r);
  }
  PQfinish(pg);
  return rc;
}

static void drop_at_exit(void) { mn_testdb_drop_all(); }

int mn_testdb_create(char *out, size_t size) {
  char name[NAME_MAX_LEN], sql[160];
  pthread_mutex_lock(&mu);
  int rc = -1;
  if (n_names >= MAX_DBS) {
    fprintf(stderr, "pg_testdb: too many test databases\n");
    goto done;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(name, sizeof name, "mn_test_%ld_%lx_%d", (long)getpid(),
           (unsigned long)(ts.tv_nsec ^ ts.tv_sec), n_names);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
  if (admin_exec(sql) < 0 || dsn_with_dbname(name, out, size) < 0)
    goto done;
  snprintf(names[n_names++], NAME_MAX_LEN, "%s", name);
  if (!atexit_done) {
    atexit(drop_at_exit);
    atexit_done = true;
  }
  rc = 0;
done:
  pthread_mutex_unlock(&mu);
  return rc;
}

const char *mn_testdb_dsn(void) {
  pthread_mutex_lock(&mu);
  bool have = main_dsn[0] != '\0';
  pthread_mutex_unlock(&mu);
  if (have)
    return main_dsn;
  char dsn[DSN_MAX];
  if (mn_testdb_create(dsn, sizeof dsn) < 0)
    return NULL;
  pthread_mutex_lock(&mu);
  snprintf(main_dsn, sizeof main_dsn, "%s", dsn);
  pthread_mutex_unlock(&mu);
  return main_dsn;
}

int mn_testdb_open_store(int pool_size, struct mn_store **out) {
  const char *dsn = mn_testdb_dsn();
  struct mn_error err = {0};
  if (!dsn)
    return -1;
  struct mn_store_options opt = {.dsn = dsn, .pool_size = pool_size};
  if (mn_store_open(&opt, out, &err) < 0) {
    fprintf(stderr, "mn_store_open: %s\n", err.msg);
    return -1;
  }
  return 0;
}

void mn_testdb_drop_all(void) {
  pthread_mutex_lock(&mu);
  for (int i = 0; i < n_names; i++) {
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.63s WITH (FORCE)", names[i]);
    admin_exec(sql);
  }
  n_names = 0;
  main_dsn[0] = '\0';
  pthread_mutex_unlock(&mu);
}

int mn_testdb_project_version(struct mn_store *s, const char *project,
                              const struct mn_function_spec *fs, size_t n, char *vid) {
  struct mn_version_definition def = {.default_docker_image = "img",
                                      .functions = (struct mn_function_spec *)fs,
                                      .n_functions = n};
  struct mn_version v = {0};
  if (mn_store_create_project(s, project, 1, NULL) < 0 ||
      mn_store_create_version(s, project, &def, 1, &v) < 0) {
    fprintf(stderr, "cannot create project %s and its version\n", project);
    return -1;
  }
  snprintf(vid, MN_ID_MAX, "%s", v.version_id);
  mn_version_release(&v);
  return 0;
}
