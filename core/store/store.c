/* Opening and closing the store: the pool, the schema. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/migrations.h"
#include "util/log.h"

static void store_destroy(struct mn_store *s) {
  for (size_t i = 0; s->conns && i < s->n_conns; i++)
    if (s->conns[i].pg)
      PQfinish(s->conns[i].pg);
  free(s->conns);
  free(s->idle);
  free(s->dsn);
  mn_execution_groups_release(s);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

int mn_store_open(const struct mn_store_options *opt, struct mn_store **out,
                  struct mn_error *err) {
  if (!opt || !opt->dsn || !opt->dsn[0])
    return mn_fail(err, MN_EINVAL, "store: no postgres connection string");
  struct mn_store *s = calloc(1, sizeof *s);
  if (!s)
    return mn_fail(err, MN_ENOMEM, "store: out of memory");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  mn_execution_groups_init(s);
  int rc;
  s->n_conns = opt->pool_size > 0 ? (size_t)opt->pool_size : 8;
  snprintf(s->connect_timeout, sizeof s->connect_timeout, "%d",
           opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 10);
  s->statement_timeout_ms = opt->statement_timeout_ms == 0 ? 30000
                            : opt->statement_timeout_ms < 0 ? 0
                                                            : opt->statement_timeout_ms;
  s->dsn = strdup(opt->dsn);
  s->conns = calloc(s->n_conns, sizeof *s->conns);
  s->idle = calloc(s->n_conns, sizeof *s->idle);
  if (!s->dsn || !s->conns || !s->idle) {
    rc = mn_fail(err, MN_ENOMEM, "store: out of memory");
    goto fail;
  }
  /* Fill the idle stack so that conns[0] is handed out first. */
  for (size_t i = 0; i < s->n_conns; i++)
    s->idle[i] = &s->conns[s->n_conns - 1 - i];
  s->n_idle = s->n_conns;

  rc = mn_db_connect(s->dsn, s->connect_timeout, &s->conns[0].pg, err);
  if (rc < 0)
    goto fail;
  int version = 0;
  rc = mn_migrations_apply(s->conns[0].pg, &version, err);
  if (rc < 0)
    goto fail;
  mn_log_debug("store", "schema at version %d, pool of %zu connections", version,
               s->n_conns);
  *out = s;
  return 0;
fail:
  store_destroy(s);
  return rc;
}

void mn_store_free(struct mn_store *s) {
  if (s)
    store_destroy(s);
}

static const struct mn_db_stmt stmt_schema_version = {
    "mn_schema_version", "SELECT coalesce(max(number), 0) FROM schema_migrations", 0, true, 0};

int mn_store_schema_version(struct mn_store *s, int *version_out) {
  PGresult *r;
  int rc = mn_db_exec(s, &stmt_schema_version, NULL, &r);
  if (rc == MN_EINTERNAL)
    rc = mn_db_unexpected("schema_version", r);
  if (rc == 0)
    *version_out = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return rc;
}

const char *mn_store_dsn(const struct mn_store *s) { return s->dsn; }
