/* A private database per integration test program, on the Postgres server
 * that MN_TEST_DSN names (the CTest fixture starts it with tests/pg.sh).
 *
 *   const char *dsn = mn_testdb_dsn();   // created on first call
 *   ... mn_store_open(&(struct mn_store_options){.dsn = dsn}, ...) ...
 *
 * or, for a store test's group setup, mn_testdb_open_store(pool_size, &store)
 * (and mn_store_free(store) in its teardown).
 *
 * Every database created here is dropped when the program exits (atexit,
 * DROP DATABASE ... WITH (FORCE)), so a test never sees another's rows. */
#ifndef MN_TEST_PG_TESTDB_H
#define MN_TEST_PG_TESTDB_H

#include <stddef.h>

struct mn_store;
struct mn_function_spec;

/* The DSN of this program's database, created on the first call. NULL,
 * with a message on stderr, when MN_TEST_DSN is unset or unusable. */
const char *mn_testdb_dsn(void);

/* Opens a store (mn_store_open) with pool_size connections on this
 * program's database (mn_testdb_dsn). 0, or -1 with a message on stderr;
 * the caller frees *out with mn_store_free. */
int mn_testdb_open_store(int pool_size, struct mn_store **out);

/* Creates project `project` (at time 1) and one version of it with the
 * functions fs[0..n) and image "img"; writes the version's id into vid
 * (MN_ID_MAX bytes). 0, or -1 with a message on stderr. */
int mn_testdb_project_version(struct mn_store *s, const char *project,
                              const struct mn_function_spec *fs, size_t n, char *vid);

/* Creates one more fresh, empty database and writes its DSN into out.
 * 0, or -1 with a message on stderr. */
int mn_testdb_create(char *out, size_t size);

/* Drops every database created so far (also done at exit). */
void mn_testdb_drop_all(void);

#endif
