#include "scheduler/classify.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

bool mn_sched_timed_out(int64_t creation_time, int timeout_seconds, int64_t now) {
  return now >= mn_sched_deadline(creation_time, timeout_seconds);
}

int64_t mn_sched_deadline(int64_t creation_time, int timeout_seconds) {
  /* floor(now_s) > floor(created_s) + T  <=>  now >= (floor(created_s) + T + 1) s */
  int64_t created_s = mn_us_to_s(creation_time);
  return (created_s + timeout_seconds + 1) * MN_US_PER_S;
}

/* 0 unknown, 1 not cancelled, 2 cancelled (has or gets a request) */
static int cancelled_state(const struct mn_sched_inv *invs, size_t n, int i, char *memo,
                           bool *cancel, size_t depth) {
  if (memo[i])
    return memo[i];
  const struct mn_sched_inv *v = &invs[i];
  int state = 1;
  if (v->cancellation_request_time != MN_TIME_NULL) {
    state = 2;
  } else if (v->project_deleting || v->parent_cancelled || v->parent_ended) {
    state = 2;
    cancel[i] = true;
  } else if (v->parent >= 0 && (size_t)v->parent < n && depth < n &&
             cancelled_state(invs, n, v->parent, memo, cancel, depth + 1) == 2) {
    state = 2;
    cancel[i] = true;
  }
  memo[i] = (char)state;
  return state;
}

void mn_sched_propagate_cancellation(const struct mn_sched_inv *invs, size_t n, bool *cancel) {
  char *memo = calloc(n ? n : 1, 1);
  for (size_t i = 0; i < n; i++)
    cancel[i] = false;
  if (!memo)
    return;
  for (size_t i = 0; i < n; i++)
    cancelled_state(invs, n, (int)i, memo, cancel, 0);
  free(memo);
}

struct fifo_slot {
  int64_t creation_time;
  const char *id;
  size_t index;
};

static int fifo_cmp(const void *a, const void *b) {
  const struct fifo_slot *x = a, *y = b;
  if (x->creation_time != y->creation_time)
    return x->creation_time < y->creation_time ? -1 : 1;
  return strcmp(x->id, y->id);
}

static enum mn_sched_action decide(const struct mn_sched_inv *v, bool cancel_now,
                                   const struct mn_sched_fn *fn, int64_t now) {
  size_t live = 0;
  bool ended = false;
  for (size_t k = 0; k < v->n_execs; k++) {
    if (v->execs[k].worker_status != MN_WORKER_TERMINATED)
      live++;
    if (v->execs[k].outcome == MN_OUTCOME_SUCCEEDED || v->execs[k].outcome == MN_OUTCOME_ABORTED)
      ended = true;
  }
  if (live > 0)
    return MN_SCHED_LEAVE;
  if (ended)
    return MN_SCHED_TERMINATE;
  bool cancelled = cancel_now || v->cancellation_request_time != MN_TIME_NULL;
  if (cancelled || mn_sched_timed_out(v->creation_time, fn->timeout_seconds, now) ||
      v->n_execs >= (size_t)fn->max_retries + 1 || v->project_deleting)
    return MN_SCHED_TERMINATE;
  if (!fn->ready && !fn->preparation_failed)
    return MN_SCHED_LEAVE; /* preparation in flight */
  return MN_SCHED_CREATE_EXECUTION;
}

void mn_sched_classify(const struct mn_sched_inv *invs, size_t n, const bool *cancel,
                       const struct mn_sched_fn *fns, size_t n_fns, const int *in_use,
                       int64_t now, enum mn_sched_action *actions) {
  struct fifo_slot *order = malloc((n ? n : 1) * sizeof *order);
  int *free_slots = malloc((n_fns ? n_fns : 1) * sizeof *free_slots);
  if (!order || !free_slots) {
    for (size_t i = 0; i < n; i++)
      actions[i] = MN_SCHED_LEAVE;
    goto out;
  }
  for (size_t f = 0; f < n_fns; f++)
    free_slots[f] = fns[f].max_concurrency - (in_use ? in_use[f] : 0);
  for (size_t i = 0; i < n; i++)
    order[i] = (struct fifo_slot){invs[i].creation_time,
                                  invs[i].invocation_id ? invs[i].invocation_id : "", i};
  qsort(order, n, sizeof *order, fifo_cmp);
  for (size_t j = 0; j < n; j++) {
    size_t i = order[j].index;
    const struct mn_sched_inv *v = &invs[i];
    if (v->fn < 0 || (size_t)v->fn >= n_fns) {
      actions[i] = MN_SCHED_LEAVE;
      continue;
    }
    enum mn_sched_action a = decide(v, cancel && cancel[i], &fns[v->fn], now);
    if (a == MN_SCHED_CREATE_EXECUTION) {
      if (free_slots[v->fn] >= 1)
        free_slots[v->fn]--;
      else
        a = MN_SCHED_QUEUED;
    }
    actions[i] = a;
  }
out:
  free(order);
  free(free_slots);
}

bool mn_sched_needs_signal(const struct mn_sched_exec *e, bool cancel_requested,
                           int64_t invocation_creation_time, int timeout_seconds,
                           int64_t now) {
  if (e->worker_status != MN_WORKER_RUNNING || e->termination_signal_time != MN_TIME_NULL)
    return false;
  return cancel_requested || mn_sched_timed_out(invocation_creation_time, timeout_seconds, now);
}

bool mn_sched_project_deletable(int64_t deletion_request_time, size_t running_invocations) {
  return deletion_request_time != MN_TIME_NULL && running_invocations == 0;
}
