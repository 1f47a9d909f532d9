/* secret.c — the execution's own API key (the launch spec's secret env
 * entry, ABI 1.2) in a v1 Secret of its own: named like the Job, labelled
 * and annotated like it, owned by it (ownerReferences with the Job's uid,
 * so the garbage collector deletes it with the Job), referenced from the
 * container's env with valueFrom.secretKeyRef. The key is never in the Job
 * or pod spec. Launch creates the Job first and the Secret next: the pod
 * waits for it (CreateContainerConfigError naming it, which status.c
 * treats as pending), and there is never a Secret without an owner. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s.h"

/* A Secret's data key: [-._a-zA-Z0-9]+, at most 253. */
static int data_key_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 253)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_' || c == '.'))
      return 0;
  }
  return 1;
}

const char *mn_k8s_secret_env(const struct mn_k8s *k, const struct mn_launch_spec *spec,
                              const char **value_out) {
  *value_out = NULL;
  /* secret_env_name exists in launch specs of daemons of ABI 1.2 and later */
  if (MN_PROVIDER_ABI_MAJOR_OF(k->host->abi_version) != 1 ||
      MN_PROVIDER_ABI_MINOR_OF(k->host->abi_version) < 2 || !spec->secret_env_name ||
      !spec->secret_env_name[0])
    return NULL;
  for (size_t i = 0; i < spec->n_env; i++)
    if (spec->env[i].key && strcmp(spec->env[i].key, spec->secret_env_name) == 0) {
      *value_out = spec->env[i].value ? spec->env[i].value : "";
      return spec->secret_env_name;
    }
  return NULL;
}

/* The Secret's data: {env_name: base64(value)} (the buffer cleansed). */
static json_t *data_of(const char *env_name, const char *value) {
  size_t n = strlen(value);
  size_t cap = 4 * ((n + 2) / 3) + 1;
  unsigned char *b64 = malloc(cap);
  if (!b64)
    return NULL;
  EVP_EncodeBlock(b64, (const unsigned char *)value, (int)n);
  json_t *data = json_pack("{s:s}", env_name, (const char *)b64);
  OPENSSL_cleanse(b64, cap);
  free(b64);
  return data;
}

static json_t *owner_of(const char *job, const char *job_uid) {
  /* no controller and no blockOwnerDeletion: the latter would need update
   * on jobs/finalizers where OwnerReferencesPermissionEnforcement runs */
  return json_pack("[{s:s, s:s, s:s, s:s}]", "apiVersion", "batch/v1", "kind", "Job", "name",
                   job, "uid", job_uid);
}

/* 409: the Secret exists. It must belong to this execution (its annotation);
 * then its data and owner are replaced with a merge patch. */
static int replace(struct mn_k8s *k, const struct mn_launch_spec *spec, const char *name,
                   const char *job_uid, const char *env_name, const char *value,
                   struct mn_provider_error *err) {
  char path[512], what[160];
  struct mn_k8s_response r;
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", k->namespace_, name);
  snprintf(what, sizeof what, "get secret \"%s\"", name);
  int rc = mn_k8s_request(k, "GET", path, NULL, &r, err);
  if (rc)
    return rc;
  if (r.status != 200) {
    rc = r.status == 404 ? k->host->error(err, MN_PROVIDER_E_TRANSIENT,
                                          "secret \"%s\" existed and then vanished", name)
                         : mn_k8s_fail(k, &r, what, err);
    mn_k8s_response_release(&r);
    return rc;
  }
  const char *owner = json_string_value(json_object_get(
      json_object_get(json_object_get(r.json, "metadata"), "annotations"),
      MN_K8S_LABEL_PREFIX "execution"));
  if (!owner || strcmp(owner, spec->execution_id) != 0) {
    rc = k->host->error(err, MN_PROVIDER_E_INVALID,
                        "secret \"%s\" already exists and belongs to execution \"%s\", not \"%s\"",
                        name, owner ? owner : "(none)", spec->execution_id);
    mn_k8s_response_release(&r);
    return rc;
  }
  mn_k8s_response_release(&r);

  json_t *patch = json_pack("{s:{s:o}, s:o}", "metadata", "ownerReferences",
                            owner_of(name, job_uid), "data", data_of(env_name, value));
  if (!patch)
    return k->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory building the secret");
  snprintf(what, sizeof what, "patch secret \"%s\"", name);
  rc = mn_k8s_request(k, "PATCH", path, patch, &r, err);
  json_decref(patch);
  if (rc)
    return rc;
  if (r.status != 200)
    rc = mn_k8s_fail(k, &r, what, err);
  else
    k->host->log(k->host, MN_HOST_LOG_INFO, "execution %s: secret %s/%s found again (409): its key and owner set",
                 spec->execution_id, k->namespace_, name);
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_secret_put(struct mn_k8s *k, const struct mn_launch_spec *spec, const char *name,
                      const char *job_uid, const char *env_name, const char *value,
                      struct mn_provider_error *err) {
  char path[512], what[160];
  struct mn_k8s_response r;
  if (!data_key_ok(env_name))
    return k->host->error(err, MN_PROVIDER_E_INVALID,
                          "\"%s\" cannot be the key of a secret's data", env_name);
  json_t *labels = mn_k8s_labels_of(k, spec), *annotations = mn_k8s_annotations_of(spec);
  json_t *body = labels && annotations
                     ? json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:O, s:o}, s:s, s:o}", "apiVersion",
                                 "v1", "kind", "Secret", "metadata", "name", name, "namespace",
                                 k->namespace_, "labels", labels, "annotations", annotations,
                                 "ownerReferences", owner_of(name, job_uid), "type", "Opaque",
                                 "data", data_of(env_name, value))
                     : NULL;
  json_decref(labels);
  json_decref(annotations);
  if (!body)
    return k->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory building the secret");
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets", k->namespace_);
  snprintf(what, sizeof what, "create secret \"%s\"", name);
  int rc = mn_k8s_request(k, "POST", path, body, &r, err);
  json_decref(body);
  if (rc)
    return rc;
  if (r.status == 201 || r.status == 200 || r.status == 202) {
    k->host->log(k->host, MN_HOST_LOG_DEBUG, "execution %s: created secret %s/%s",
                 spec->execution_id, k->namespace_, name);
  } else if (r.status == 409) {
    rc = replace(k, spec, name, job_uid, env_name, value, err);
  } else {
    rc = mn_k8s_fail(k, &r, what, err);
    if (r.status == 403) /* an RBAC from before secrets: say what is missing */
      snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), "%s",
               " (the daemon needs create, get, patch and delete on secrets in its "
               "namespace: deploy/k8s/rbac.yaml)");
  }
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_secret_delete(struct mn_k8s *k, const char *ns, const char *name,
                         struct mn_provider_error *err) {
  char path[512], what[160];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", ns, name);
  snprintf(what, sizeof what, "delete secret \"%s\"", name);
  return mn_k8s_delete(k, path, NULL, what, err);
}
