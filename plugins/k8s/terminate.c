/* terminate.c — terminate: stop the Job's running pod without deleting it,
 * so that its log stays readable (docs/k8s.md, Operations): a JSON merge
 * patch sets the pod's spec.activeDeadlineSeconds to 1 (a running pod may
 * have it set, or lowered); the kubelet then kills the container as a
 * deletion would (SIGTERM, SIGKILL after terminationGracePeriodSeconds),
 * marks the pod Failed with reason DeadlineExceeded and keeps it; the Job
 * (backoffLimit 0) fails and stays for ttlSecondsAfterFinished. A Job with
 * no running pod yet (not created, Pending: no log to keep) is deleted with
 * background propagation; one whose pod has ended is left alone (so is
 * the log of a finished execution that reconciliation terminates again
 * after a restart). When the daemon asks for a shorter grace than the pod
 * spec carries, the deadline cannot give it (the kubelet kills with the
 * spec's grace): the Job is deleted and its pods with that grace (a delete
 * may shorten a grace, never lengthen it); that log is lost. release: a
 * finished Job (Complete or Failed, or its pod ended and the Job controller
 * has not said so yet) is left to ttlSecondsAfterFinished so that its log
 * stays readable; an unfinished one (an image that cannot be pulled, a pod that
 * stayed Pending) is deleted. Both delete the execution's Secret (named like
 * the Job) at once: the garbage collector would delete it with its owner,
 * but a finished Job stays for its TTL and the key has no use once the
 * worker has exited. */
#include <stdio.h>
#include <string.h>

#include "k8s.h"

/* One DELETE with its DeleteOptions (taken); gone already (404) is success. */
int mn_k8s_delete(struct mn_k8s *k, const char *path, json_t *opts, const char *what,
                       struct mn_provider_error *err) {
  struct mn_k8s_response r;
  int rc = mn_k8s_request(k, "DELETE", path, opts, &r, err);
  json_decref(opts);
  if (rc)
    return rc;
  if (r.status != 200 && r.status != 202 && r.status != 404)
    rc = mn_k8s_fail(k, &r, what, err);
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_delete_job(struct mn_k8s *k, const char *ns, const char *job,
                      struct mn_provider_error *err) {
  char path[512], what[160];
  snprintf(path, sizeof path, "/apis/batch/v1/namespaces/%s/jobs/%s", ns, job);
  snprintf(what, sizeof what, "delete job \"%s\"", job);
  return mn_k8s_delete(k, path,
                     json_pack("{s:s, s:s, s:s}", "apiVersion", "v1", "kind", "DeleteOptions",
                               "propagationPolicy", "Background"),
                     what, err);
}

static int delete_pods(struct mn_k8s *k, const char *ns, const char *job, int grace,
                       struct mn_provider_error *err) {
  char sel[128], q[512], path[1024], what[160];
  snprintf(sel, sizeof sel, "job-name=%s", job);
  if (mn_k8s_selector_query(sel, q, sizeof q))
    return k->host->error(err, MN_PROVIDER_E_INVALID, "bad label selector");
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?%s&gracePeriodSeconds=%d", ns, q,
           grace);
  snprintf(what, sizeof what, "delete the pods of job \"%s\"", job);
  return mn_k8s_delete(k, path,
                     json_pack("{s:s, s:s, s:i}", "apiVersion", "v1", "kind", "DeleteOptions",
                               "gracePeriodSeconds", grace),
                     what, err);
}

/* Lists the pods of job: *running counts the Running ones, *ended those
 * that have ended (their log stays with them). With stop, the active
 * deadline of each running one is lowered to 1 s (one gone meanwhile is
 * not counted). */
