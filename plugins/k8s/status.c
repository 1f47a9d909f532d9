/* status.c — inspect_many and list_owned: one labelled list call for the
 * Jobs and one for the Pods per pass (per namespace, per page of 500),
 * whatever the number of workers; the state of each Job is read from its
 * conditions and its pod's container state. */
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s.h"

/* Lists every jobs/pods object of namespace ns carrying our cluster label
 * into *items (a new array). */
static int list_all(struct mn_k8s *k, const char *ns, int pods, json_t **items,
                    struct mn_provider_error *err) {
  char sel[128], q[512], path[2048], what[128];
  char *cont = NULL;
  int rc = 0;
  snprintf(sel, sizeof sel, MN_K8S_LABEL_PREFIX "cluster=%s", k->cluster_label);
  if (mn_k8s_selector_query(sel, q, sizeof q))
    return k->host->error(err, MN_PROVIDER_E_INVALID, "bad label selector");
  snprintf(what, sizeof what, "list %s in namespace \"%s\"", pods ? "pods" : "jobs", ns);
  *items = json_array();
  if (!*items)
    return k->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  do {
    struct mn_k8s_response r;
    int n = snprintf(path, sizeof path, "%s/namespaces/%s/%s?%s&limit=500",
                     pods ? "/api/v1" : "/apis/batch/v1", ns, pods ? "pods" : "jobs", q);
    if (cont) {
      char tok[1024];
      if (mn_k8s_selector_query(cont, tok, sizeof tok) == 0) /* escapes like a value */
        snprintf(path + n, sizeof path - (size_t)n, "&continue=%s", tok + strlen("labelSelector="));
    }
    free(cont);
    cont = NULL;
    if ((rc = mn_k8s_request(k, "GET", path, NULL, &r, err)))
      break;
    if (r.status != 200) {
      rc = mn_k8s_fail(k, &r, what, err);
      mn_k8s_response_release(&r);
      break;
    }
    json_t *page = json_object_get(r.json, "items");
    if (!json_is_array(page)) {
      rc = k->host->error(err, MN_PROVIDER_E_TRANSIENT, "%s: the answer has no items", what);
      mn_k8s_response_release(&r);
      break;
    }
    json_array_extend(*items, page);
    const char *c = json_string_value(json_object_get(json_object_get(r.json, "metadata"),
                                                      "continue"));
    if (c && c[0])
      cont = strdup(c);
    mn_k8s_response_release(&r);
  } while (cont);
  free(cont);
  if (rc) {
    json_decref(*items);
    *items = NULL;
  }
  return rc;
}

static const char *get_str(json_t *o, const char *a, const char *b) {
  json_t *x = json_object_get(o, a);
  return json_string_value(b ? json_object_get(x, b) : x);
}

/* The Job a pod belongs to: its job-name label, else its owner reference. */
static const char *pod_job(json_t *pod) {
  json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
  const char *j = json_string_value(json_object_get(labels, "batch.kubernetes.io/job-name"));
  if (!j)
    j = json_string_value(json_object_get(labels, "job-name"));
  if (!j) {
    json_t *owners = json_object_get(json_object_get(pod, "metadata"), "ownerReferences"), *o;
    size_t i;
    json_array_foreach(owners, i, o) {
      if (json_is_string(json_object_get(o, "kind")) &&
          strcmp(json_string_value(json_object_get(o, "kind")), "Job") == 0)
        return json_string_value(json_object_get(o, "name"));
    }
  }
  return j;
}

static int64_t parse_time(const char *s) {
  struct tm tm = {0};
  if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
    return -1;
  return (int64_t)timegm(&tm);
}

static int condition_true(json_t *job, const char *type, const char **reason,
                          const char **message) {
  json_t *conds = json_object_get(json_object_get(job, "status"), "conditions"), *c;
  size_t i;
  json_array_foreach(conds, i, c) {
    const char *t = get_str(c, "type", NULL), *s = get_str(c, "status", NULL);
    if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0) {
      if (reason)
        *reason = get_str(c, "reason", NULL);
      if (message)
        *message = get_str(c, "message", NULL);
      return 1;
    }
  }
  return 0;
}

/* The status of container "main" (or the first) of a pod. */
static json_t *main_status(json_t *pod) {
  json_t *arr = json_object_get(json_object_get(pod, "status"), "containerStatuses"), *c;
  size_t i;
  json_array_foreach(arr, i, c) {
    const char *n = get_str(c, "name", NULL);
    if (n && strcmp(n, "main") == 0)
      return c;
  }
  return json_array_get(arr, 0);
}

