#include "scheduler/classify.h"

#include <math.h>
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

int64_t mn_sched_base_time(int64_t creation_time, int64_t start_at) {
  return start_at != MN_TIME_NULL && start_at > creation_time ? start_at : creation_time;
}

int64_t mn_sched_retry_wait(const struct mn_sched_fn *fn, int n, double u) {
  if (!(fn->retry_delay_seconds > 0) || n < 1)
    return 0;
  double factor = fn->retry_backoff_factor >= 1 ? fn->retry_backoff_factor : 1;
  double cap = fn->retry_delay_seconds * pow(factor, n - 1);
  if (!(cap <= fn->retry_max_delay_seconds)) /* also an overflow to inf */
    cap = fn->retry_max_delay_seconds;
  if (u < 0)
    u = 0;
  if (u >= 1)
    u = nextafter(1.0, 0.0);
  return (int64_t)((cap / 2 + u * cap / 2) * (double)MN_US_PER_S);
}

static void earliest(int64_t *w, int64_t t) {
  if (*w == MN_TIME_NULL || t < *w)
    *w = t;
}

int mn_sched_attempt_expired(const struct mn_sched_exec *e, const struct mn_sched_fn *fn,
                             int64_t now, int64_t *wake) {
  int64_t w = MN_TIME_NULL;
  int why = 0;
  if (e->worker_status == MN_WORKER_RUNNING && e->outcome == MN_OUTCOME_NONE &&
      e->termination_signal_time == MN_TIME_NULL && e->execution_start_time != MN_TIME_NULL) {
    int64_t start = e->execution_start_time;
    if (fn->attempt_timeout_seconds > 0) {
      int64_t t = start + fn->attempt_timeout_seconds * MN_US_PER_S;
      if (now >= t)
        why = 1;
      earliest(&w, t);
    }
    if (!why && fn->heartbeat_timeout_seconds > 0) {
      int64_t last = e->heartbeat_time != MN_TIME_NULL && e->heartbeat_time > start
                         ? e->heartbeat_time : start;
      int64_t t = last + fn->heartbeat_timeout_seconds * MN_US_PER_S;
      if (now >= t)
        why = 2;
      earliest(&w, t);
    }
  }
  if (wake)
    *wake = why ? MN_TIME_NULL : w;
  return why;
}

int64_t mn_sched_next_wake(const struct mn_sched_inv *v, const struct mn_sched_fn *fn,
                           int64_t now) {
  int64_t base = mn_sched_base_time(v->creation_time, v->start_at), w = MN_TIME_NULL;
  int64_t t = mn_sched_deadline(base, fn->timeout_seconds);
  if (t > now)
    earliest(&w, t);
  if (v->n_execs == 0 && fn->queue_timeout_seconds > 0) {
    t = base + fn->queue_timeout_seconds * MN_US_PER_S;
    if (t > now)
      earliest(&w, t);
  }
  if (v->waiting && v->eligible_at > now)
    earliest(&w, v->eligible_at);
  return w;
}

struct fifo_slot {
  int priority;
  int64_t creation_time;
  const char *id;
  size_t index;
};

static int fifo_cmp(const void *a, const void *b) {
  const struct fifo_slot *x = a, *y = b;
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  if (x->creation_time != y->creation_time)
    return x->creation_time < y->creation_time ? -1 : 1;
  return strcmp(x->id, y->id);
}

static enum mn_sched_action decide(const struct mn_sched_inv *v, bool cancel_now,
                                   const struct mn_sched_fn *fn, int64_t now, int64_t *wait) {
  size_t live = 0;
  bool ended = false;
  int64_t last_end = MN_TIME_NULL;
  for (size_t k = 0; k < v->n_execs; k++) {
    if (v->execs[k].worker_status != MN_WORKER_TERMINATED)
      live++;
    if (v->execs[k].outcome == MN_OUTCOME_SUCCEEDED || v->execs[k].outcome == MN_OUTCOME_ABORTED)
      ended = true;
    if (last_end == MN_TIME_NULL || v->execs[k].last_update_time > last_end)
      last_end = v->execs[k].last_update_time;
  }
  if (live > 0)
    return MN_SCHED_LEAVE;
  if (ended)
    return MN_SCHED_TERMINATE;
  int64_t base = mn_sched_base_time(v->creation_time, v->start_at);
  bool cancelled = cancel_now || v->cancellation_request_time != MN_TIME_NULL;
  if (cancelled || mn_sched_timed_out(base, fn->timeout_seconds, now) ||
      v->n_execs >= (size_t)fn->max_retries + 1 || v->project_deleting)
    return MN_SCHED_TERMINATE;
  if (v->n_execs == 0 && fn->queue_timeout_seconds > 0 &&
      now >= base + fn->queue_timeout_seconds * MN_US_PER_S)
    return MN_SCHED_QUEUE_TIMEOUT;
  if (!fn->ready && !fn->preparation_failed)
    return MN_SCHED_LEAVE; /* preparation in flight */
  if (v->n_execs > 0 && fn->retry_delay_seconds > 0 && v->eligible_at < last_end) {
    /* the backoff of this retry is not drawn yet */
    *wait = last_end + mn_sched_retry_wait(fn, (int)v->n_execs, v->jitter);
    if (*wait > now)
      return MN_SCHED_WAIT;
  }
  if ((v->waiting && now < v->eligible_at) || (v->start_at != MN_TIME_NULL && now < v->start_at))
    return MN_SCHED_LEAVE;
  return MN_SCHED_CREATE_EXECUTION;
}

