/* launch.c — prepare and launch (template.h).
 *
 * prepare registers a "profile" per function (image, command, sizes and
 * the environment every execution shares), as ECS registers a task
 * definition; its name goes into prepared details, which the daemon hands
 * back to every launch. launch creates one worker per execution, named
 * after the execution id: a second launch of the same execution finds the
 * worker by that name (409), so it never starts a second one. */
#include <stdio.h>
#include <string.h>

#include "name_hash.h"
#include "template.h"

/* The API allows names of 1 to 40 of a-z 0-9 -; our ids do not fit that
 * rule, so names carry a hash of them (the ids themselves go in tags).
 * Where your platform allows, keep the id readable and hash only what you
 * had to cut (plugins/k8s/names.c). */
static int hashed_name(const char *prefix, const char *key, char out[41]) {
  char h[25];
  if (mn_name_hash(key, strlen(key), 24, h) != 0)
    return -1;
  snprintf(out, 41, "%s-%s", prefix, h);
  return 0;
}

/* An environment (mn_kv[]) as a JSON object, leaving out the entry named
 * skip (NULL: none). */
static json_t *env_object(const struct mn_kv *env, size_t n, const char *skip) {
  json_t *o = json_object();
  for (size_t i = 0; o && i < n; i++)
    if (!skip || strcmp(env[i].key, skip) != 0)
      json_object_set_new(o, env[i].key, json_string(env[i].value));
  return o;
}

int tpl_prepare(void *state, const struct mn_function_desc *fn, struct mn_prepared *out,
                struct mn_provider_error *err) {
  struct tpl *t = state;
  char key[1024], profile[41];
  snprintf(key, sizeof key, "%s\n%s\n%s", fn->project_name, fn->version_id, fn->function_name);
  if (hashed_name("fn", key, profile) != 0)
    return t->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot hash a profile name");

  json_t *command = json_null();
  if (fn->command) {
    command = json_array();
    for (size_t i = 0; command && i < fn->n_command; i++)
      json_array_append_new(command, json_string(fn->command[i]));
  }
  /* worker_env (ABI 1.2): what every execution shares, no secret in it, so
   * it may sit in a long-lived object like this profile. */
  json_t *body = json_pack("{s:s?, s:o*, s:o*, s:f, s:I}", "image",
                           fn->image && *fn->image ? fn->image : NULL, "command", command, "env",
                           env_object(fn->worker_env, fn->n_worker_env, NULL), "cpus",
                           fn->vcpus > 0 ? fn->vcpus : 1.0, "memory_mb",
                           (json_int_t)(fn->memory_gb > 0 ? fn->memory_gb * 1024 + 0.5 : 512));
  if (!body)
    return t->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  char path[128];
  snprintf(path, sizeof path, "/v1/profiles/%s", profile);
  int rc = tpl_call(t, "PUT", path, body, NULL, NULL, err);
  json_decref(body);
  if (rc == 0)
    snprintf(out->details_json, sizeof out->details_json, "{\"profile\":\"%s\"}", profile);
  return rc;
}

/* The worker named `name` that a launch before this one created: ours if
 * it carries our execution id. */
static int find_existing(struct tpl *t, const char *name, const char *execution_id,
                         struct mn_provider_error *err) {
  char path[128];
  json_t *w;
  snprintf(path, sizeof path, "/v1/workers/%s", name);
  int rc = tpl_call(t, "GET", path, NULL, &w, NULL, err);
  if (rc == MN_PROVIDER_E_NOT_FOUND) /* deleted between the two calls: try again */
    return t->host->error(err, MN_PROVIDER_E_TRANSIENT, "worker %s vanished during launch",
                          name);
  if (rc)
    return rc;
  const char *theirs = json_string_value(json_object_get(json_object_get(w, "tags"), "execution"));
  if (!theirs || strcmp(theirs, execution_id) != 0)
    rc = t->host->error(err, MN_PROVIDER_E_INVALID,
                        "worker name %s is taken by execution \"%s\", not \"%s\"", name,
                        theirs ? theirs : "?", execution_id);
  json_decref(w);
  return rc;
}

int tpl_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
               struct mn_provider_error *err) {
  struct tpl *t = state;
  const struct mn_host *host = t->host;
  char name[41];

  json_t *details = spec->prepared_details_json
                        ? json_loads(spec->prepared_details_json, 0, NULL)
                        : NULL;
  const char *profile = json_string_value(json_object_get(details, "profile"));
  if (!profile) {
    json_decref(details);
    return host->error(err, MN_PROVIDER_E_INVALID, "launch of %s without a prepared profile",
                       spec->execution_id);
  }
  if (hashed_name("mn", spec->execution_id, name) != 0) {
    json_decref(details);
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot hash a worker name");
  }
  /* The environment goes through unchanged, except the execution's secret
   * (secret_env_name, its own API key), which this API takes apart: it is
   * given to the process and never shown by GET. Tags carry what
   * list_owned reads back: the daemon's cluster and the execution. */
  json_t *secret = json_object();
  for (size_t i = 0; secret && spec->secret_env_name && i < spec->n_env; i++)
    if (strcmp(spec->env[i].key, spec->secret_env_name) == 0)
      json_object_set_new(secret, spec->env[i].key, json_string(spec->env[i].value));
  json_t *body = json_pack("{s:s, s:s, s:o*, s:o*, s:{s:s, s:s, s:s?}}", "name", name,
                           "profile", profile, "env",
                           env_object(spec->env, spec->n_env, spec->secret_env_name),
                           "secret_env", secret, "tags", "owner", host->cluster_id, "execution",
                           spec->execution_id, "invocation", spec->invocation_id);
  json_decref(details);
  if (!body)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  long status;
  int rc = tpl_call(t, "POST", "/v1/workers", body, NULL, &status, err);
  json_decref(body);
  if (rc && status == 409) /* launched before (a retried call, a daemon restart) */
    rc = find_existing(t, name, spec->execution_id, err);
  if (rc)
    return rc;
  snprintf(ref_out->identifier, sizeof ref_out->identifier, "%s", name);
  snprintf(ref_out->logs_identifier, sizeof ref_out->logs_identifier, "%s", name);
  host->log(host, MN_HOST_LOG_DEBUG, "worker %s for execution %s", name, spec->execution_id);
  return 0;
}