static int job_pods(struct mn_k8s *k, const char *ns, const char *job, int stop, int *running,
                    int *ended, struct mn_provider_error *err) {
  char path[1024], what[300];
  struct mn_k8s_response r;
  *running = *ended = 0;
  int rc = mn_k8s_job_pods(k, ns, job, &r, err);
  if (rc)
    return rc;
  json_t *items = json_object_get(r.json, "items"), *p;
  size_t i;
  json_array_foreach(items, i, p) {
    const char *name = json_string_value(json_object_get(json_object_get(p, "metadata"), "name"));
    const char *phase =
        json_string_value(json_object_get(json_object_get(p, "status"), "phase"));
    if (!name)
      continue;
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) {
      (*ended)++;
      continue;
    }
    if (!phase || strcmp(phase, "Running") != 0)
      continue; /* Pending: no deadline runs before the kubelet starts it */
    if (!stop) {
      (*running)++;
      continue;
    }
    struct mn_k8s_response pr;
    json_t *patch = json_pack("{s:{s:i}}", "spec", "activeDeadlineSeconds", 1);
    if (!patch) {
      rc = k->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory building a patch");
      break;
    }
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", ns, name);
    snprintf(what, sizeof what, "set the active deadline of pod \"%s\"", name);
    rc = mn_k8s_request(k, "PATCH", path, patch, &pr, err);
    json_decref(patch);
    if (rc)
      break;
    if (pr.status == 200)
      (*running)++;
    else if (pr.status != 404) /* gone meanwhile: nothing to stop */
      rc = mn_k8s_fail(k, &pr, what, err);
    mn_k8s_response_release(&pr);
    if (rc)
      break;
  }
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                     struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char ns[256], job[64];
  int running = 0, ended = 0, rc;
  if (mn_k8s_ref_split(ref, ns, job))
    return 0; /* not ours: nothing to stop */
  int shorter = grace_seconds >= 0 && grace_seconds < k->conf.termination_grace_seconds;
  rc = job_pods(k, ns, job, !shorter, &running, &ended, err);
  const char *done = "left to its TTL: its pod has ended";
  if (!rc && (running || !ended)) {
    if (shorter) {
      done = "and its pods deleted";
      rc = mn_k8s_delete_job(k, ns, job, err);
      if (!rc)
        rc = delete_pods(k, ns, job, grace_seconds, err);
    } else if (running) {
      done = "stopped by its pod's active deadline, kept for its log";
    } else { /* no pod runs yet: nothing to keep */
      done = "deleted: no pod ran yet";
      rc = mn_k8s_delete_job(k, ns, job, err);
    }
  }
  if (!rc) /* a running container keeps the environment it started with */
    rc = mn_k8s_secret_delete(k, ns, job, err);
  if (!rc)
    k->host->log(k->host, MN_HOST_LOG_DEBUG, "job %s/%s %s (grace %d s)", ns, job, done,
                 grace_seconds);
  return rc;
}

int mn_k8s_release(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char ns[256], job[64], path[512], what[160];
  struct mn_k8s_response r;
  if (mn_k8s_ref_split(ref, ns, job))
    return 0;
  int rc = mn_k8s_secret_delete(k, ns, job, err);
  if (rc)
    return rc;
  snprintf(path, sizeof path, "/apis/batch/v1/namespaces/%s/jobs/%s", ns, job);
  snprintf(what, sizeof what, "get job \"%s\"", job);
  rc = mn_k8s_request(k, "GET", path, NULL, &r, err);
  if (rc)
    return rc;
  if (r.status == 404) {
    mn_k8s_response_release(&r);
    return 0;
  }
  if (r.status != 200) {
    rc = mn_k8s_fail(k, &r, what, err);
    mn_k8s_response_release(&r);
    return rc;
  }
  json_t *conds = json_object_get(json_object_get(r.json, "status"), "conditions"), *c;
  size_t i;
  int finished = 0;
  json_array_foreach(conds, i, c) {
    const char *t = json_string_value(json_object_get(c, "type"));
    const char *s = json_string_value(json_object_get(c, "status"));
    if (t && s && (!strcmp(t, "Complete") || !strcmp(t, "Failed")) && !strcmp(s, "True"))
      finished = 1;
  }
  mn_k8s_response_release(&r);
  if (finished)
    return 0;
  /* The Job controller writes Failed (or Complete) a moment after the pod
   * ended: a Job whose pod has ended is finished too, and keeps its log. */
  int running = 0, ended = 0;
  rc = job_pods(k, ns, job, 0, &running, &ended, err);
  if (rc || ended)
    return rc;
  return mn_k8s_delete_job(k, ns, job, err);
}
