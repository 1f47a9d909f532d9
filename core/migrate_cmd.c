#include "migrate_cmd.h"

#include <stdio.h>

#include "store/embedded_pg.h"
#include "store/migrations.h"
#include "store/store.h"
#include "util/error.h"

int mn_migrate_command(const struct mn_config *cfg) {
  struct mn_error err = {0};
  struct mn_pg_embedded *pg = NULL;
  struct mn_store *store = NULL;
  const char *dsn = cfg->store.dsn;
  int version = 0, known = 0, rc;
  const struct mn_migration *all = mn_migrations(&known);

  if (!dsn || !*dsn) {
    if ((rc = mn_pg_embedded_start(cfg->data_dir, &pg, &err)) != 0)
      goto out;
    dsn = mn_pg_embedded_dsn(pg);
  }
  /* opening the store applies what is pending, under the migration lock, so
   * several release steps (or daemons) at once apply each migration once */
  struct mn_store_options sopt = {.dsn = dsn, .pool_size = 1};
  if ((rc = mn_store_open(&sopt, &store, &err)) != 0)
    goto out;
  if ((rc = mn_store_schema_version(store, &version)) != 0) {
    mn_fail(&err, rc, "cannot read the schema version: %s", mn_strerror(rc));
    goto out;
  }
  printf("schema at version %d (this daemon knows %d)\n", version,
         known > 0 ? all[known - 1].number : 0);
out:
  if (rc)
    fprintf(stderr, "multinoded --migrate: %s\n", err.msg[0] ? err.msg : mn_strerror(rc));
  mn_store_free(store);
  mn_pg_embedded_stop(pg);
  return rc ? 1 : 0;
}
