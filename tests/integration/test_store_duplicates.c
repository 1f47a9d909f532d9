/* Store: duplicate keys give the *AlreadyExists errors (docs/compatibility.md §7 data
 * layer tests). Ids are random, so the test database gets triggers that pin
 * every new version / invocation / execution id to one value; the second
 * insert then really collides in Postgres. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pg_testdb.h"
#include "store/store.h"

static struct mn_store *store;

static const char pin_ids[] =
    "CREATE FUNCTION pin_version() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN NEW.version_id := 'ver-pinned'; RETURN NEW; END $$;"
    "CREATE TRIGGER pin BEFORE INSERT ON project_versions"
    " FOR EACH ROW EXECUTE FUNCTION pin_version();"
    "CREATE FUNCTION pin_invocation() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN NEW.invocation_id := 'inv-pinned'; RETURN NEW; END $$;"
    "CREATE TRIGGER pin BEFORE INSERT ON invocations"
    " FOR EACH ROW EXECUTE FUNCTION pin_invocation();"
    "CREATE FUNCTION pin_execution() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN NEW.execution_id := 'exe-pinned'; RETURN NEW; END $$;"
    "CREATE TRIGGER pin BEFORE INSERT ON executions"
    " FOR EACH ROW EXECUTE FUNCTION pin_execution();";

static int setup(void **state) {
  if (mn_testdb_open_store(2, &store) < 0)
    return -1;
  PGconn *pg = PQconnectdb(mn_testdb_dsn());
  PGresult *r = PQexec(pg, pin_ids);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
  if (rc < 0)
    fprintf(stderr, "triggers: %s", PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(pg);
  return rc;
}

static int teardown(void **state) {
  mn_store_free(store);
  return 0;
}

static void test_duplicates(void **state) {
  struct mn_function_spec fs[1] = {
      {.function_name = "f", .resource_spec = {1, 1, 1}, .execution_spec = {0, 10}}};
  struct mn_version_definition def = {.default_docker_image = "img", .functions = fs,
                                      .n_functions = 1};
  assert_int_equal(mn_store_create_project(store, "dup", 1, NULL), 0);
  assert_int_equal(mn_store_create_project(store, "dup", 1, NULL), MN_EPROJECT_EXISTS);

  assert_int_equal(mn_store_create_version(store, "dup", &def, 2, NULL), 0);
  assert_int_equal(mn_store_create_version(store, "dup", &def, 3, NULL), MN_EVERSION_EXISTS);
  struct mn_version v = {0};
  assert_int_equal(mn_store_get_version(store, "dup", "ver-pinned", &v), 0);
  assert_true(v.creation_time == 2); /* the first one, untouched */
  assert_int_equal(v.n_functions, 1);
  mn_version_release(&v);

  struct mn_function_key fk = {"dup", "ver-pinned", "f"};
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "a", 4, NULL), 0);
  assert_int_equal(mn_store_create_invocation(store, &fk, NULL, "b", 5, NULL),
                   MN_EINVOCATION_EXISTS);
  struct mn_invocation inv = {0};
  assert_int_equal(mn_store_get_invocation(store, &fk, "inv-pinned", &inv), 0);
  assert_string_equal(inv.input, "a");
  mn_invocation_release(&inv);

  assert_int_equal(mn_store_create_execution(store, &fk, "inv-pinned", 6, NULL), 0);
  assert_int_equal(mn_store_create_execution(store, &fk, "inv-pinned", 7, NULL),
                   MN_EEXECUTION_EXISTS);
  assert_int_equal(mn_store_get_invocation(store, &fk, "inv-pinned", &inv), 0);
  assert_int_equal(inv.n_executions, 1);
  assert_true(inv.last_update_time == 6); /* the refused attempt left no trace */
  mn_invocation_release(&inv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duplicates),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
