/* inspect.c — inspect_many and list_owned: one list call for this cluster's
 * containers, then one inspect per exited container (its exit code and
 * OOMKilled are not in the list). */
#include "docker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_state.h"

static const struct mn_docker_summary *find(const struct mn_docker_summary *items, size_t n,
                                            const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(items[i].name, name) == 0)
      return &items[i];
  return NULL;
}

/* The state of a listed container; exited ones are inspected. */
static int state_of(struct mn_docker *d, const struct mn_docker_summary *c,
                    struct mn_worker_state *out, struct mn_provider_error *err) {
  memset(out, 0, sizeof *out);
  out->exit_code = -1;
  out->phase = mn_docker_phase_of(c->state);
  if (out->phase == MN_WORKER_PHASE_EXITED)
    return mn_docker_inspect_one(d, c->name, out, err);
  if (out->phase == MN_WORKER_PHASE_MISSING)
    snprintf(out->reason, sizeof out->reason, "unknown container state \"%s\"", c->state);
  return 0;
}

int mn_docker_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                           struct mn_worker_state *states_out, struct mn_provider_error *err) {
  struct mn_docker *d = state;
  struct mn_docker_summary *items;
  size_t count;
  int rc = mn_docker_list(d, &items, &count, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const struct mn_docker_summary *c = find(items, count, refs[i].identifier);
    if (!c) {
      memset(&states_out[i], 0, sizeof states_out[i]);
      states_out[i].phase = MN_WORKER_PHASE_MISSING;
      states_out[i].exit_code = -1;
      snprintf(states_out[i].reason, sizeof states_out[i].reason, "no such container");
      continue;
    }
    rc = state_of(d, c, &states_out[i], err);
  }
  free(items);
  return rc;
}

int mn_docker_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                         struct mn_provider_error *err) {
  struct mn_docker *d = state;
  struct mn_docker_summary *items;
  size_t count;
  int rc = mn_docker_list(d, &items, &count, err);
  if (rc)
    return rc;
  for (size_t i = 0; i < count; i++) {
    struct mn_owned_worker w;
    memset(&w, 0, sizeof w);
    if ((rc = state_of(d, &items[i], &w.state, err)) != 0)
      break;
    if (w.state.phase == MN_WORKER_PHASE_MISSING)
      continue; /* removed meanwhile */
    w.execution_id = items[i].execution_id;
    snprintf(w.ref.identifier, sizeof w.ref.identifier, "%s", items[i].name);
    snprintf(w.ref.logs_identifier, sizeof w.ref.logs_identifier, "%s", items[i].name);
    if (cb(ctx, &w) != 0)
      break;
  }
  free(items);
  return rc;
}
