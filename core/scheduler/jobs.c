/* The scheduler's provider calls. Each runs on the pool, never on the
 * decision thread, records its result with a guarded update, ends its
 * tracker entry and wakes the decision loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "plugin/launch_spec.h"
#include "scheduler/internal.h"
#include "store/execution_keys.h"
#include "store/sched_snapshot.h"
#include "store/sched_writes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/token.h"

void mn_exec_ref_release(struct mn_exec_ref *r) {
  free(r->project);
  free(r->version);
  free(r->function);
  free(r->invocation_id);
  free(r->execution_id);
  memset(r, 0, sizeof *r);
}

int mn_exec_ref_copy(struct mn_exec_ref *dst, const char *project, const char *version,
                     const char *function, const char *invocation_id,
                     const char *execution_id) {
  memset(dst, 0, sizeof *dst);
  dst->project = strdup(project);
  dst->version = strdup(version);
  dst->function = strdup(function);
  dst->invocation_id = strdup(invocation_id);
  dst->execution_id = strdup(execution_id ? execution_id : "");
  if (!dst->project || !dst->version || !dst->function || !dst->invocation_id ||
      !dst->execution_id) {
    mn_exec_ref_release(dst);
    return MN_ENOMEM;
  }
  return 0;
}

static struct mn_function_key fkey(const struct mn_exec_ref *r) {
  return (struct mn_function_key){r->project, r->version, r->function};
}

/* TRANSIENT and CAPACITY wait and try again; everything else fails the
 * attempt that needed the call. */
static bool retryable(int code) {
  return code == MN_PROVIDER_E_TRANSIENT || code == MN_PROVIDER_E_CAPACITY;
}

/* ---- launch ------------------------------------------------------------ */

struct launch_job {
  struct mn_scheduler *s;
  struct mn_exec_ref ref;
  struct mn_function fn; /* handed by the pass that created the execution */
  bool has_fn;
  unsigned long passes;  /* s->passes when submitted */
  unsigned long reports; /* s->reports when submitted */
};

/* Whether a job that ends must wake the loop: it failed or changed what a
 * pass decides on, or a pass began while it ran (that pass skipped what
 * was in flight, or consumed a provider's report meant for it). A launch
 * that only moved its execution to RUNNING needs no pass of its own. */
static void wake_after(struct mn_scheduler *s, bool changed, unsigned long passes,
                       enum mn_sched_wake why) {
  if (changed || atomic_load(&s->passes) != passes)
    mn_sched_wake_loop(s, why);
}

static void end_unlaunched(struct mn_scheduler *s, const struct mn_exec_ref *r,
                           const char *reason) {
  struct mn_function_key fk = fkey(r);
  bool applied = false;
  int rc = mn_store_sched_end_unlaunched(s->store, &fk, r->invocation_id, r->execution_id,
                                         MN_WORKER_PROVISIONING, false, reason, mn_now_us(),
                                         &applied);
  if (rc)
    mn_log_warn("scheduler", "execution %s: cannot record failed launch: %s", r->execution_id,
                mn_strerror(rc));
  else if (applied)
    mn_log_info("scheduler", "execution %s: launch failed: %s", r->execution_id, reason);
}

/* Says, once per preparation of a function, which of its limits provider h
 * does not enforce (provider.h: the CPU and memory limit capabilities), so
 * an advisory limit is reported, not silently ignored. */
static void unenforced_limits(const struct mn_provider_handle *h, const struct mn_function *fn) {
  uint64_t caps = mn_provider_caps(h);
  int cpu = fn->resource_spec.virtual_cpus > 0 && !(caps & MN_PROVIDER_CAP_CPU_LIMIT);
  int mem = fn->resource_spec.memory_gbs > 0 && !(caps & MN_PROVIDER_CAP_MEMORY_LIMIT);
  if (cpu || mem)
    mn_log_warn("scheduler",
                "function %s/%s/%s: provider \"%s\" does not promise to enforce %s%s%s: advisory",
                fn->project_name, fn->version_id, fn->function_name, mn_provider_name(h),
                cpu ? "virtual_cpus" : "", cpu && mem ? " and " : "", mem ? "memory_gbs" : "");
}

