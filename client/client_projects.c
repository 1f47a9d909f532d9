/* Health, projects and versions (docs/compatibility.md §2.4 endpoints 1-8). */
#include "client_internal.h"

#include <stdlib.h>
#include <string.h>

int mn_client_health(struct mn_client *c, json_t **out, struct mn_client_error *err) {
  return mn_client__call(c, "GET", "/", NULL, out, err);
}

int mn_client_providers_list(struct mn_client *c, json_t **out, struct mn_client_error *err) {
  return mn_client__call(c, "GET", "/providers", NULL, out, err);
}

int mn_client_registry_credentials(struct mn_client *c, json_t **out,
                                   struct mn_client_error *err) {
  return mn_client__call(c, "GET", "/container_repository_credentials", NULL, out, err);
}

static int project_call(struct mn_client *c, const char *method, const char *name, json_t **out,
                        struct mn_client_error *err) {
  if (!c || !name || !*name)
    return mn_client__bad_arg(err, out, "the project name");
  return mn_client__call_path(c, method, mn_client__path(c, "/projects/%s", name), NULL, out, err);
}

int mn_client_project_create(struct mn_client *c, const char *project_name, json_t **out,
                             struct mn_client_error *err) {
  return project_call(c, "PUT", project_name, out, err);
}

int mn_client_project_delete(struct mn_client *c, const char *project_name, json_t **out,
                             struct mn_client_error *err) {
  return project_call(c, "DELETE", project_name, out, err);
}

int mn_client_project_get(struct mn_client *c, const char *project_name, json_t **out,
                          struct mn_client_error *err) {
  return project_call(c, "GET", project_name, out, err);
}

int mn_client_projects_list(struct mn_client *c, json_t **out, struct mn_client_error *err) {
  return mn_client__call(c, "GET", "/projects", NULL, out, err);
}

/* ---------------------------------------------------------------- versions */

static json_t *string_list(const char *const *items) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && items[i]; i++)
    if (json_array_append_new(arr, json_string(items[i])) < 0) {
      json_decref(arr);
      return NULL;
    }
  return arr;
}

static json_t *env_map(const char *const *items) {
  json_t *obj = json_object();
  for (size_t i = 0; obj && items[i]; i++) {
    const char *eq = strchr(items[i], '=');
    char *key = eq && eq != items[i] ? strndup(items[i], (size_t)(eq - items[i])) : NULL;
    int bad = !key || json_object_set_new(obj, key, json_string(eq + 1)) < 0;
    free(key);
    if (bad) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

/* The additive fields that are set (docs/compatibility.md, "Task semantics"). */
static int add_task_semantics(json_t *o, const struct mn_client_function_spec *f) {
  json_t *res = json_object_get(o, "resource_spec"), *exe = json_object_get(o, "execution_spec");
  int bad = 0;
  if (f->max_concurrency_per_key > 0)
    bad |= json_object_set_new(res, "max_concurrency_per_key",
                               json_integer(f->max_concurrency_per_key));
  if (f->retry_delay_seconds > 0)
    bad |= json_object_set_new(exe, "retry_delay_seconds", json_real(f->retry_delay_seconds));
  if (f->retry_backoff_factor > 0)
    bad |= json_object_set_new(exe, "retry_backoff_factor", json_real(f->retry_backoff_factor));
  if (f->retry_max_delay_seconds > 0)
    bad |= json_object_set_new(exe, "retry_max_delay_seconds",
                               json_real(f->retry_max_delay_seconds));
  if (f->attempt_timeout_seconds > 0)
    bad |= json_object_set_new(exe, "attempt_timeout_seconds",
                               json_integer(f->attempt_timeout_seconds));
  if (f->queue_timeout_seconds > 0)
    bad |= json_object_set_new(exe, "queue_timeout_seconds",
                               json_integer(f->queue_timeout_seconds));
  if (f->heartbeat_timeout_seconds > 0)
    bad |= json_object_set_new(exe, "heartbeat_timeout_seconds",
                               json_integer(f->heartbeat_timeout_seconds));
  return bad ? -1 : 0;
}

static json_t *function_spec_json(const struct mn_client_function_spec *f) {
  json_t *o;
  if (!f->function_name)
    return NULL;
  o = json_pack("{s:s, s:o, s:{s:f, s:f, s:i}, s:{s:i, s:i}}", "function_name",
                f->function_name, "docker_image_override",
                f->docker_image_override ? json_string(f->docker_image_override) : json_null(),
                "resource_spec", "virtual_cpus", f->virtual_cpus, "memory_gbs", f->memory_gbs,
                "max_concurrency", f->max_concurrency, "execution_spec", "max_retries",
                f->max_retries, "timeout_seconds", f->timeout_seconds);
  if (o && add_task_semantics(o, f) < 0)
    goto fail;
  if (o && f->command && json_object_set_new(o, "command", string_list(f->command)) < 0)
    goto fail;
  if (o && f->provider && json_object_set_new(o, "provider", json_string(f->provider)) < 0)
    goto fail;
  if (o && f->env && json_object_set_new(o, "env", env_map(f->env)) < 0)
    goto fail;
  return o;
fail:
  json_decref(o);
  return NULL;
}

json_t *mn_client_version_definition_json(const struct mn_client_version_definition *def) {
  json_t *functions = NULL;
  if (!def || !def->default_docker_image || (def->n_functions && !def->functions))
    return NULL;
  functions = json_array();
  for (size_t i = 0; functions && i < def->n_functions; i++) {
    json_t *f = function_spec_json(&def->functions[i]);
    if (!f || json_array_append_new(functions, f) < 0) {
      json_decref(functions);
      return NULL;
    }
  }
  if (!functions)
    return NULL;
  return json_pack("{s:s, s:o}", "default_docker_image", def->default_docker_image, "functions",
                   functions);
}

int mn_client_version_create_json(struct mn_client *c, const char *project_name,
                                  const json_t *definition, json_t **out,
                                  struct mn_client_error *err) {
  if (!c || !project_name || !*project_name)
    return mn_client__bad_arg(err, out, "the project name");
  if (!json_is_object(definition))
    return mn_client__bad_arg(err, out, "the version definition");
  return mn_client__call_path(c, "POST", mn_client__path(c, "/projects/%s/versions", project_name),
                   definition, out, err);
}

int mn_client_version_create(struct mn_client *c, const char *project_name,
                             const struct mn_client_version_definition *def, json_t **out,
                             struct mn_client_error *err) {
  json_t *body = mn_client_version_definition_json(def);
  int rc;
  if (!body)
    return mn_client__bad_arg(err, out, "a field of the version definition");
  rc = mn_client_version_create_json(c, project_name, body, out, err);
  json_decref(body);
  return rc;
}

int mn_client_version_get(struct mn_client *c, const char *project_name,
                          const char *version_ref, json_t **out, struct mn_client_error *err) {
  if (!c || !project_name || !*project_name)
    return mn_client__bad_arg(err, out, "the project name");
  return mn_client__call_path(c, "GET",
                   mn_client__path(c, "/projects/%s/versions/%s", project_name,
                                   version_ref && *version_ref ? version_ref : "latest"),
                   NULL, out, err);
}

int mn_client_versions_list(struct mn_client *c, const char *project_name, json_t **out,
                            struct mn_client_error *err) {
  if (!c || !project_name || !*project_name)
    return mn_client__bad_arg(err, out, "the project name");
  return mn_client__call_path(c, "GET", mn_client__path(c, "/projects/%s/versions", project_name), NULL,
                   out, err);
}
