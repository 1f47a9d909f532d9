#include "plugin/launch_spec.h"

#include <stdlib.h>
#include <string.h>

#include "plugin/handle.h"

/* argv from a JSON array of strings (NULL: none). */
static int build_argv(const json_t *command, const char ***argv_out, size_t *n_out,
                      struct mn_error *err) {
  *argv_out = NULL;
  *n_out = 0;
  if (!command || json_is_null(command))
    return 0;
  if (!json_is_array(command))
    return mn_fail(err, MN_EINVAL, "the function's command is not a list");
  size_t n = json_array_size(command);
  const char **argv = calloc(n + 1, sizeof *argv);
  if (!argv)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (!(argv[i] = json_string_value(json_array_get(command, i)))) {
      free(argv);
      return mn_fail(err, MN_EINVAL, "the function's command holds a non-string");
    }
  }
  *argv_out = argv;
  *n_out = n;
  return 0;
}

/* The function's env (a JSON object of strings) plus EXTRA free slots. */
static int build_env(const json_t *env, size_t extra, struct mn_kv **env_out, size_t *n_out,
                     struct mn_error *err) {
  const char *key;
  json_t *value;
  size_t n = 0;
  if (env && !json_is_null(env) && !json_is_object(env))
    return mn_fail(err, MN_EINVAL, "the function's env is not a mapping");
  struct mn_kv *kv = calloc(json_object_size(env) + extra + 1, sizeof *kv);
  if (!kv)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  json_object_foreach((json_t *)env, key, value) {
    if (!json_is_string(value)) {
      free(kv);
      return mn_fail(err, MN_EINVAL, "env variable \"%s\" is not a string", key);
    }
    kv[n].key = key;
    kv[n].value = json_string_value(value);
    n++;
  }
  *env_out = kv;
  *n_out = n;
  return 0;
}

/* Drops the function's MULTINODE_* entries from env[0..n) (the worker's
 * own variables win) and appends the worker's; env has room for them.
 * Returns the new count. */
static size_t append_worker_env(struct mn_kv *env, size_t n, const struct mn_kv *worker,
                                size_t n_worker) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i].key, MN_WORKER_ENV_PREFIX, strlen(MN_WORKER_ENV_PREFIX)) != 0)
      env[kept++] = env[i];
  memcpy(env + kept, worker, n_worker * sizeof *worker);
  return kept + n_worker;
}

int mn_launch_spec_build(struct mn_launch_buf *buf, const struct mn_provider_handle *h,
                         const struct mn_invocation *inv, const char *execution_id,
                         const char *api_key, struct mn_error *err) {
  const struct mn_function *fn = &inv->function;
  struct mn_launch_spec *s = &buf->spec;
  int rc;
  memset(buf, 0, sizeof *buf);
  if ((rc = build_argv(fn->command, &buf->argv, &s->n_command, err)) ||
      (rc = build_env(fn->env, MN_WORKER_ENV_COUNT, &buf->env, &s->n_env, err)))
    goto done;
  const struct mn_kv worker_env[MN_WORKER_ENV_COUNT] = {
      {MN_WORKER_ENV_API_URL, h->worker_api_url},
      {MN_WORKER_ENV_API_KEY, api_key},
      {MN_WORKER_ENV_PROJECT_NAME, fn->project_name},
      {MN_WORKER_ENV_VERSION_ID, fn->version_id},
      {MN_WORKER_ENV_FUNCTION_NAME, fn->function_name},
      {MN_WORKER_ENV_INVOCATION_ID, inv->invocation_id},
      {MN_WORKER_ENV_EXECUTION_ID, execution_id},
  };
  s->n_env = append_worker_env(buf->env, s->n_env, worker_env, MN_WORKER_ENV_COUNT);
  if (fn->prepared_function_details && json_is_object(fn->prepared_function_details) &&
      !(buf->prepared_json = json_dumps(fn->prepared_function_details, JSON_COMPACT))) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto done;
  }
  s->project_name = fn->project_name;
  s->version_id = fn->version_id;
  s->function_name = fn->function_name;
  s->invocation_id = inv->invocation_id;
  s->execution_id = execution_id;
  s->image = fn->docker_image;
  s->command = buf->argv;
  s->env = buf->env;
  s->vcpus = fn->resource_spec.virtual_cpus;
  s->memory_gb = fn->resource_spec.memory_gbs;
  s->timeout_seconds = fn->execution_spec.timeout_seconds;
  s->api_url = h->worker_api_url;
  s->api_key = api_key;
  s->secret_env_name = MN_WORKER_ENV_API_KEY;
  s->prepared_details_json = buf->prepared_json;
done:
  if (rc)
    mn_launch_buf_release(buf);
  return rc;
}

void mn_launch_buf_release(struct mn_launch_buf *buf) {
  if (!buf)
    return;
  free(buf->argv);
  free(buf->env);
  free(buf->prepared_json);
  memset(buf, 0, sizeof *buf);
}

int mn_function_desc_build(struct mn_function_desc_buf *buf, const struct mn_provider_handle *h,
                           const struct mn_function *fn, struct mn_error *err) {
  struct mn_function_desc *d = &buf->desc;
  int rc;
  memset(buf, 0, sizeof *buf);
  if ((rc = build_argv(fn->command, &buf->argv, &d->n_command, err)) ||
      (rc = build_env(fn->env, 0, &buf->env, &d->n_env, err)) ||
      (rc = build_env(fn->env, MN_WORKER_ENV_SHARED, &buf->worker_env, &d->n_worker_env, err))) {
    mn_function_desc_buf_release(buf);
    return rc;
  }
  const struct mn_kv shared[MN_WORKER_ENV_SHARED] = {
      {MN_WORKER_ENV_API_URL, h->worker_api_url},
      {MN_WORKER_ENV_PROJECT_NAME, fn->project_name},
      {MN_WORKER_ENV_VERSION_ID, fn->version_id},
      {MN_WORKER_ENV_FUNCTION_NAME, fn->function_name},
  };
  d->n_worker_env = append_worker_env(buf->worker_env, d->n_worker_env, shared,
                                      MN_WORKER_ENV_SHARED);
  d->worker_env = buf->worker_env;
  d->project_name = fn->project_name;
  d->version_id = fn->version_id;
  d->function_name = fn->function_name;
  d->image = fn->docker_image;
  d->command = buf->argv;
  d->env = buf->env;
  d->vcpus = fn->resource_spec.virtual_cpus;
  d->memory_gb = fn->resource_spec.memory_gbs;
  d->timeout_seconds = fn->execution_spec.timeout_seconds;
  return 0;
}

void mn_function_desc_buf_release(struct mn_function_desc_buf *buf) {
  if (!buf)
    return;
  free(buf->argv);
  free(buf->env);
  free(buf->worker_env);
  memset(buf, 0, sizeof *buf);
}
