/* One decision pass: read the working set (what changed and what can be
 * launched: store/sched_snapshot.h), decide with the pure rules of
 * classify.c, write the decisions (one statement per kind), cascade
 * cancellations past the working set, and hand provider calls to the pool.
 * Its cost follows the work done, not the length of the queues. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "metrics/metrics.h"
#include "scheduler/classify.h"
#include "scheduler/internal.h"
#include "store/sched_snapshot.h"
#include "store/sched_writes.h"
#include "multinode/common/ids.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/token.h"

#define IDLE_WAKE_US (30 * MN_US_PER_S) /* a missed NOTIFY costs at most this */
#define PRUNE_EVERY_US (60 * MN_US_PER_S)
#define PROJECT_SWEEP_US (5 * MN_US_PER_S)
#define QUEUE_SCAN_US (30 * MN_US_PER_S) /* rebuild the queue hints (queues.h) */

static void at_most(int64_t *next, int64_t t) {
  if (t < *next)
    *next = t;
}

static void fn_key(const struct mn_function *f, char *out, size_t size) {
  snprintf(out, size, "fn:%s\x1f%s\x1f%s", f->project_name, f->version_id, f->function_name);
}

static struct mn_exec_ref exec_ref(const struct mn_invocation *inv, const struct mn_execution *e) {
  return (struct mn_exec_ref){inv->function.project_name, inv->function.version_id,
                              inv->function.function_name, inv->invocation_id,
                              e ? e->execution_id : NULL, false};
}

static struct mn_function_key inv_fk(const struct mn_invocation *inv) {
  return (struct mn_function_key){inv->function.project_name, inv->function.version_id,
                                  inv->function.function_name};
}

