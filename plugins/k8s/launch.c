/* launch.c — prepare (check what Kubernetes would refuse later) and launch:
 * POST the Job named after the execution id; a 409 AlreadyExists means an
 * earlier call (before a crash, or whose answer was lost) created it, and
 * the Job is adopted. Then the Secret with the execution's key, owned by
 * the Job (secret.c; 409: replaced, since a repeated launch brings a new
 * key). A Job whose Secret is refused for good is deleted again: its pod
 * would wait for the Secret forever. */
#include <stdio.h>
#include <string.h>

#include "k8s.h"
#include "names.h"

int mn_k8s_prepare(void *state, const struct mn_function_desc *fn, struct mn_prepared *out,
                   struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char why[256], q[32];
  if (!mn_k8s_image_valid(fn->image, why, sizeof why))
    return k->host->error(err, MN_PROVIDER_E_INVALID, "function \"%s\": image \"%s\" is not valid: %s",
                          fn->function_name, fn->image ? fn->image : "", why);
  if (mn_k8s_cpu_quantity(fn->vcpus, q, sizeof q) ||
      mn_k8s_memory_quantity(fn->memory_gb, q, sizeof q))
    return k->host->error(err, MN_PROVIDER_E_INVALID,
                          "function \"%s\": cannot request %g vCPUs and %g GB", fn->function_name,
                          fn->vcpus, fn->memory_gb);
  out->details_json[0] = '\0';
  return 0;
}

static void fill_ref(const struct mn_k8s *k, const char *job, struct mn_worker_ref *ref) {
  snprintf(ref->identifier, sizeof ref->identifier, "%s/%s", k->namespace_, job);
  snprintf(ref->logs_identifier, sizeof ref->logs_identifier, "%s", ref->identifier);
}

/* The uid of a Job object, copied into uid (128 bytes); -1 when absent. */
static int uid_of(json_t *job, char uid[128]) {
  const char *u = json_string_value(json_object_get(json_object_get(job, "metadata"), "uid"));
  if (!u || !u[0] || strlen(u) >= 128)
    return -1;
  snprintf(uid, 128, "%s", u);
  return 0;
}

static int adopt(struct mn_k8s *k, const struct mn_launch_spec *spec, const char *job,
                 char uid[128], struct mn_provider_error *err) {
  char path[512], what[160];
  struct mn_k8s_response r;
  snprintf(what, sizeof what, "get job \"%s\"", job);
  snprintf(path, sizeof path, "/apis/batch/v1/namespaces/%s/jobs/%s", k->namespace_, job);
  int rc = mn_k8s_request(k, "GET", path, NULL, &r, err);
  if (rc)
    return rc;
  if (r.status != 200) {
    /* deleted between our create and this get: create it next time */
    rc = r.status == 404 ? k->host->error(err, MN_PROVIDER_E_TRANSIENT,
                                          "job \"%s\" existed and then vanished", job)
                         : mn_k8s_fail(k, &r, what, err);
    goto out;
  }
  const char *owner = json_string_value(json_object_get(
      json_object_get(json_object_get(r.json, "metadata"), "annotations"),
      MN_K8S_LABEL_PREFIX "execution"));
  if (!owner || strcmp(owner, spec->execution_id) != 0) {
    rc = k->host->error(err, MN_PROVIDER_E_INVALID,
                        "job \"%s\" already exists and belongs to execution \"%s\", not \"%s\"",
                        job, owner ? owner : "(none)", spec->execution_id);
    goto out;
  }
  if (uid_of(r.json, uid)) {
    rc = k->host->error(err, MN_PROVIDER_E_TRANSIENT, "job \"%s\" has no uid", job);
    goto out;
  }
  k->host->log(k->host, MN_HOST_LOG_INFO, "execution %s: adopted existing job %s/%s",
               spec->execution_id, k->namespace_, job);
out:
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                  struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char job[64], path[512], what[160], uid[128] = "";
  struct mn_k8s_response r;
  const char *secret_value = NULL;
  if (!spec->execution_id || !spec->execution_id[0])
    return k->host->error(err, MN_PROVIDER_E_INVALID, "no execution id");
  mn_k8s_job_name(spec->execution_id, job);
  const char *secret_env = mn_k8s_secret_env(k, spec, &secret_value);
  json_t *manifest = mn_k8s_job_manifest(k, spec, job, secret_env, err);
  if (!manifest)
    return err->code;
  snprintf(path, sizeof path, "/apis/batch/v1/namespaces/%s/jobs", k->namespace_);
  snprintf(what, sizeof what, "create job \"%s\"", job);
  int rc = mn_k8s_request(k, "POST", path, manifest, &r, err);
  json_decref(manifest);
  if (rc)
    return rc;
  if (r.status == 201 || r.status == 200 || r.status == 202) {
    if (uid_of(r.json, uid))
      rc = k->host->error(err, MN_PROVIDER_E_TRANSIENT, "create job \"%s\": the answer has no uid",
                          job);
    else
      k->host->log(k->host, MN_HOST_LOG_DEBUG, "execution %s: created job %s/%s",
                   spec->execution_id, k->namespace_, job);
  } else if (r.status == 409) {
    rc = adopt(k, spec, job, uid, err);
  } else {
    rc = mn_k8s_fail(k, &r, what, err);
  }
  mn_k8s_response_release(&r);
  if (!rc && secret_env) {
    rc = mn_k8s_secret_put(k, spec, job, uid, secret_env, secret_value, err);
    if (rc && rc != MN_PROVIDER_E_TRANSIENT) {
      struct mn_provider_error e2 = {0};
      if (mn_k8s_delete_job(k, k->namespace_, job, &e2))
        k->host->log(k->host, MN_HOST_LOG_WARN, "execution %s: job %s/%s left behind: %s",
                     spec->execution_id, k->namespace_, job, e2.msg);
    }
  }
  if (!rc)
    fill_ref(k, job, ref_out);
  return rc;
}
