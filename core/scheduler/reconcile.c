/* After becoming the active scheduler: workers that providers still hold
 * for executions that have ended, or that this database never knew, are
 * terminated and released. Executions still PROVISIONING are left to the
 * pass, which calls launch again (idempotent: it finds the same worker). */
#include <stdlib.h>
#include <string.h>

#include "scheduler/internal.h"
#include "store/sched_snapshot.h"
#include "util/log.h"

struct owned {
  char execution_id[128];
  struct mn_worker_ref ref;
};

struct owned_list {
  struct owned *items;
  size_t n, cap;
};

static int collect(void *ctx, const struct mn_owned_worker *w) {
  struct owned_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    struct owned *items = realloc(l->items, cap * sizeof *items);
    if (!items)
      return 1;
    l->items = items;
    l->cap = cap;
  }
  struct owned *o = &l->items[l->n++];
  memset(o, 0, sizeof *o);
  strncpy(o->execution_id, w->execution_id ? w->execution_id : "", sizeof o->execution_id - 1);
  o->ref = w->ref;
  return 0;
}

void mn_sched_reconcile(struct mn_scheduler *s) {
  for (size_t p = 0; p < mn_plugins_count(s->plugins); p++) {
    struct mn_provider_handle *h = mn_plugins_at(s->plugins, p);
    if (!(mn_provider_caps(h) & MN_PROVIDER_CAP_LIST_OWNED))
      continue;
    struct owned_list l = {0};
    struct mn_provider_error perr = {0};
    if (mn_provider_list_owned(h, collect, &l, &perr) != 0) {
      mn_log_warn("scheduler", "provider %s: cannot list its workers: %s", mn_provider_name(h),
                  perr.msg);
      free(l.items);
      continue;
    }
    size_t strays = 0;
    for (size_t i = 0; i < l.n; i++) {
      enum mn_worker_status st;
      int rc = mn_store_sched_execution_status(s->store, l.items[i].execution_id, &st);
      if (rc == 0 && st != MN_WORKER_TERMINATED)
        continue; /* the pass inspects or relaunches it */
      if (rc != 0 && rc != MN_EEXECUTION_NOT_FOUND)
        continue; /* unknown: decide another time */
      strays++;
      mn_provider_terminate(h, &l.items[i].ref, 0, &perr);
      mn_provider_release(h, &l.items[i].ref, &perr);
    }
    if (strays)
      mn_log_info("scheduler", "provider %s: removed %zu stray worker(s)", mn_provider_name(h),
                  strays);
    free(l.items);
  }
}
