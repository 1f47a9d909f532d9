/* terminate.c — terminate: delete the Job with background propagation (its
 * pod gets SIGTERM, then SIGKILL after its terminationGracePeriodSeconds);
 * when the daemon asks for a shorter grace than the pod spec carries, the
 * pod is also deleted with that grace (a delete may shorten a grace, never
 * lengthen it). release: a finished Job is left to ttlSecondsAfterFinished
 * so that its log stays readable; an unfinished one (an image that cannot
 * be pulled, a pod that stayed Pending) is deleted. Both delete the
 * execution's Secret (named like the Job) at once: the garbage collector
 * would delete it with its owner, but a finished Job stays for its TTL and
 * the key has no use once the worker has exited. */
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

int mn_k8s_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                     struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char ns[256], job[64];
  if (mn_k8s_ref_split(ref, ns, job))
    return 0; /* not ours: nothing to stop */
  int rc = mn_k8s_delete_job(k, ns, job, err);
  if (rc)
    return rc;
  if (grace_seconds >= 0 && grace_seconds < k->conf.termination_grace_seconds)
    rc = delete_pods(k, ns, job, grace_seconds, err);
  if (!rc) /* a running container keeps the environment it started with */
    rc = mn_k8s_secret_delete(k, ns, job, err);
  if (!rc)
    k->host->log(k->host, MN_HOST_LOG_DEBUG, "job %s/%s deleted (grace %d s)", ns, job,
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
  return finished ? 0 : mn_k8s_delete_job(k, ns, job, err);
}