/* Prepares fn with provider h (NULL: its provider is not configured) and
 * records the result: READY with the provider's details (also set in *fn,
 * for the launch spec), or the preparation_error of a definitive failure.
 * 0: ready; 1: failed for good; -1: try again later (in *retry_after µs
 * when the provider said, else 0). why gets the reason of a failure. */
static int prepare_function(struct mn_scheduler *s, struct mn_provider_handle *h,
                            struct mn_function *fn, char *why, size_t why_size,
                            int64_t *retry_after) {
  struct mn_function_key fk = {fn->project_name, fn->version_id, fn->function_name};
  struct mn_function_desc_buf d = {0};
  struct mn_error e = {0};
  struct mn_provider_error perr = {0};
  struct mn_prepared prepared;
  int rc;
  if (!h) {
    snprintf(why, why_size, "provider \"%s\" is not configured",
             fn->provider ? fn->provider : "(default)");
  } else if (mn_function_desc_build(&d, h, fn, &e) != 0) {
    snprintf(why, why_size, "%s", e.msg);
  } else {
    unenforced_limits(h, fn);
    rc = mn_provider_prepare(h, &d.desc, &prepared, &perr);
    mn_function_desc_buf_release(&d);
    if (rc == 0) {
      json_t *details =
          prepared.details_json[0] ? json_loads(prepared.details_json, 0, NULL) : NULL;
      mn_store_set_function_ready(s->store, &fk, details, NULL);
      json_decref(fn->prepared_function_details);
      fn->prepared_function_details = details;
      fn->function_status = MN_FUNCTION_READY;
      return 0;
    }
    snprintf(why, why_size, "%s", perr.msg);
    if (retryable(rc)) {
      *retry_after = perr.retry_after_us;
      return -1;
    }
  }
  mn_log_warn("scheduler", "function %s/%s/%s: preparation failed: %s", fk.project_name,
              fk.version_ref, fk.function_name, why);
  mn_store_set_function_preparation_error(s->store, &fk, why);
  return 1;
}

/* ---- RUNNING writes, grouped ------------------------------------------
 * A launch that produced a worker queues it here; the first launch job to
 * queue one while no write is under way writes every queued worker in one
 * statement, and again until the queue is empty (group commit: under load
 * the launches that end during one write share the next). Each entry's
 * tracker stays in flight until its write is done, so no pass launches it
 * again meanwhile. */
struct mn_launched {
  struct mn_launched *next;
  struct mn_exec_ref ref;
  char *details; /* worker_details, JSON text */
  struct mn_provider_handle *h;
  struct mn_worker_ref wref;
  unsigned long passes;  /* s->passes when its launch was submitted */
  unsigned long reports; /* s->reports then */
};

/* Queues l; true when the caller must write (no writer is active). */
static bool queue_running(struct mn_scheduler *s, struct mn_launched *l) {
  pthread_mutex_lock(&s->launched_mu);
  l->next = s->launched;
  s->launched = l;
  bool writer = !s->launched_writer;
  s->launched_writer = true;
  pthread_mutex_unlock(&s->launched_mu);
  return writer;
}