static int waiting_is_fatal(const char *reason) {
  static const char *const fatal[] = {"ErrImagePull",         "ImagePullBackOff",
                                      "InvalidImageName",     "ErrImageNeverPull",
                                      "CreateContainerConfigError", "CreateContainerError"};
  for (size_t i = 0; reason && i < sizeof fatal / sizeof *fatal; i++)
    if (strcmp(reason, fatal[i]) == 0)
      return 1;
  return 0;
}

/* Whether a waiting message names the Secret `name` as a whole word
 * (`secret "mn-x" not found`, `couldn't find key K in Secret ns/mn-x`). */
static int names_secret(const char *msg, const char *name) {
  size_t n = name ? strlen(name) : 0;
  for (const char *p = msg; n && p && (p = strstr(p, name)); p += n) {
    char before = p == msg ? ' ' : p[-1], after = p[n];
    int word = !((before >= 'a' && before <= 'z') || (before >= '0' && before <= '9') ||
                 before == '-' || before == '.') &&
               !((after >= 'a' && after <= 'z') || (after >= '0' && after <= '9') ||
                 after == '-' || after == '.');
    if (word)
      return 1;
  }
  return 0;
}

static void set_state(struct mn_worker_state *out, int phase, int code, const char *fmt,
                      const char *a, const char *b) {
  out->phase = phase;
  out->exit_code = code;
  snprintf(out->reason, sizeof out->reason, fmt, a ? a : "", b ? b : "");
}

void mn_k8s_job_state(const struct mn_k8s *k, json_t *job, json_t *pod,
                      struct mn_worker_state *out) {
  const char *reason = NULL, *message = NULL;
  memset(out, 0, sizeof *out);
  json_t *cs = pod ? main_status(pod) : NULL;
  json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
  json_t *waiting = json_object_get(json_object_get(cs, "state"), "waiting");
  int code = json_is_integer(json_object_get(term, "exitCode"))
                 ? (int)json_integer_value(json_object_get(term, "exitCode"))
                 : -1;
  const char *treason = get_str(term, "reason", NULL);
  const char *treason_shown =
      treason && strcmp(treason, "Error") && strcmp(treason, "Completed") ? treason : "";
  if (term) {
    /* a pod stopped by its active deadline (terminate: docs/k8s.md) says
     * so in its own reason: "DeadlineExceeded" */
    const char *preason = get_str(pod, "status", "reason");
    set_state(out, MN_WORKER_PHASE_EXITED, code, "%s%s", treason_shown,
              treason_shown[0] || !preason ? NULL : preason);
    return;
  }
  if (job && condition_true(job, "Complete", NULL, NULL)) {
    set_state(out, MN_WORKER_PHASE_EXITED, 0, "", NULL, NULL);
    return;
  }
  if (job && condition_true(job, "Failed", &reason, &message)) {
    set_state(out, MN_WORKER_PHASE_EXITED, -1, "job failed: %s: %s", reason ? reason : "Failed",
              message);
    return;
  }
  const char *wreason = get_str(waiting, "reason", NULL);
  /* The pod started before launch created its Secret (the Job comes first)
   * and waits for it: pending, until pending_timeout. */
  const char *job_name = job ? get_str(json_object_get(job, "metadata"), "name", NULL) : NULL;
  int waits_for_secret = wreason && strcmp(wreason, "CreateContainerConfigError") == 0 &&
                         names_secret(get_str(waiting, "message", NULL), job_name);
  if (!waits_for_secret && waiting_is_fatal(wreason)) {
    const char *wmsg = get_str(waiting, "message", NULL);
    set_state(out, MN_WORKER_PHASE_EXITED, -1, wmsg ? "%s: %s" : "%s%s", wreason, wmsg);
    return;
  }
  const char *phase = pod ? get_str(json_object_get(pod, "status"), "phase", NULL) : NULL;
  if (phase && strcmp(phase, "Running") == 0) {
    out->phase = MN_WORKER_PHASE_RUNNING;
    out->exit_code = -1;
    return;
  }
  if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) {
    set_state(out, MN_WORKER_PHASE_EXITED, strcmp(phase, "Succeeded") == 0 ? 0 : -1,
              "pod %s", phase, NULL);
    return;
  }
  if (!job) { /* the Job was deleted; its pod is still going away */
    set_state(out, pod ? MN_WORKER_PHASE_RUNNING : MN_WORKER_PHASE_MISSING, -1,
              pod ? "" : "job deleted", NULL, NULL);
    return;
  }
  /* Pending: no pod yet, or not running yet. Past pending_timeout it fails. */
  int64_t created = parse_time(get_str(job, "metadata", "creationTimestamp"));
  int64_t now = k->host->now_us() / 1000000;
  if (created > 0 && now - created > k->conf.pending_timeout_seconds) {
    json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions"), *c;
    size_t i;
    const char *why = wreason, *detail = get_str(waiting, "message", NULL);
    json_array_foreach(conds, i, c) {
      const char *s = get_str(c, "status", NULL);
      if (s && strcmp(s, "False") == 0 && get_str(c, "reason", NULL)) {
        why = get_str(c, "reason", NULL);
        detail = get_str(c, "message", NULL);
        break;
      }
    }
    out->phase = MN_WORKER_PHASE_EXITED;
    out->exit_code = -1;
    snprintf(out->reason, sizeof out->reason, "pod %s for more than %lld s%s%s%s%s",
             pod ? "Pending" : "not created", (long long)k->conf.pending_timeout_seconds,
             why ? ": " : "", why ? why : "", detail ? ": " : "", detail ? detail : "");
    return;
  }
  out->phase = MN_WORKER_PHASE_PENDING;
  out->exit_code = -1;
}

