#include "store/group_commit.h"

void mn_group_init(struct mn_group *g, size_t max, mn_group_run_fn *run, void *ctx) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->head = g->tail = NULL;
  g->in_flight = false;
  g->max = max < 1 ? 1 : max > MN_GROUP_MAX ? MN_GROUP_MAX : max;
  g->run = run;
  g->ctx = ctx;
}

void mn_group_release(struct mn_group *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

void mn_group_submit(struct mn_group *g, struct mn_group_req *r) {
  r->next = NULL;
  r->done = false;
  pthread_mutex_lock(&g->mu);
  if (g->tail)
    g->tail->next = r;
  else
    g->head = r;
  g->tail = r;
  while (!r->done) {
    if (g->in_flight) {
      pthread_cond_wait(&g->cv, &g->mu);
      continue;
    }
    /* Lead: take the oldest requests (r is among them unless more than
     * `max` were queued before it; then it leads again after). */
    struct mn_group_req *taken[MN_GROUP_MAX];
    size_t n = 0;
    while (g->head && n < g->max) {
      taken[n++] = g->head;
      g->head = g->head->next;
    }
    if (!g->head)
      g->tail = NULL;
    g->in_flight = true;
    pthread_mutex_unlock(&g->mu);
    g->run(g->ctx, taken, n);
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < n; i++)
      taken[i]->done = true;
    g->in_flight = false;
    pthread_cond_broadcast(&g->cv);
  }
  pthread_mutex_unlock(&g->mu);
}