static void write_running(struct mn_scheduler *s) {
  for (;;) {
    pthread_mutex_lock(&s->launched_mu);
    struct mn_launched *list = s->launched;
    s->launched = NULL;
    if (!list)
      s->launched_writer = false;
    pthread_mutex_unlock(&s->launched_mu);
    if (!list)
      return;
    size_t n = 0;
    for (struct mn_launched *l = list; l; l = l->next)
      n++;
    struct mn_sched_key *keys = calloc(n, sizeof *keys);
    const char **details = calloc(n, sizeof *details);
    bool *applied = calloc(n, sizeof *applied);
    int rc = keys && details && applied ? 0 : MN_ENOMEM;
    size_t i = 0;
    for (struct mn_launched *l = list; rc == 0 && l; l = l->next, i++) {
      keys[i] = (struct mn_sched_key){l->ref.project, l->ref.version, l->ref.function,
                                      l->ref.invocation_id, l->ref.execution_id};
      details[i] = l->details;
    }
    if (rc == 0)
      rc = mn_store_sched_workers_running(s->store, keys, details, n, mn_now_us(), applied);
    if (rc == 0 && n > 1)
      mn_log_debug("scheduler", "%zu launched worker(s) RUNNING in one statement", n);
    bool wake = false;
    i = 0;
    for (struct mn_launched *l = list, *next; l; l = next, i++) {
      next = l->next;
      char failure[128] = "";
      if (rc != 0) {
        /* unknown: the next pass launches again, which finds this worker */
        snprintf(failure, sizeof failure, "store: %s", mn_strerror(rc));
      } else if (!applied[i]) {
        /* it ended while we launched (cancelled, provisioning timeout): the
         * worker would be refused at /start anyway; do not leave it behind */
        struct mn_provider_error perr = {0};
        mn_provider_terminate(l->h, &l->wref, 0, &perr);
        mn_provider_release(l->h, &l->wref, &perr);
      }
      wake = wake || rc != 0 || !applied[i] || atomic_load(&s->passes) != l->passes;
      /* a provider reported while this worker was launched: its exit, it
       * may be, which the pass that ran then could not inspect (the
       * execution was not RUNNING yet) */
      if (atomic_load(&s->reports) != l->reports)
        atomic_store(&s->inspect_now, true);
      mn_sched_track_end(s, l->ref.execution_id, failure[0] ? failure : NULL);
      mn_exec_ref_release(&l->ref);
      free(l->details);
      free(l);
    }
    free(keys);
    free(details);
    free(applied);
    /* a launch that only moved its execution to RUNNING needs no pass of
     * its own, unless a pass began while it ran (and skipped it) */
    if (wake)
      mn_sched_wake_loop(s, MN_WAKE_LAUNCH);
  }
}