bool mn_sched_track_begin(struct mn_scheduler *s, const char *key, int64_t now,
                          int64_t *not_before) {
  bool ok = false;
  pthread_mutex_lock(&s->mu);
  struct mn_track *t = mn_tracker_get(s->tracker, key);
  if (t && !t->in_flight) {
    if (t->not_before > now) {
      if (not_before)
        *not_before = t->not_before;
    } else {
      t->in_flight = true;
      ok = true;
    }
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

void mn_sched_track_end(struct mn_scheduler *s, const char *key, const char *failure) {
  mn_sched_track_end_after(s, key, failure, 0);
}

void mn_sched_track_end_after(struct mn_scheduler *s, const char *key, const char *failure,
                              int64_t retry_after_us) {
  pthread_mutex_lock(&s->mu);
  struct mn_track *t = mn_tracker_peek(s->tracker, key);
  int64_t retry_in = -1;
  if (t) {
    t->in_flight = false;
    if (failure) {
      int64_t now = mn_now_us();
      mn_track_failed_after(t, now, failure, retry_after_us);
      retry_in = t->not_before - now;
    } else {
      mn_track_succeeded(t);
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (failure)
    mn_log_warn("scheduler", "%s: %s; trying again in %lld ms (no attempt spent)", key, failure,
                (long long)(retry_in / 1000));
}

/* Reads (and marks seen) a tracker entry's fields under the lock. */
static struct mn_track track_read(struct mn_scheduler *s, const char *key) {
  struct mn_track copy = {0};
  pthread_mutex_lock(&s->mu);
  struct mn_track *t = mn_tracker_get(s->tracker, key);
  if (t)
    copy = *t;
  pthread_mutex_unlock(&s->mu);
  return copy;
}

struct pass {
  struct mn_scheduler *s;
  int64_t now;
  int64_t next;
  struct mn_sched_snapshot snap;
  bool *cancelled; /* per invocation: has (or just got) a cancellation request */
  bool *ended;     /* per invocation: terminated in this pass */
  bool *cascade;   /* per invocation: its descendants must be cancelled */
  bool *launched;  /* per invocation: got a new attempt in this pass */
  int *in_use;     /* per function: invocations holding a worker, at read time */
  bool write_failed; /* a decision was not written: keep the attention flags */
  unsigned long reports_read; /* s->reports before the state was read */
};

static bool timed_out(const struct pass *p, size_t i) {
  const struct mn_snap_invocation *si = &p->snap.invs[i];
  if (si->fn < 0)
    return false;
  return mn_sched_timed_out(mn_sched_base_time(si->inv.creation_time, si->inv.start_at),
                            p->snap.functions[si->fn].execution_spec.timeout_seconds, p->now);
}

/* The pure rules' view of a function (classify.h). */
static struct mn_sched_fn sched_fn(const struct mn_function *fn) {
  const struct mn_execution_spec *e = &fn->execution_spec;
  return (struct mn_sched_fn){.ready = fn->function_status == MN_FUNCTION_READY,
                              .preparation_failed = fn->preparation_error != NULL,
                              .max_retries = e->max_retries,
                              .timeout_seconds = e->timeout_seconds,
                              .max_concurrency = fn->resource_spec.max_concurrency,
                              .max_concurrency_per_key =
                                  fn->resource_spec.max_concurrency_per_key,
                              .retry_delay_seconds = e->retry_delay_seconds,
                              .retry_backoff_factor = e->retry_backoff_factor,
                              .retry_max_delay_seconds = e->retry_max_delay_seconds,
                              .attempt_timeout_seconds = e->attempt_timeout_seconds,
                              .queue_timeout_seconds = e->queue_timeout_seconds,
                              .heartbeat_timeout_seconds = e->heartbeat_timeout_seconds};
}

static struct mn_sched_exec sched_exec(const struct mn_execution *e) {
  return (struct mn_sched_exec){e->worker_status,        e->outcome,
                                e->termination_signal_time, e->last_update_time,
                                e->execution_start_time, e->heartbeat_time};
}


static struct mn_sched_key inv_key(const struct mn_invocation *inv, const char *execution_id) {
  return (struct mn_sched_key){inv->function.project_name, inv->function.version_id,
                               inv->function.function_name, inv->invocation_id, execution_id};
}

/* 3a: the cascade, in one statement. */
static void write_cancellations(struct pass *p, struct mn_sched_inv *invs, const bool *cancel) {
  size_t n = p->snap.n_invs, k = 0;
  struct mn_sched_key *keys = calloc(n ? n : 1, sizeof *keys);
  if (!keys)
    return;
  for (size_t i = 0; i < n; i++)
    if (cancel[i])
      keys[k++] = inv_key(&p->snap.invs[i].inv, NULL);
  if (k) {
    if (mn_store_sched_cancel_many(p->s->store, keys, k, p->now, NULL) == 0)
      mn_log_info("scheduler", "cancelled %zu invocation(s) whose parent or project ended", k);
    else
      p->write_failed = true;
  }
  for (size_t i = 0; i < n; i++) {
    struct mn_invocation *inv = &p->snap.invs[i].inv;
    if (cancel[i])
      inv->cancellation_request_time = invs[i].cancellation_request_time = p->now;
    p->cancelled[i] = inv->cancellation_request_time != MN_TIME_NULL;
    /* a new request (the cascade's, or the API's, which raised attention)
     * reaches the descendants outside the working set */
    p->cascade[i] = cancel[i] || (p->cancelled[i] && p->snap.invs[i].attention != 0);
  }
  free(keys);
}

static bool terminates(enum mn_sched_action a) {
  return a == MN_SCHED_TERMINATE || a == MN_SCHED_QUEUE_TIMEOUT;
}

/* The metrics of an invocation that has just ended (metrics/metrics.h). */
static void count_ended(const struct pass *p, size_t i, enum mn_sched_action action) {
  const struct mn_snap_invocation *si = &p->snap.invs[i];
  const struct mn_execution_spec *spec =
      si->fn >= 0 ? &p->snap.functions[si->fn].execution_spec : NULL;
  mn_metrics_invocation_ended(si->inv.function.project_name, si->inv.function.function_name,
                              mn_metrics_end_of(&si->inv, spec ? spec->timeout_seconds : 0,
                                                spec ? spec->max_retries : 0,
                                                action == MN_SCHED_QUEUE_TIMEOUT, p->now));
}

/* 3b: every invocation that ends now, in one statement. */
static void write_terminations(struct pass *p, const enum mn_sched_action *actions) {
  size_t n = p->snap.n_invs, k = 0;
  struct mn_sched_key *keys = calloc(n ? n : 1, sizeof *keys);
  const char **reasons = calloc(n ? n : 1, sizeof *reasons);
  if (!keys || !reasons) {
    free(keys);
    free(reasons);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if (terminates(actions[i])) {
      reasons[k] = actions[i] == MN_SCHED_QUEUE_TIMEOUT ? MN_TERMINATION_QUEUE_TIMEOUT : NULL;
      keys[k++] = inv_key(&p->snap.invs[i].inv, NULL);
    }
  for (size_t i = 0; i < n; i++)
    if (terminates(actions[i]) && p->snap.invs[i].project_deleting)
      p->s->projects_dirty = true; /* its project, waiting for its last one, may go now */
  bool *applied = calloc(n ? n : 1, sizeof *applied);
  if (k && applied &&
      mn_store_sched_terminate_many(p->s->store, keys, reasons, k, p->now, applied) == 0) {
    for (size_t i = 0, j = 0; i < n; i++)
      if (terminates(actions[i])) {
        p->ended[i] = applied[j++];
        if (p->ended[i])
          count_ended(p, i, actions[i]);
        p->cascade[i] = p->cascade[i] || p->ended[i];
      }
    mn_log_debug("scheduler", "terminated %zu invocation(s)", k);
  } else if (k) {
    p->write_failed = true;
  }
  free(applied);
  free(keys);
  free(reasons);
}

/* 3b: every new attempt, committed PROVISIONING in one statement before
 * any provider call; the execution step launches them. */
static void write_new_executions(struct pass *p, const enum mn_sched_action *actions) {
  size_t n = p->snap.n_invs, k = 0;
  struct mn_sched_key *keys = calloc(n ? n : 1, sizeof *keys);
  char (*ids)[MN_ID_MAX] = calloc(n ? n : 1, sizeof *ids);
  char (*hashes)[MN_TOKEN_HASH_MAX] = calloc(n ? n : 1, sizeof *hashes);
  const char **hash_of = calloc(n ? n : 1, sizeof *hash_of);
  size_t *which = calloc(n ? n : 1, sizeof *which);
  bool *applied = calloc(n ? n : 1, sizeof *applied);
  if (!keys || !ids || !hashes || !hash_of || !which || !applied)
    goto out;
  for (size_t i = 0; i < n; i++) {
    if (actions[i] != MN_SCHED_CREATE_EXECUTION || mn_id_new(MN_ID_PREFIX_EXECUTION, ids[k]) != 0)
      continue;
    /* the execution's key hash goes in with the row (the launch derives
     * the same key from the id: jobs.c) */
    char key[MN_TOKEN_MAX];
    mn_token_derive(p->s->opt.key_secret, ids[k], key);
    mn_token_hash(key, strlen(key), hashes[k]);
    OPENSSL_cleanse(key, sizeof key);
    hash_of[k] = hashes[k];
    which[k] = i;
    keys[k] = inv_key(&p->snap.invs[i].inv, ids[k]);
    k++;
  }
  if (!k)
    goto out;
  if (mn_store_sched_create_executions(p->s->store, keys, hash_of, k, p->now, applied) != 0) {
    p->write_failed = true;
    goto out;
  }
  for (size_t j = 0; j < k; j++) {
    p->launched[which[j]] = applied[j];
    struct mn_invocation *inv = &p->snap.invs[which[j]].inv;
    char *id = applied[j] ? strdup(ids[j]) : NULL;
    struct mn_execution *grown =
        id ? realloc(inv->executions, (inv->n_executions + 1) * sizeof *grown) : NULL;
    if (!grown) {
      free(id);
      continue; /* not created, or the next pass finds it */
    }
    inv->executions = grown;
    inv->executions[inv->n_executions++] = (struct mn_execution){
        .execution_id = id, .worker_status = MN_WORKER_PROVISIONING,
        .termination_signal_time = MN_TIME_NULL, .creation_time = p->now,
        .last_update_time = p->now, .execution_start_time = MN_TIME_NULL,
        .execution_finish_time = MN_TIME_NULL, .heartbeat_time = MN_TIME_NULL};
  }
out:
  free(keys);
  free(ids);
  free(hashes);
  free(hash_of);
  free(which);
  free(applied);
}

static void hint_queue(struct pass *p, const struct mn_function *fn) {
  if (mn_queues_add(p->s->queues, fn->project_name, fn->version_id, fn->function_name) < 0)
    p->s->next_queue_scan = 0;
  p->next = p->now; /* read the heads again */
}

/* Migration 7: the timing every undecided invocation keeps (a backoff
 * starts, a wait ends, a key is full, the next wake of the deadline
 * index), written in one statement where it changed. */
static void write_timing(struct pass *p, const struct mn_sched_inv *invs,
                         const struct mn_sched_fn *fns, const enum mn_sched_action *actions,
                         const int64_t *wait_until) {
  size_t n = p->snap.n_invs, k = 0;
  struct mn_sched_key *keys = calloc(n ? n : 1, sizeof *keys);
  struct mn_sched_timing *t = calloc(n ? n : 1, sizeof *t);
  size_t *which = calloc(n ? n : 1, sizeof *which);
  if (!keys || !t || !which)
    goto out;
  for (size_t i = 0; i < n; i++) {
    const struct mn_snap_invocation *si = &p->snap.invs[i];
    if (si->fn < 0 || p->ended[i] || p->launched[i] || terminates(actions[i]))
      continue;
    struct mn_sched_timing x = {si->waiting, si->eligible_at, si->blocked, MN_TIME_NULL};
    if (actions[i] == MN_SCHED_WAIT) {
      x.waiting = true;
      x.eligible_at = wait_until[i];
    } else if (actions[i] == MN_SCHED_BLOCKED) {
      x.blocked = true;
      x.waiting = false;
    } else if (actions[i] == MN_SCHED_QUEUED) {
      x.waiting = x.blocked = false; /* eligible: into the queue */
    } else if (x.waiting && p->now >= x.eligible_at) {
      x.waiting = false;
    }
    struct mn_sched_inv v = invs[i];
    v.waiting = x.waiting;
    v.eligible_at = x.eligible_at;
    x.deadline = mn_sched_next_wake(&v, &fns[si->fn], p->now);
    if (x.waiting == si->waiting && x.eligible_at == si->eligible_at &&
        x.blocked == si->blocked && x.deadline == si->deadline)
      continue;
    which[k] = i;
    t[k] = x;
    keys[k++] = inv_key(&si->inv, NULL);
  }
  if (k && mn_store_sched_set_timing(p->s->store, keys, t, k) != 0) {
    p->write_failed = true;
    goto out;
  }
  for (size_t j = 0; j < k; j++) {
    const struct mn_snap_invocation *si = &p->snap.invs[which[j]];
    bool was_out = si->waiting || si->blocked, is_out = t[j].waiting || t[j].blocked;
    if ((was_out && !is_out) || (!si->blocked && t[j].blocked))
      hint_queue(p, &p->snap.functions[si->fn]); /* joined the queue, or left a head slot */
  }
  if (k)
    mn_log_debug("scheduler", "timing of %zu invocation(s) written", k);
out:
  free(keys);
  free(t);
  free(which);
}

static bool holds_worker(const struct mn_invocation *inv) {
  for (size_t k = 0; k < inv->n_executions; k++)
    if (inv->executions[k].worker_status != MN_WORKER_TERMINATED)
      return true;
  return false;
}

/* A concurrency key where something happened (an attempt ended, a
 * cancellation) may have room: its oldest blocked invocations go back to
 * the queue, as many as it has room (one index range per key). */
static void unblock_keys(struct pass *p, const struct mn_sched_fn *fns) {
  size_t n = p->snap.n_invs, k = 0;
  struct mn_function_key *fks = calloc(n ? n : 1, sizeof *fks);
  const char **names = calloc(n ? n : 1, sizeof *names);
  int *room = calloc(n ? n : 1, sizeof *room);
  int *fn_of = calloc(n ? n : 1, sizeof *fn_of);
  if (!fks || !names || !room || !fn_of)
    goto out;
  for (size_t i = 0; i < n; i++) {
    const struct mn_snap_invocation *si = &p->snap.invs[i];
    const char *key = si->inv.concurrency_key;
    if (si->attention == 0 || !key || si->fn < 0 || fns[si->fn].max_concurrency_per_key < 1)
      continue;
    bool seen = false;
    for (size_t j = 0; j < k && !seen; j++)
      seen = fn_of[j] == si->fn && strcmp(names[j], key) == 0;
    if (seen)
      continue;
    int used = 0;
    for (size_t x = 0; x < n; x++) {
      const struct mn_snap_invocation *o = &p->snap.invs[x];
      if (o->fn == si->fn && o->inv.concurrency_key &&
          strcmp(o->inv.concurrency_key, key) == 0 && !p->ended[x] && holds_worker(&o->inv))
        used++; /* the launched ones hold their new execution already */
    }
    if (used >= fns[si->fn].max_concurrency_per_key)
      continue;
    fn_of[k] = si->fn;
    names[k] = key;
    room[k] = fns[si->fn].max_concurrency_per_key - used;
    fks[k++] = inv_fk(&si->inv);
  }
  int unblocked = 0;
  if (k && mn_store_sched_unblock(p->s->store, fks, names, room, k, &unblocked) != 0)
    p->write_failed = true;
  if (unblocked > 0) {
    for (size_t j = 0; j < k; j++)
      hint_queue(p, &p->snap.functions[fn_of[j]]);
    mn_log_debug("scheduler", "%d blocked invocation(s) back in their queue", unblocked);
  }
out:
  free(fks);
  free(names);
  free(room);
  free(fn_of);
}

/* The queue hints (queues.h) after the decisions: a hinted function whose
 * queue gave fewer heads than it had free slots, all of them launched or
 * ended, has nothing queued any more; a function where an attempt ended,
 * or a queued invocation was cancelled, may have capacity for its queue. */
static void update_queue_hints(struct pass *p, const enum mn_sched_action *actions) {
  size_t nf = p->snap.n_functions;
  int *queued = calloc(nf ? nf : 1, sizeof *queued);
  int *consumed = calloc(nf ? nf : 1, sizeof *consumed);
  if (!queued || !consumed) {
    p->s->next_queue_scan = 0;
    goto out;
  }
  int *heads = calloc(nf ? nf : 1, sizeof *heads);
  if (!heads) {
    p->s->next_queue_scan = 0;
    goto out;
  }
  for (size_t i = 0; i < p->snap.n_invs; i++) {
    const struct mn_snap_invocation *si = &p->snap.invs[i];
    if (si->fn < 0 || si->live || si->waiting || si->blocked)
      continue; /* not in the queue index when read */
    queued[si->fn]++;
    heads[si->fn] += si->attention == 0; /* what the heads query gave */
    if (p->launched[i] || p->ended[i] || actions[i] == MN_SCHED_WAIT ||
        actions[i] == MN_SCHED_BLOCKED)
      consumed[si->fn]++; /* it left the queue */
  }
  for (size_t f = 0; f < nf; f++) {
    const struct mn_function *fn = &p->snap.functions[f];
    int free_slots = fn->resource_spec.max_concurrency - p->in_use[f];
    if (free_slots > 0 && heads[f] < free_slots && consumed[f] == queued[f])
      mn_queues_remove(p->s->queues, fn->project_name, fn->version_id, fn->function_name);
  }
  free(heads);
  for (size_t i = 0; i < p->snap.n_invs; i++) {
    const struct mn_snap_invocation *si = &p->snap.invs[i];
    bool freed = si->live && p->ended[i]; /* its slot is free from now on */
    if (!(freed || (si->attention != 0 && !si->live && !p->ended[i] && !si->waiting &&
                    !si->blocked && actions[i] != MN_SCHED_WAIT &&
                    actions[i] != MN_SCHED_BLOCKED)))
      continue;
    const struct mn_function *fn = &si->inv.function;
    if (freed && mn_queues_has(p->s->queues, fn->project_name, fn->version_id,
                               fn->function_name))
      p->next = p->now; /* the heads were read with that slot taken: read them again */
    if (mn_queues_add(p->s->queues, fn->project_name, fn->version_id, fn->function_name) < 0)
      p->s->next_queue_scan = 0;
  }
out:
  free(queued);
  free(consumed);
}

static void launch_created(struct pass *p);

/* Steps 3a and 3b: cascade cancellations, then classify and write. */
static void decide_invocations(struct pass *p) {
  size_t n = p->snap.n_invs, nf = p->snap.n_functions;
  struct mn_sched_inv *invs = calloc(n ? n : 1, sizeof *invs);
  struct mn_sched_exec **execs = calloc(n ? n : 1, sizeof *execs);
  struct mn_sched_fn *fns = calloc(nf ? nf : 1, sizeof *fns);
  int *in_use = p->in_use;
  bool *cancel = calloc(n ? n : 1, sizeof *cancel);
  enum mn_sched_action *actions = calloc(n ? n : 1, sizeof *actions);
  int64_t *wait_until = calloc(n ? n : 1, sizeof *wait_until);
  if (!invs || !execs || !fns || !in_use || !cancel || !actions || !wait_until) {
    mn_log_error("scheduler", "out of memory in a pass");
    goto out;
  }
  for (size_t f = 0; f < nf; f++)
    fns[f] = sched_fn(&p->snap.functions[f]);
  for (size_t i = 0; i < n; i++) {
    const struct mn_snap_invocation *si = &p->snap.invs[i];
    const struct mn_invocation *inv = &si->inv;
    struct mn_sched_inv *v = &invs[i];
    *v = (struct mn_sched_inv){.invocation_id = inv->invocation_id,
                               .creation_time = inv->creation_time,
                               .cancellation_request_time = inv->cancellation_request_time,
                               .project_deleting = si->project_deleting,
                               .fn = si->fn,
                               .parent = -1,
                               .priority = inv->priority,
                               .start_at = inv->start_at,
                               .eligible_at = si->eligible_at,
                               .waiting = si->waiting,
                               .live = si->live,
                               .concurrency_key = inv->concurrency_key,
                               .jitter = drand48()};
    if (inv->has_parent) {
      v->parent = mn_sched_snapshot_find_invocation(&p->snap, inv->function.project_name,
                                                    inv->function.version_id,
                                                    inv->parent.function_name,
                                                    inv->parent.invocation_id);
      if (v->parent < 0) {
        v->parent_cancelled = inv->parent.cancellation_request_time != MN_TIME_NULL;
        v->parent_ended = inv->parent.invocation_status == MN_INVOCATION_TERMINATED;
      }
    }
    execs[i] = calloc(inv->n_executions ? inv->n_executions : 1, sizeof **execs);
    if (!execs[i])
      goto out;
    bool live = false;
    for (size_t k = 0; k < inv->n_executions; k++) {
      const struct mn_execution *e = &inv->executions[k];
      execs[i][k] = sched_exec(e);
      live |= e->worker_status != MN_WORKER_TERMINATED;
    }
    v->execs = execs[i];
    v->n_execs = inv->n_executions;
    if (live && si->fn >= 0)
      in_use[si->fn]++;
  }

  mn_sched_propagate_cancellation(invs, n, cancel);
  write_cancellations(p, invs, cancel);
  mn_sched_classify_ex(invs, n, NULL, fns, nf, in_use, p->now, actions, wait_until);
  /* new attempts first, and launched at once; the terminations (other
   * invocations) after */
  write_new_executions(p, actions);
  launch_created(p);
  write_terminations(p, actions);
  update_queue_hints(p, actions);
  /* after the hints: what joins a queue now must stay hinted */
  write_timing(p, invs, fns, actions, wait_until);
  unblock_keys(p, fns);
out:
  for (size_t i = 0; execs && i < n; i++)
    free(execs[i]);
  free(execs);
  free(invs);
  free(fns);
  free(cancel);
  free(actions);
  free(wait_until);
}

/* Functions waiting for their first preparation. */
static void prepare_functions(struct pass *p) {
  for (size_t f = 0; f < p->snap.n_functions; f++) {
    const struct mn_function *fn = &p->snap.functions[f];
    if (fn->function_status == MN_FUNCTION_READY || fn->preparation_error)
      continue;
    char key[1024];
    fn_key(fn, key, sizeof key);
    int64_t nb = 0;
    if (!mn_sched_track_begin(p->s, key, p->now, &nb)) {
      if (nb)
        at_most(&p->next, nb);
      continue;
    }
    if (mn_sched_submit_prepare(p->s, fn, key) != 0)
      mn_sched_track_end(p->s, key, "the provider-call queue is full");
  }
}

/* fn: the function of an execution this pass created (launch without
 * reading it again: jobs.c); NULL for any other. */
static void launch(struct pass *p, const struct mn_invocation *inv, const struct mn_execution *e,
                   const struct mn_function *fn) {
  int64_t nb = 0;
  if (!mn_sched_track_begin(p->s, e->execution_id, p->now, &nb)) {
    if (nb)
      at_most(&p->next, nb);
    return;
  }
  struct mn_exec_ref r = exec_ref(inv, e);
  r.keyed = fn != NULL;
  if (mn_sched_submit_launch(p->s, &r, fn) != 0)
    mn_sched_track_end(p->s, e->execution_id, "the provider-call queue is full");
}

/* An execution this pass created: written with its key hash, launched at
 * once (launch_created). */
static bool created_here(const struct pass *p, size_t i, const struct mn_execution *e) {
  return p->launched[i] && e->creation_time == p->now;
}

/* The executions just created go to the pool before anything else is
 * written (terminations, timing, the end of the pass): the launch is what
 * the invocation waits for. */
static void launch_created(struct pass *p) {
  for (size_t i = 0; i < p->snap.n_invs; i++) {
    const struct mn_snap_invocation *si = &p->snap.invs[i];
    if (!p->launched[i] || si->inv.n_executions == 0)
      continue;
    const struct mn_execution *e = &si->inv.executions[si->inv.n_executions - 1];
    if (!created_here(p, i, e))
      continue;
    at_most(&p->next, e->last_update_time + p->s->opt.provision_timeout_seconds * MN_US_PER_S);
    launch(p, &si->inv, e, si->fn >= 0 ? &p->snap.functions[si->fn] : NULL);
  }
}

static void end_unlaunched(struct pass *p, const struct mn_invocation *inv,
                           const struct mn_execution *e, bool signalled, const char *reason) {
  struct mn_function_key fk = inv_fk(inv);
  bool applied = false;
  mn_store_sched_end_unlaunched(p->s->store, &fk, inv->invocation_id, e->execution_id,
                                e->worker_status, signalled, reason, p->now, &applied);
  if (applied)
    mn_log_info("scheduler", "execution %s: ended before it had a worker%s%s", e->execution_id,
                reason ? ": " : "", reason ? reason : "");
}

static void provisioning(struct pass *p, size_t i, const struct mn_execution *e) {
  struct mn_invocation *inv = &p->snap.invs[i].inv;
  if (created_here(p, i, e))
    return; /* launched already (launch_created) */
  struct mn_track t = track_read(p->s, e->execution_id);
  if (t.in_flight)
    return;
  bool stop = p->cancelled[i] || timed_out(p, i);
  int64_t limit = e->last_update_time + p->s->opt.provision_timeout_seconds * MN_US_PER_S;
  if (stop) {
    /* a worker a crashed launch may have started is refused at /start */
    end_unlaunched(p, inv, e, true, NULL);
  } else if (p->now >= limit) {
    char reason[512];
    snprintf(reason, sizeof reason, "the worker was not provisioned within %lld s%s%s",
             (long long)p->s->opt.provision_timeout_seconds, t.last_error[0] ? ": " : "",
             t.last_error);
    end_unlaunched(p, inv, e, false, reason);
  } else {
    at_most(&p->next, limit);
    launch(p, inv, e, NULL);
  }
}

/* Steps 4a-4c for the executions of one RUNNING invocation. */
static void advance_executions(struct pass *p, size_t i, struct mn_inspect_batch ***batches) {
  struct mn_scheduler *s = p->s;
  struct mn_invocation *inv = &p->snap.invs[i].inv;
  for (size_t k = 0; k < inv->n_executions; k++) {
    struct mn_execution *e = &inv->executions[k];
    struct mn_function_key fk = inv_fk(inv);
    switch (e->worker_status) {
    case MN_WORKER_PENDING: {
      if (p->cancelled[i] || timed_out(p, i)) {
        end_unlaunched(p, inv, e, true, NULL);
        break;
      }
      bool applied = false;
      if (mn_store_transition_execution(s->store, &fk, inv->invocation_id, e->execution_id,
                                        MN_WORKER_PENDING, MN_WORKER_PROVISIONING, NULL, NULL,
                                        p->now, &applied) == 0 &&
          applied) {
        e->worker_status = MN_WORKER_PROVISIONING;
        e->last_update_time = p->now;
        launch(p, inv, e, NULL);
        at_most(&p->next, p->now + s->opt.provision_timeout_seconds * MN_US_PER_S);
      }
      break;
    }
    case MN_WORKER_PROVISIONING:
      provisioning(p, i, e);
      break;
    case MN_WORKER_RUNNING: {
      struct mn_exec_ref r = exec_ref(inv, e);
      const struct mn_snap_invocation *si = &p->snap.invs[i];
      int timeout = si->fn >= 0 ? p->snap.functions[si->fn].execution_spec.timeout_seconds : 0;
      int64_t base = mn_sched_base_time(inv->creation_time, inv->start_at);
      struct mn_sched_exec se = sched_exec(e);
      struct mn_sched_fn sf = si->fn >= 0 ? sched_fn(&p->snap.functions[si->fn])
                                          : (struct mn_sched_fn){0};
      int64_t attempt_wake = MN_TIME_NULL;
      int why = p->cancelled[i] ? 0 : mn_sched_attempt_expired(&se, &sf, p->now, &attempt_wake);
      if (why) {
        /* the attempt FAILS (the retry policy applies) and its worker is stopped */
        char reason[160];
        snprintf(reason, sizeof reason,
                 why == 1 ? "the attempt ran longer than attempt_timeout_seconds (%d s)"
                          : "no heartbeat or update from the worker within "
                            "heartbeat_timeout_seconds (%d s)",
                 why == 1 ? sf.attempt_timeout_seconds : sf.heartbeat_timeout_seconds);
        struct mn_sched_key key = inv_key(inv, e->execution_id);
        bool applied = false;
        if (mn_store_sched_fail_attempt(s->store, &key, reason, p->now, &applied) == 0 &&
            applied) {
          e->termination_signal_time = p->now;
          e->outcome = MN_OUTCOME_FAILED;
          mn_log_info("scheduler", "execution %s: %s", e->execution_id, reason);
        }
      } else if (attempt_wake != MN_TIME_NULL) {
        at_most(&p->next, attempt_wake);
      }
      if (e->termination_signal_time == MN_TIME_NULL &&
          mn_sched_needs_signal(&se, p->cancelled[i], base, timeout, p->now)) {
        bool applied = false;
        if (mn_store_signal_execution(s->store, &fk, inv->invocation_id, e->execution_id,
                                      p->now, &applied) == 0 &&
            applied) {
          e->termination_signal_time = p->now;
          mn_log_info("scheduler", "execution %s: termination signal (%s)", e->execution_id,
                      p->cancelled[i] ? "cancelled" : "timed out");
        }
      } else if (e->termination_signal_time == MN_TIME_NULL && !p->cancelled[i]) {
        at_most(&p->next, mn_sched_deadline(base, timeout));
      }
      if (e->termination_signal_time != MN_TIME_NULL) {
        /* sent once per worker by this scheduler (again after a restart:
         * terminating an exiting worker is harmless) */
        struct mn_track t = track_read(s, e->execution_id);
        int64_t nb = 0;
        if (!t.terminate_sent && mn_sched_track_begin(s, e->execution_id, p->now, &nb)) {
          if (mn_sched_submit_terminate(s, &r, e->worker_details,
                                        (int)s->opt.termination_grace_seconds) != 0)
            mn_sched_track_end(s, e->execution_id, "the provider-call queue is full");
        } else if (nb) {
          at_most(&p->next, nb);
        }
      }
      const char *type = NULL;
      struct mn_worker_ref wref;
      if (mn_worker_details_parse(e->worker_details, &type, &wref) != 0)
        break;
      struct mn_provider_handle *h = mn_plugins_find(s->plugins, type);
      if (!h)
        break;
      size_t hi = 0;
      while (mn_plugins_at(s->plugins, hi) != h)
        hi++;
      if (!(*batches)[hi])
        (*batches)[hi] = mn_inspect_batch_new(h);
      if ((*batches)[hi])
        mn_inspect_batch_add((*batches)[hi], &r, e->worker_details);
      break;
    }
    case MN_WORKER_TERMINATED:
      break;
    }
  }
}

static void inspect_workers(struct pass *p, struct mn_inspect_batch **batches, size_t nb) {
  struct mn_scheduler *s = p->s;
  /* a provider's report counts only once a pass read the state after it:
   * one that came while this pass read or decided (the worker it reports
   * may not have been RUNNING in what this pass read) stays pending for
   * the next pass, which the report's wake-up runs */
  bool reported = atomic_load(&s->reports) != s->reports_inspected;
  bool woken = atomic_exchange(&s->inspect_now, false) || reported;
  bool due = p->now >= s->next_inspect || woken;
  bool any = false, rearm = false;
  for (size_t i = 0; i < nb; i++) {
    if (!batches[i])
      continue;
    any = true;
    int64_t not_before = 0;
    if (due && mn_inspect_batch_size(batches[i]) > 0) {
      /* the key is the batch's; take it from a fresh one to begin */
      char key[160];
      snprintf(key, sizeof key, "inspect:%s", mn_provider_name(mn_plugins_at(s->plugins, i)));
      if (mn_sched_track_begin(s, key, p->now, &not_before)) {
        if (mn_sched_submit_inspect(s, batches[i]) == 0) {
          batches[i] = NULL;
        } else {
          mn_sched_track_end(s, key, "the provider-call queue is full");
        }
      } else {
        /* one is in flight and may have read the states before the change
         * the provider reported: keep the wake for the pass its end runs */
        rearm = rearm || woken;
        if (not_before)
          at_most(&p->next, not_before);
      }
    }
    mn_inspect_batch_free(batches[i]);
    batches[i] = NULL;
  }
  if (rearm)
    atomic_store(&s->inspect_now, true);
  else if (due)
    s->reports_inspected = p->reports_read;
  if (due)
    s->next_inspect = p->now + s->opt.inspect_interval_ms * 1000;
  if (any)
    at_most(&p->next, s->next_inspect);
}

/* After the decisions: the cancellation cascade past the working set, the
 * attention flags of what was decided cleared, and the next deadline. */
static void cascade_and_settle(struct pass *p) {
  size_t n = p->snap.n_invs, k = 0, a = 0;
  const struct mn_function_key **fks = calloc(n ? n : 1, sizeof *fks);
  struct mn_function_key *keys = calloc(n ? n : 1, sizeof *keys);
  const char **ids = calloc(n ? n : 1, sizeof *ids);
  const struct mn_function_key **afks = calloc(n ? n : 1, sizeof *afks);
  const char **aids = calloc(n ? n : 1, sizeof *aids);
  int64_t *att = calloc(n ? n : 1, sizeof *att);
  if (!fks || !keys || !ids || !afks || !aids || !att)
    goto out;
  for (size_t i = 0; i < n; i++) {
    const struct mn_invocation *inv = &p->snap.invs[i].inv;
    keys[i] = inv_fk(inv);
    if (p->cascade[i]) {
      fks[k] = &keys[i];
      ids[k++] = inv->invocation_id;
    }
    if (p->snap.invs[i].attention != 0) {
      afks[a] = &keys[i];
      aids[a] = inv->invocation_id;
      att[a++] = p->snap.invs[i].attention;
    }
  }
  /* a decision not written keeps its attention flags (read again) */
  struct mn_sched_settle in = {fks, ids, k, afks, aids, att, p->write_failed ? 0 : a, p->now};
  struct mn_sched_settled done;
  if (mn_store_sched_settle(p->s->store, &in, &done) != 0) {
    p->write_failed = true;
    at_most(&p->next, p->now + MN_US_PER_S); /* the store is back soon */
    goto out;
  }
  if (done.cancelled > 0) {
    mn_log_info("scheduler", "cancelled %d descendant(s) of cancelled or ended invocations",
                done.cancelled);
    p->next = p->now; /* decide on them at once */
  }
  if (done.next_deadline != MN_TIME_NULL)
    at_most(&p->next, done.next_deadline);
out:
  free(fks);
  free(keys);
  free(ids);
  free(afks);
  free(aids);
  free(att);
}

void mn_sched_pass(struct mn_scheduler *s, int64_t now, int64_t *next_wake) {
  atomic_fetch_add(&s->passes, 1);
  struct pass p = {.s = s, .now = now, .next = now + IDLE_WAKE_US};
  int64_t t0 = mn_monotonic_us(), t_read = 0, t_decide = 0, t_advance = 0, t_settle = 0;
  int n_deleted = 0;
  /* deletions can only become due when a project was marked or an
   * invocation ended; a slow sweep covers a missed notification */
  if (s->projects_dirty || now >= s->next_project_sweep) {
    s->projects_dirty = false;
    s->next_project_sweep = now + PROJECT_SWEEP_US;
    if (mn_store_sched_delete_projects(s->store, &n_deleted) == 0 && n_deleted > 0)
      mn_log_info("scheduler", "deleted %d project(s) marked for deletion", n_deleted);
  }

  if (now >= s->next_queue_scan) {
    /* the hints from the index: at activation, after missed notifications,
     * and every QUEUE_SCAN_US as a safety net (one descent per function) */
    if (mn_store_sched_queued_functions(s->store, mn_queues_add_key, s->queues) == 0)
      s->next_queue_scan = now + QUEUE_SCAN_US;
  }
  struct mn_fn_keys hints = mn_queues_keys(s->queues);
  t_read = mn_monotonic_us();
  p.reports_read = atomic_load(&s->reports);
  int rc = mn_store_sched_snapshot(s->store, &hints, now, &p.snap);
  t_read = mn_monotonic_us() - t_read;
  if (rc) {
    mn_log_warn("scheduler", "cannot read the state: %s", mn_strerror(rc));
    *next_wake = now + MN_US_PER_S; /* the store is back soon, or we lost the lock */
    return;
  }
  /* The pass's one clock reading is taken after the state it acts on was
   * read: a change committed just before the snapshot (a cancel, say) was
   * stamped earlier, so no decision predates its cause (a signal before
   * the cancellation that caused it). */
  int64_t after_read = mn_now_us();
  if (after_read > now)
    p.now = now = after_read;
  p.next = now + IDLE_WAKE_US;
  size_t n_providers = mn_plugins_count(s->plugins);
  struct mn_inspect_batch **batches = calloc(n_providers ? n_providers : 1, sizeof *batches);
  size_t ni = p.snap.n_invs ? p.snap.n_invs : 1;
  p.cancelled = calloc(ni, sizeof *p.cancelled);
  p.ended = calloc(ni, sizeof *p.ended);
  p.cascade = calloc(ni, sizeof *p.cascade);
  p.launched = calloc(ni, sizeof *p.launched);
  p.in_use = calloc(p.snap.n_functions ? p.snap.n_functions : 1, sizeof *p.in_use);
  if (!batches || !p.cancelled || !p.ended || !p.cascade || !p.launched || !p.in_use) {
    mn_log_error("scheduler", "out of memory in a pass");
    p.next = now + MN_US_PER_S;
    goto out;
  }
  pthread_mutex_lock(&s->mu);
  mn_tracker_new_pass(s->tracker);
  pthread_mutex_unlock(&s->mu);

  t_decide = mn_monotonic_us();
  decide_invocations(&p);
  prepare_functions(&p);
  t_advance = mn_monotonic_us();
  t_decide = t_advance - t_decide;
  for (size_t i = 0; i < p.snap.n_invs; i++)
    if (!p.ended[i])
      advance_executions(&p, i, &batches);
  inspect_workers(&p, batches, n_providers);
  t_settle = mn_monotonic_us();
  t_advance = t_settle - t_advance;
  cascade_and_settle(&p);
  t_settle = mn_monotonic_us() - t_settle;

  if (s->opt.retention_seconds > 0 && now >= s->next_prune) {
    int pruned = 0;
    mn_store_prune_invocations(s->store, now - s->opt.retention_seconds * MN_US_PER_S, 1000,
                               &pruned);
    if (pruned > 0)
      mn_log_info("scheduler", "pruned %d terminated invocation(s) past retention", pruned);
    s->next_prune = now + (pruned >= 1000 ? MN_US_PER_S : PRUNE_EVERY_US);
  }
  if (s->opt.retention_seconds > 0)
    at_most(&p.next, s->next_prune);
out:
  for (size_t i = 0; batches && i < n_providers; i++)
    mn_inspect_batch_free(batches[i]);
  free(batches);
  free(p.cancelled);
  free(p.ended);
  free(p.cascade);
  free(p.launched);
  free(p.in_use);
  s->last_rows_read = p.snap.rows_read;
  mn_metrics_scheduler_pass(mn_monotonic_us() - t0);
  mn_log_debug("scheduler",
               "pass: %zu invocation(s) in the working set, %zu function(s), %zu queue(s) "
               "hinted, %zu row(s) read, %lld us (read %lld, decide %lld, advance %lld, "
               "settle %lld; woken by %s)",
               p.snap.n_invs, p.snap.n_functions, mn_queues_count(s->queues), p.snap.rows_read,
               (long long)(mn_monotonic_us() - t0), (long long)t_read, (long long)t_decide,
               (long long)t_advance, (long long)t_settle,
               s->woken_by[0] ? s->woken_by : "activation");
  mn_sched_snapshot_release(&p.snap);
  *next_wake = p.next;
}
