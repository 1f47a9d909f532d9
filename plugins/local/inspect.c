/* inspect.c — inspect_many and list_owned: worker states from the records,
 * brought up to date first (a worker may have exited since). */
#include "local.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void state_of_locked(struct mn_local *l, const char *id, struct mn_worker_state *state) {
  struct mn_local_record rec;
  char why[512];
  memset(state, 0, sizeof *state);
  state->phase = MN_WORKER_PHASE_MISSING;
  state->exit_code = -1;
  if (!mn_local_id_valid(id)) {
    snprintf(state->reason, sizeof state->reason, "no such worker");
    return;
  }
  /* A watched worker that has not exited is running, which is what its
   * record says (it says otherwise only once the exit is recorded, and the
   * watch goes then): no record read for the workers every pass inspects. */
  struct mn_local_watch *w = mn_local_watch_find_locked(l, id);
  if (w && !mn_local_watch_check(w)) {
    state->phase = MN_WORKER_PHASE_RUNNING;
    state->exit_code = 0;
    return;
  }
  int rc = mn_local_record_read(l->dir, id, &rec, why, sizeof why);
  if (rc == -ENOENT) {
    snprintf(state->reason, sizeof state->reason, "no such worker");
    return;
  }
  if (rc != 0) {
    snprintf(state->reason, sizeof state->reason, "unreadable record: %.200s",
             rc == -EINVAL ? why : strerror(-rc));
    return;
  }
  mn_local_refresh_locked(l, &rec);
  mn_local_record_state(&rec, state);
}

int mn_local_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                          struct mn_worker_state *states_out, struct mn_provider_error *err) {
  struct mn_local *l = state;
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; i < n; i++)
    state_of_locked(l, refs[i].identifier, &states_out[i]);
  pthread_mutex_unlock(&l->lock);
  return 0;
}

struct owned_list {
  struct mn_local *l;
  struct mn_owned_worker *items;
  char (*ids)[MN_LOCAL_ID_MAX + 1];
  size_t n, cap;
  int failed;
};

static int collect(void *vctx, const char *id) {
  struct owned_list *list = vctx;
  struct mn_local *l = list->l;
  struct mn_local_record rec;
  char why[512];
  const char *cluster = l->host->cluster_id ? l->host->cluster_id : "";

  if (mn_local_record_read(l->dir, id, &rec, why, sizeof why) != 0)
    return 0;
  if (rec.released || strcmp(rec.cluster_id, cluster) != 0)
    return 0;
  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 32;
    struct mn_owned_worker *items = realloc(list->items, cap * sizeof *items);
    if (items)
      list->items = items;
    char(*ids)[MN_LOCAL_ID_MAX + 1] = realloc(list->ids, cap * sizeof *ids);
    if (ids)
      list->ids = ids;
    if (!items || !ids)
      return list->failed = 1;
    list->cap = cap;
  }
  struct mn_owned_worker *w = &list->items[list->n];
  memset(w, 0, sizeof *w);
  snprintf(list->ids[list->n], sizeof list->ids[0], "%s", id);
  snprintf(w->ref.identifier, sizeof w->ref.identifier, "%s", id);
  mn_local_record_path(l->dir, id, ".log", w->ref.logs_identifier, sizeof w->ref.logs_identifier);
  mn_local_refresh_locked(l, &rec);
  mn_local_record_state(&rec, &w->state);
  list->n++;
  return 0;
}

int mn_local_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                        struct mn_provider_error *err) {
  struct mn_local *l = state;
  struct owned_list list = {.l = l};
  int rc;

  pthread_mutex_lock(&l->lock);
  rc = mn_local_record_foreach(l->dir, collect, &list);
  pthread_mutex_unlock(&l->lock);
  if (rc != 0)
    rc = l->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot list \"%s\": %s", l->dir,
                        strerror(-rc));
  else if (list.failed)
    rc = l->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  /* The callback runs unlocked: it may call back into the provider. */
  for (size_t i = 0; rc == 0 && i < list.n; i++) {
    list.items[i].execution_id = list.ids[i];
    if (cb(ctx, &list.items[i]) != 0)
      break;
  }
  free(list.items);
  free(list.ids);
  return rc;
}