static void launch_run(void *arg) {
  struct launch_job *j = arg;
  struct mn_scheduler *s = j->s;
  struct mn_exec_ref *r = &j->ref;
  struct mn_function_key fk = fkey(r);
  struct mn_invocation inv = {0};
  struct mn_launch_buf buf = {0};
  struct mn_error e = {0};
  char failure[512] = "";
  int64_t retry_after = 0; /* what the provider asked for, with a failure */
  char key[MN_TOKEN_MAX] = "";
  bool handed = false; /* to the RUNNING writer, which ends the entry */
  bool writer = false;  /* and this job writes the group */

  int64_t t0 = mn_monotonic_us();
  int rc = 0;
  if (j->has_fn) {
    /* the pass that created the execution handed its function: nothing can
     * have launched or ended it since (the guarded RUNNING write below
     * still finds one that ended meanwhile) */
    inv.function = j->fn;
    j->has_fn = false;
    if (!(inv.invocation_id = strdup(r->invocation_id))) {
      snprintf(failure, sizeof failure, "out of memory");
      goto out;
    }
  } else {
    rc = mn_store_get_execution(s->store, &fk, r->invocation_id, r->execution_id, &inv);
    if (rc) {
      if (rc == MN_EUNAVAILABLE || rc == MN_EINTERNAL)
        snprintf(failure, sizeof failure, "store: %s", mn_strerror(rc));
      goto out;
    }
    if (inv.n_executions != 1 || inv.executions[0].worker_status != MN_WORKER_PROVISIONING)
      goto out; /* ended or launched meanwhile */
  }
  int64_t t1 = mn_monotonic_us();

  struct mn_provider_handle *h = mn_plugins_find(s->plugins, inv.function.provider);
  if (inv.function.function_status != MN_FUNCTION_READY || !h) {
    /* prepared first (again, after a failure: the cause may be gone) */
    char why[512];
    int prep = prepare_function(s, h, &inv.function, why, sizeof why, &retry_after);
    if (prep < 0)
      snprintf(failure, sizeof failure, "preparation: %s", why);
    else if (prep > 0)
      end_unlaunched(s, r, why);
    if (prep != 0)
      goto out;
  }

  /* the execution's key, its hash recorded before the provider is called;
   * derived from the execution id, so a launch repeated after a crash gives
   * the worker it finds (ECS clientToken, a Job's name) the key it holds.
   * A pass that created the execution wrote the hash with the row; a later
   * launch of it (after a failed launch, a restart) writes it again. */
  char key_hash[MN_TOKEN_HASH_MAX];
  bool keyed = r->keyed;
  mn_token_derive(s->opt.key_secret, r->execution_id, key);
  if (!keyed) {
    mn_token_hash(key, strlen(key), key_hash);
    rc = mn_store_set_execution_key(s->store, &fk, r->invocation_id, r->execution_id,
                                    key_hash, &keyed);
  }
  if (rc != 0 || !keyed) {
    if (rc)
      snprintf(failure, sizeof failure, "store: %s", mn_strerror(rc));
    goto out; /* ended meanwhile, or the store is away: the next pass decides */
  }
  if (mn_launch_spec_build(&buf, h, &inv, r->execution_id, key, &e) != 0) {
    end_unlaunched(s, r, e.msg);
    goto out;
  }
  struct mn_worker_ref wref;
  struct mn_provider_error perr = {0};
  int64_t t2 = mn_monotonic_us();
  rc = mn_provider_launch(h, &buf.spec, &wref, &perr);
  mn_log_debug("scheduler", "execution %s: read %lld us, prepare+spec %lld us, launch %lld us",
               r->execution_id, (long long)(t1 - t0), (long long)(t2 - t1),
               (long long)(mn_monotonic_us() - t2));
  if (rc != 0) {
    if (retryable(rc)) {
      snprintf(failure, sizeof failure, "launch: %s", perr.msg);
      retry_after = perr.retry_after_us;
    } else
      end_unlaunched(s, r, perr.msg);
    goto out;
  }
  json_t *details = mn_worker_details_new(mn_provider_name(h), &wref);
  char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
  json_decref(details);
  struct mn_launched *l = text ? calloc(1, sizeof *l) : NULL;
  if (!l) {
    /* the next pass launches again, which finds this worker */
    free(text);
    snprintf(failure, sizeof failure, "out of memory");
    goto out;
  }
  l->ref = *r;
  memset(r, 0, sizeof *r); /* moved */
  l->details = text;
  l->h = h;
  l->wref = wref;
  l->passes = j->passes;
  l->reports = j->reports;
  writer = queue_running(s, l);
  handed = true;
out:
  mn_launch_buf_release(&buf);
  OPENSSL_cleanse(key, sizeof key);
  mn_invocation_release(&inv);
  if (j->has_fn)
    mn_function_release(&j->fn);
  if (!handed) {
    mn_sched_track_end_after(s, r->execution_id, failure[0] ? failure : NULL, retry_after);
    mn_exec_ref_release(r);
    mn_sched_wake_loop(s, MN_WAKE_LAUNCH);
  }
  free(j);
  if (writer)
    write_running(s);
}

