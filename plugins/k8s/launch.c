/* launch.c — prepare (check what Kubernetes would refuse later) and launch:
 * POST the Job named after the execution id; a 409 AlreadyExists means an
 * earlier call (before a crash, or whose answer was lost) created it, and
 * the Job is adopted. */
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

static int adopt(struct mn_k8s *k, const struct mn_launch_spec *spec, const char *job,
                 struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
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
  k->host->log(k->host, MN_HOST_LOG_INFO, "execution %s: adopted existing job %s/%s",
               spec->execution_id, k->namespace_, job);
  fill_ref(k, job, ref_out);
out:
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                  struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char job[64], path[512], what[160];
  struct mn_k8s_response r;
  if (!spec->execution_id || !spec->execution_id[0])
    return k->host->error(err, MN_PROVIDER_E_INVALID, "no execution id");
  mn_k8s_job_name(spec->execution_id, job);
  json_t *manifest = mn_k8s_job_manifest(k, spec, job, err);
  if (!manifest)
    return err->code;
  snprintf(path, sizeof path, "/apis/batch/v1/namespaces/%s/jobs", k->namespace_);
  snprintf(what, sizeof what, "create job \"%s\"", job);
  int rc = mn_k8s_request(k, "POST", path, manifest, &r, err);
  json_decref(manifest);
  if (rc)
    return rc;
  if (r.status == 201 || r.status == 200 || r.status == 202) {
    fill_ref(k, job, ref_out);
    k->host->log(k->host, MN_HOST_LOG_DEBUG, "execution %s: created job %s/%s",
                 spec->execution_id, k->namespace_, job);
  } else if (r.status == 409) {
    rc = adopt(k, spec, job, ref_out, err);
  } else {
    rc = mn_k8s_fail(k, &r, what, err);
  }
  mn_k8s_response_release(&r);
  return rc;
}