/* The newest pod of job name in pods. */
static json_t *pod_of(json_t *pods, const char *job) {
  json_t *best = NULL, *p;
  const char *best_t = "";
  size_t i;
  json_array_foreach(pods, i, p) {
    const char *j = pod_job(p);
    if (!j || strcmp(j, job) != 0)
      continue;
    const char *t = get_str(json_object_get(p, "metadata"), "creationTimestamp", NULL);
    if (!best || (t && strcmp(t, best_t) > 0)) {
      best = p;
      best_t = t ? t : "";
    }
  }
  return best;
}

static json_t *job_named(json_t *jobs, const char *name) {
  json_t *j;
  size_t i;
  json_array_foreach(jobs, i, j) {
    const char *n = get_str(json_object_get(j, "metadata"), "name", NULL);
    if (n && strcmp(n, name) == 0)
      return j;
  }
  return NULL;
}

int mn_k8s_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                        struct mn_worker_state *states_out, struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char ns[256], job[64];
  int rc = 0;
  char *done = calloc(n ? n : 1, 1);
  if (!done)
    return k->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  for (size_t i = 0; i < n; i++)
    if (mn_k8s_ref_split(&refs[i], ns, job)) {
      memset(&states_out[i], 0, sizeof states_out[i]);
      set_state(&states_out[i], MN_WORKER_PHASE_MISSING, -1, "not a job reference: \"%s\"",
                refs[i].identifier, NULL);
      done[i] = 1;
    }
  /* one pass per namespace among the refs (normally one) */
  for (size_t i = 0; i < n && !rc; i++) {
    if (done[i])
      continue;
    char this_ns[256];
    mn_k8s_ref_split(&refs[i], this_ns, job);
    json_t *jobs = NULL, *pods = NULL;
    if ((rc = list_all(k, this_ns, 0, &jobs, err)) || (rc = list_all(k, this_ns, 1, &pods, err))) {
      json_decref(jobs);
      break;
    }
    for (size_t m = i; m < n; m++) {
      if (done[m] || mn_k8s_ref_split(&refs[m], ns, job) || strcmp(ns, this_ns) != 0)
        continue;
      mn_k8s_job_state(k, job_named(jobs, job), pod_of(pods, job), &states_out[m]);
      done[m] = 1;
    }
    json_decref(jobs);
    json_decref(pods);
  }
  free(done);
  return rc;
}

int mn_k8s_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                      struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  json_t *jobs = NULL, *pods = NULL, *j;
  int rc;
  if ((rc = list_all(k, k->namespace_, 0, &jobs, err)) ||
      (rc = list_all(k, k->namespace_, 1, &pods, err))) {
    json_decref(jobs);
    return rc;
  }
  size_t i;
  json_array_foreach(jobs, i, j) {
    json_t *meta = json_object_get(j, "metadata");
    const char *name = get_str(meta, "name", NULL);
    const char *exe = get_str(json_object_get(meta, "annotations"),
                              MN_K8S_LABEL_PREFIX "execution", NULL);
    if (!name || !exe || strlen(name) >= 64)
      continue;
    struct mn_owned_worker w = {.execution_id = exe};
    snprintf(w.ref.identifier, sizeof w.ref.identifier, "%s/%s", k->namespace_, name);
    snprintf(w.ref.logs_identifier, sizeof w.ref.logs_identifier, "%s", w.ref.identifier);
    mn_k8s_job_state(k, j, pod_of(pods, name), &w.state);
    if (cb(ctx, &w))
      break;
  }
  json_decref(jobs);
  json_decref(pods);
  return 0;
}