int mn_sched_submit_launch(struct mn_scheduler *s, const struct mn_exec_ref *ref,
                           const struct mn_function *fn) {
  struct launch_job *j = calloc(1, sizeof *j);
  if (!j || mn_exec_ref_copy(&j->ref, ref->project, ref->version, ref->function,
                             ref->invocation_id, ref->execution_id) != 0) {
    free(j);
    return MN_ENOMEM;
  }
  j->s = s;
  j->ref.keyed = ref->keyed;
  j->passes = atomic_load(&s->passes);
  j->reports = atomic_load(&s->reports);
  /* out of memory for the copy: the launch reads the row itself */
  j->has_fn = fn && mn_function_copy(&j->fn, fn) == 0;
  int rc = mn_pool_submit(s->pool, launch_run, j);
  if (rc) {
    if (j->has_fn)
      mn_function_release(&j->fn);
    mn_exec_ref_release(&j->ref);
    free(j);
  }
  return rc;
}

/* ---- prepare ------------------------------------------------------------ */

struct prepare_job {
  struct mn_scheduler *s;
  char *key;
  struct mn_exec_ref ref; /* function path; no invocation */
};

static void prepare_run(void *arg) {
  struct prepare_job *j = arg;
  struct mn_scheduler *s = j->s;
  struct mn_function_key fk = fkey(&j->ref);
  struct mn_version v = {0};
  char failure[512] = "";
  int64_t retry_after = 0;
  int rc = mn_store_get_version(s->store, fk.project_name, fk.version_ref, &v);
  if (rc) {
    if (rc == MN_EUNAVAILABLE || rc == MN_EINTERNAL)
      snprintf(failure, sizeof failure, "store: %s", mn_strerror(rc));
    goto out;
  }
  struct mn_function *fn = NULL;
  for (size_t i = 0; i < v.n_functions; i++)
    if (strcmp(v.functions[i].function_name, fk.function_name) == 0)
      fn = &v.functions[i];
  if (!fn || fn->function_status == MN_FUNCTION_READY)
    goto out;
  char why[512];
  if (prepare_function(s, mn_plugins_find(s->plugins, fn->provider), fn, why, sizeof why,
                       &retry_after) < 0)
    snprintf(failure, sizeof failure, "%s", why);
out:
  mn_version_release(&v);
  mn_sched_track_end_after(s, j->key, failure[0] ? failure : NULL, retry_after);
  mn_exec_ref_release(&j->ref);
  free(j->key);
  free(j);
  mn_sched_wake_loop(s, MN_WAKE_PREPARE);
}

int mn_sched_submit_prepare(struct mn_scheduler *s, const struct mn_function *fn,
                            const char *key) {
  struct prepare_job *j = calloc(1, sizeof *j);
  if (!j || !(j->key = strdup(key)) ||
      mn_exec_ref_copy(&j->ref, fn->project_name, fn->version_id, fn->function_name, "",
                       NULL) != 0) {
    if (j)
      free(j->key);
    free(j);
    return MN_ENOMEM;
  }
  j->s = s;
  int rc = mn_pool_submit(s->pool, prepare_run, j);
  if (rc) {
    mn_exec_ref_release(&j->ref);
    free(j->key);
    free(j);
  }
  return rc;
}

/* ---- terminate ---------------------------------------------------------- */

struct terminate_job {
  struct mn_scheduler *s;
  struct mn_exec_ref ref;
  json_t *details;
  int grace;
};

