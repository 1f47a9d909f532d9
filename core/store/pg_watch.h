/* A thread that keeps the embedded Postgres running: when its postmaster is
 * gone on two looks in a row (a restart by hand in between is seen running),
 * it is adopted or started again (mn_pg_embedded_revive), so a daemon does
 * not answer 503 for ever after Postgres was killed. */
#ifndef MN_STORE_PG_WATCH_H
#define MN_STORE_PG_WATCH_H

#include "store/embedded_pg.h"

struct mn_pg_watch;

/* Looks every interval_ms; NULL when the thread cannot start. */
struct mn_pg_watch *mn_pg_watch_start(struct mn_pg_embedded *pg, int interval_ms);
void mn_pg_watch_stop(struct mn_pg_watch *w); /* NULL-safe; joins */

#endif
