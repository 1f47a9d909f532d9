/* manifest.c — the batch/v1 Job of one execution. The execution's secret
 * (its own API key) is never a literal value here: the container's env
 * takes it from the Job's Secret with valueFrom.secretKeyRef (secret.c). */
#include <stdio.h>
#include <string.h>

#include "k8s.h"
#include "names.h"

static int set_label(json_t *labels, const char *name, const char *value) {
  char key[128], v[64];
  snprintf(key, sizeof key, MN_K8S_LABEL_PREFIX "%s", name);
  mn_k8s_label_value(value ? value : "", v);
  return json_object_set_new(labels, key, json_string(v));
}

static int set_annotation(json_t *ann, const char *name, const char *value) {
  char key[128];
  snprintf(key, sizeof key, MN_K8S_LABEL_PREFIX "%s", name);
  return json_object_set_new(ann, key, json_string(value ? value : ""));
}

json_t *mn_k8s_labels_of(const struct mn_k8s *k, const struct mn_launch_spec *spec) {
  json_t *l = json_object();
  if (!l || set_label(l, "cluster", k->host->cluster_id) ||
      set_label(l, "project", spec->project_name) || set_label(l, "version", spec->version_id) ||
      set_label(l, "function", spec->function_name) ||
      set_label(l, "invocation", spec->invocation_id) ||
      set_label(l, "execution", spec->execution_id)) {
    json_decref(l);
    return NULL;
  }
  return l;
}

/* The ids as they are (label values may be shortened): read back by
 * list_owned. */
json_t *mn_k8s_annotations_of(const struct mn_launch_spec *spec) {
  json_t *a = json_object();
  if (!a || set_annotation(a, "project", spec->project_name) ||
      set_annotation(a, "version", spec->version_id) ||
      set_annotation(a, "function", spec->function_name) ||
      set_annotation(a, "invocation", spec->invocation_id) ||
      set_annotation(a, "execution", spec->execution_id)) {
    json_decref(a);
    return NULL;
  }
  return a;
}

/* The daemon's environment as given (provider.h), the secret by reference. */
static json_t *env_of(const struct mn_launch_spec *spec, const char *job_name,
                      const char *secret_env) {
  json_t *env = json_array();
  for (size_t i = 0; env && i < spec->n_env; i++) {
    const char *name = spec->env[i].key, *value = spec->env[i].value;
    json_t *entry;
    if (secret_env && strcmp(name, secret_env) == 0)
      entry = json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", name, "valueFrom", "secretKeyRef",
                        "name", job_name, "key", secret_env);
    else
      entry = json_pack("{s:s, s:s}", "name", name, "value", value ? value : "");
    if (json_array_append_new(env, entry))
      goto fail;
  }
  return env;
fail:
  json_decref(env);
  return NULL;
}

static json_t *tolerations_of(const struct mn_k8s_conf *c) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < c->n_tolerations; i++) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", c->tolerations[i]);
    char *effect = strrchr(buf, ':');
    if (effect)
      *effect++ = '\0';
    char *value = strchr(buf, '=');
    if (value)
      *value++ = '\0';
    json_t *t = json_pack("{s:s, s:s}", "key", buf, "operator", value ? "Equal" : "Exists");
    if (t && value)
      json_object_set_new(t, "value", json_string(value));
    if (t && effect)
      json_object_set_new(t, "effect", json_string(effect));
    if (!t || json_array_append_new(arr, t)) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

json_t *mn_k8s_job_manifest(const struct mn_k8s *k, const struct mn_launch_spec *spec,
                            const char *job_name, const char *secret_env,
                            struct mn_provider_error *err) {
  const struct mn_host *host = k->host;
  const struct mn_k8s_conf *c = &k->conf;
  char cpu[32], mem[32], why[256];
  if (!mn_k8s_image_valid(spec->image, why, sizeof why))
    return host->error(err, MN_PROVIDER_E_INVALID, "image \"%s\" is not valid: %s",
                       spec->image ? spec->image : "", why), NULL;
  if (mn_k8s_cpu_quantity(spec->vcpus, cpu, sizeof cpu) ||
      mn_k8s_memory_quantity(spec->memory_gb, mem, sizeof mem))
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot request %g vCPUs and %g GB", spec->vcpus,
                       spec->memory_gb), NULL;

  json_t *args = json_array(), *pull = json_array(), *selector = json_object();
  json_t *job = NULL;
  for (size_t i = 0; args && i < spec->n_command; i++)
    json_array_append_new(args, json_string(spec->command[i] ? spec->command[i] : ""));
  for (size_t i = 0; pull && i < c->n_image_pull_secrets; i++)
    json_array_append_new(pull, json_pack("{s:s}", "name", c->image_pull_secrets[i]));
  for (size_t i = 0; selector && i < c->n_node_selector; i++) {
    const char *eq = strchr(c->node_selector[i], '=');
    char key[320];
    snprintf(key, sizeof key, "%.*s", (int)(eq - c->node_selector[i]), c->node_selector[i]);
    json_object_set_new(selector, key, json_string(eq + 1));
  }
  json_t *resources = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "requests", "cpu", cpu, "memory",
                                mem, "limits", "cpu", cpu, "memory", mem);
  json_t *container = json_pack("{s:s, s:s, s:o, s:o}", "name", "main", "image", spec->image,
                                "env", env_of(spec, job_name, secret_env), "resources",
                                resources);
  if (container && spec->n_command)
    json_object_set(container, "args", args);
  json_t *pod_spec = json_pack("{s:s, s:I, s:[o]}", "restartPolicy", "Never",
                               "terminationGracePeriodSeconds",
                               (json_int_t)c->termination_grace_seconds, "containers", container);
  if (pod_spec) {
    if (c->service_account)
      json_object_set_new(pod_spec, "serviceAccountName", json_string(c->service_account));
    else /* workers talk to Multinode, not to Kubernetes */
      json_object_set_new(pod_spec, "automountServiceAccountToken", json_false());
    if (c->n_image_pull_secrets)
      json_object_set(pod_spec, "imagePullSecrets", pull);
    if (c->n_node_selector)
      json_object_set(pod_spec, "nodeSelector", selector);
    if (c->n_tolerations)
      json_object_set_new(pod_spec, "tolerations", tolerations_of(c));
  }
  json_t *labels = mn_k8s_labels_of(k, spec), *annotations = mn_k8s_annotations_of(spec);
  if (!args || !pull || !selector || !pod_spec || !labels || !annotations)
    goto out;
  job = json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:O}, s:{s:i, s:I, s:{s:{s:O, s:O}, s:O}}}",
                  "apiVersion", "batch/v1", "kind", "Job", "metadata", "name", job_name,
                  "namespace", k->namespace_, "labels", labels, "annotations", annotations,
                  "spec", "backoffLimit", 0, "ttlSecondsAfterFinished",
                  (json_int_t)c->ttl_seconds_after_finished, "template", "metadata", "labels",
                  labels, "annotations", annotations, "spec", pod_spec);
out:
  if (!job)
    host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory building the job manifest");
  json_decref(args);
  json_decref(pull);
  json_decref(selector);
  json_decref(pod_spec);
  json_decref(labels);
  json_decref(annotations);
  return job;
}