static void terminate_run(void *arg) {
  struct terminate_job *j = arg;
  struct mn_scheduler *s = j->s;
  char failure[512] = "";
  int64_t retry_after = 0;
  const char *type = NULL;
  struct mn_worker_ref wref;
  struct mn_provider_handle *h = NULL;
  if (mn_worker_details_parse(j->details, &type, &wref) == 0)
    h = mn_plugins_find(s->plugins, type);
  if (h) {
    struct mn_provider_error perr = {0};
    int rc = mn_provider_terminate(h, &wref, j->grace, &perr);
    if (rc != 0 && rc != MN_PROVIDER_E_NOT_FOUND) {
      snprintf(failure, sizeof failure, "terminate: %s", perr.msg);
      retry_after = perr.retry_after_us;
      mn_log_warn("scheduler", "execution %s: %s", j->ref.execution_id, failure);
    }
  } else {
    mn_log_warn("scheduler", "execution %s: no provider for its worker; cannot terminate it",
                j->ref.execution_id);
  }
  pthread_mutex_lock(&s->mu);
  struct mn_track *t = mn_tracker_peek(s->tracker, j->ref.execution_id);
  if (t && !failure[0])
    t->terminate_sent = true;
  pthread_mutex_unlock(&s->mu);
  mn_sched_track_end_after(s, j->ref.execution_id, failure[0] ? failure : NULL, retry_after);
  json_decref(j->details);
  mn_exec_ref_release(&j->ref);
  free(j);
  mn_sched_wake_loop(s, MN_WAKE_TERMINATE);
}

int mn_sched_submit_terminate(struct mn_scheduler *s, const struct mn_exec_ref *ref,
                              const json_t *worker_details, int grace_seconds) {
  struct terminate_job *j = calloc(1, sizeof *j);
  if (!j || mn_exec_ref_copy(&j->ref, ref->project, ref->version, ref->function,
                             ref->invocation_id, ref->execution_id) != 0) {
    free(j);
    return MN_ENOMEM;
  }
  j->s = s;
  j->details = json_deep_copy(worker_details);
  j->grace = grace_seconds;
  int rc = mn_pool_submit(s->pool, terminate_run, j);
  if (rc) {
    json_decref(j->details);
    mn_exec_ref_release(&j->ref);
    free(j);
  }
  return rc;
}

/* ---- inspect ------------------------------------------------------------ */

struct mn_inspect_batch {
  struct mn_scheduler *s;
  struct mn_provider_handle *h;
  struct mn_exec_ref *refs;
  struct mn_worker_ref *wrefs;
  size_t n, cap;
  char key[160];
  unsigned long passes; /* s->passes when submitted */
};

struct mn_inspect_batch *mn_inspect_batch_new(struct mn_provider_handle *h) {
  struct mn_inspect_batch *b = calloc(1, sizeof *b);
  if (b) {
    b->h = h;
    snprintf(b->key, sizeof b->key, "inspect:%s", mn_provider_name(h));
  }
  return b;
}

int mn_inspect_batch_add(struct mn_inspect_batch *b, const struct mn_exec_ref *ref,
                         const json_t *worker_details) {
  const char *type;
  struct mn_worker_ref wref;
  if (mn_worker_details_parse(worker_details, &type, &wref) != 0)
    return MN_EINVAL;
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 16;
    struct mn_exec_ref *r = realloc(b->refs, cap * sizeof *r);
    if (!r)
      return MN_ENOMEM;
    b->refs = r;
    struct mn_worker_ref *w = realloc(b->wrefs, cap * sizeof *w);
    if (!w)
      return MN_ENOMEM;
    b->wrefs = w;
    b->cap = cap;
  }
  if (mn_exec_ref_copy(&b->refs[b->n], ref->project, ref->version, ref->function,
                       ref->invocation_id, ref->execution_id) != 0)
    return MN_ENOMEM;
  b->wrefs[b->n++] = wref;
  return 0;
}

size_t mn_inspect_batch_size(const struct mn_inspect_batch *b) { return b->n; }

void mn_inspect_batch_free(struct mn_inspect_batch *b) {
  if (!b)
    return;
  for (size_t i = 0; i < b->n; i++)
    mn_exec_ref_release(&b->refs[i]);
  free(b->refs);
  free(b->wrefs);
  free(b);
}

static void describe_end(const struct mn_worker_state *st, char *out, size_t size) {
  if (st->phase == MN_WORKER_PHASE_MISSING)
    snprintf(out, size, "the worker disappeared%s%s", st->reason[0] ? ": " : "", st->reason);
  else if (st->exit_code >= 0)
    snprintf(out, size, "the worker exited with code %d%s%s", st->exit_code,
             st->reason[0] ? ": " : "", st->reason);
  else
    snprintf(out, size, "the worker ended%s%s", st->reason[0] ? ": " : "", st->reason);
}