/* Attempts holding a worker per (function, concurrency key). */
struct key_count {
  int fn;
  const char *key;
  int count;
};

static struct key_count *key_slot(struct key_count *kc, size_t *n, int fn, const char *key) {
  for (size_t i = 0; i < *n; i++)
    if (kc[i].fn == fn && strcmp(kc[i].key, key) == 0)
      return &kc[i];
  kc[*n] = (struct key_count){fn, key, 0};
  return &kc[(*n)++];
}

void mn_sched_classify(const struct mn_sched_inv *invs, size_t n, const bool *cancel,
                       const struct mn_sched_fn *fns, size_t n_fns, const int *in_use,
                       int64_t now, enum mn_sched_action *actions) {
  mn_sched_classify_ex(invs, n, cancel, fns, n_fns, in_use, now, actions, NULL);
}

void mn_sched_classify_ex(const struct mn_sched_inv *invs, size_t n, const bool *cancel,
                          const struct mn_sched_fn *fns, size_t n_fns, const int *in_use,
                          int64_t now, enum mn_sched_action *actions, int64_t *wait_until) {
  struct fifo_slot *order = malloc((n ? n : 1) * sizeof *order);
  int *free_slots = malloc((n_fns ? n_fns : 1) * sizeof *free_slots);
  struct key_count *kc = calloc(n ? n : 1, sizeof *kc);
  size_t n_kc = 0;
  if (!order || !free_slots || !kc) {
    for (size_t i = 0; i < n; i++)
      actions[i] = MN_SCHED_LEAVE;
    goto out;
  }
  for (size_t f = 0; f < n_fns; f++)
    free_slots[f] = fns[f].max_concurrency - (in_use ? in_use[f] : 0);
  for (size_t i = 0; i < n; i++) {
    order[i] = (struct fifo_slot){invs[i].priority, invs[i].creation_time,
                                  invs[i].invocation_id ? invs[i].invocation_id : "", i};
    if (!invs[i].concurrency_key || invs[i].fn < 0 || (size_t)invs[i].fn >= n_fns)
      continue;
    for (size_t k = 0; k < invs[i].n_execs; k++)
      if (invs[i].execs[k].worker_status != MN_WORKER_TERMINATED) {
        key_slot(kc, &n_kc, invs[i].fn, invs[i].concurrency_key)->count++;
        break;
      }
  }
  qsort(order, n, sizeof *order, fifo_cmp);
  for (size_t j = 0; j < n; j++) {
    size_t i = order[j].index;
    const struct mn_sched_inv *v = &invs[i];
    int64_t wait = MN_TIME_NULL;
    if (v->fn < 0 || (size_t)v->fn >= n_fns) {
      actions[i] = MN_SCHED_LEAVE;
      continue;
    }
    const struct mn_sched_fn *fn = &fns[v->fn];
    enum mn_sched_action a = decide(v, cancel && cancel[i], fn, now, &wait);
    if (a == MN_SCHED_CREATE_EXECUTION) {
      struct key_count *k = v->concurrency_key && fn->max_concurrency_per_key > 0
                                ? key_slot(kc, &n_kc, v->fn, v->concurrency_key)
                                : NULL;
      if (free_slots[v->fn] < 1) {
        a = MN_SCHED_QUEUED;
      } else if (k && k->count >= fn->max_concurrency_per_key) {
        a = MN_SCHED_BLOCKED;
      } else {
        free_slots[v->fn]--;
        if (k)
          k->count++;
      }
    }
    if (wait_until)
      wait_until[i] = a == MN_SCHED_WAIT ? wait : MN_TIME_NULL;
    actions[i] = a;
  }
out:
  free(order);
  free(free_slots);
  free(kc);
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