static void inspect_run(void *arg) {
  struct mn_inspect_batch *b = arg;
  struct mn_scheduler *s = b->s;
  char failure[512] = "";
  int64_t retry_after = 0;
  struct mn_worker_state *states = calloc(b->n ? b->n : 1, sizeof *states);
  struct mn_provider_error perr = {0};
  bool ended = false; /* a worker's end was recorded: a pass decides on it */
  bool over = false;  /* the tracker entry ended and the loop was told */
  if (!states) {
    snprintf(failure, sizeof failure, "out of memory");
    goto out;
  }
  int rc = mn_provider_inspect_many(b->h, b->wrefs, b->n, states, &perr);
  if (rc != 0) {
    snprintf(failure, sizeof failure, "inspect: %s", perr.msg);
    mn_log_warn("scheduler", "provider %s: %s", mn_provider_name(b->h), failure);
    retry_after = perr.retry_after_us;
    goto out;
  }
  /* every worker that ended, recorded in one statement */
  struct mn_sched_key *keys = calloc(b->n, sizeof *keys);
  char (*reasons)[512] = calloc(b->n, sizeof *reasons);
  const char **reason_ptrs = calloc(b->n, sizeof *reason_ptrs);
  size_t *which = calloc(b->n, sizeof *which);
  bool *applied = calloc(b->n, sizeof *applied);
  size_t k = 0;
  if (!keys || !reasons || !reason_ptrs || !which || !applied) {
    snprintf(failure, sizeof failure, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < b->n; i++) {
    if (states[i].phase != MN_WORKER_PHASE_EXITED && states[i].phase != MN_WORKER_PHASE_MISSING)
      continue;
    const struct mn_exec_ref *r = &b->refs[i];
    describe_end(&states[i], reasons[k], sizeof reasons[k]);
    reason_ptrs[k] = reasons[k];
    keys[k] = (struct mn_sched_key){r->project, r->version, r->function, r->invocation_id,
                                    r->execution_id};
    which[k++] = i;
  }
  if (k && (rc = mn_store_sched_workers_ended(s->store, keys, reason_ptrs, k, mn_now_us(),
                                              applied)) != 0) {
    snprintf(failure, sizeof failure, "store: %s", mn_strerror(rc));
    goto done;
  }
  for (size_t j = 0; j < k; j++)
    ended = ended || applied[j];
  /* the pass that ends those invocations (and fills their slots) need not
   * wait for the releases below: the inspection is over */
  mn_sched_track_end(s, b->key, NULL);
  wake_after(s, ended, b->passes, MN_WAKE_INSPECT);
  over = true;
  for (size_t j = 0; j < k; j++) {
    if (!applied[j])
      continue;
    size_t i = which[j];
    mn_log_debug("scheduler", "execution %s: %s", b->refs[i].execution_id, reasons[j]);
    if (mn_provider_release(b->h, &b->wrefs[i], &perr) != 0)
      mn_log_warn("scheduler", "execution %s: release failed: %s", b->refs[i].execution_id,
                  perr.msg);
  }
done:
  free(keys);
  free(reasons);
  free(reason_ptrs);
  free(which);
  free(applied);
out:
  free(states);
  if (!over) {
    mn_sched_track_end_after(s, b->key, failure[0] ? failure : NULL, retry_after);
    wake_after(s, failure[0] != 0, b->passes, MN_WAKE_INSPECT);
  }
  mn_inspect_batch_free(b);
}

int mn_sched_submit_inspect(struct mn_scheduler *s, struct mn_inspect_batch *b) {
  b->s = s;
  b->passes = atomic_load(&s->passes);
  return mn_pool_submit(s->pool, inspect_run, b);
}
