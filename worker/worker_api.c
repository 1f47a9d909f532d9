/* The in-process API for functions written in C (include/multinode/worker.h).
 * Also the worker runtime's reader of the Multinode environment. */
#include "multinode/worker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multinode/common/buf.h"
#include "multinode/common/worker_env.h"
#include <unistd.h>

#define PROGRESS_RETRY_MS 60000L

struct mn_worker {
  struct mn_worker_env env;
  struct mn_client *client;
  char *input; /* NULL until read */
  size_t input_len;
  int result_set;
};

static int fail(struct mn_client_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct mn_client_error *err, int code, const char *fmt, ...) {
  va_list ap;
  if (!err)
    return code;
  memset(err, 0, sizeof *err);
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->detail, sizeof err->detail, fmt, ap);
  va_end(ap);
  return code;
}

static int read_var(const char *name, const char **dst, struct mn_client_error *err) {
  const char *v = getenv(name);
  if (!v || !*v)
    return fail(err, MN_CLIENT_E_CONFIG, "%s is not set", name);
  *dst = v;
  return 0;
}

int mn_worker_env_load(struct mn_worker_env *env, struct mn_client_error *err) {
  int rc;
  memset(env, 0, sizeof *env);
  if ((rc = read_var(MN_WORKER_ENV_API_URL, &env->api_url, err)) < 0 ||
      (rc = read_var(MN_WORKER_ENV_API_KEY, &env->api_key, err)) < 0 ||
      (rc = read_var(MN_WORKER_ENV_PROJECT_NAME, &env->project_name, err)) < 0 ||
      (rc = read_var(MN_WORKER_ENV_VERSION_ID, &env->version_id, err)) < 0 ||
      (rc = read_var(MN_WORKER_ENV_FUNCTION_NAME, &env->function_name, err)) < 0 ||
      (rc = read_var(MN_WORKER_ENV_INVOCATION_ID, &env->invocation_id, err)) < 0 ||
      (rc = read_var(MN_WORKER_ENV_EXECUTION_ID, &env->execution_id, err)) < 0)
    return rc;
  return 0;
}

void mn_worker_env_execution(const struct mn_worker_env *env,
                             struct mn_client_execution_ref *out) {
  out->project_name = env->project_name;
  out->version_ref = env->version_id;
  out->function_name = env->function_name;
  out->invocation_id = env->invocation_id;
  out->execution_id = env->execution_id;
}

int mn_worker_open(struct mn_worker **out, struct mn_client_error *err) {
  struct mn_worker *w = calloc(1, sizeof *w);
  int rc;
  *out = NULL;
  if (!w)
    return fail(err, MN_CLIENT_E_NOMEM, "out of memory");
  if ((rc = mn_worker_env_load(&w->env, err)) < 0)
    goto fail;
  w->client = mn_client_new(w->env.api_url, w->env.api_key);
  if (!w->client) {
    rc = fail(err, MN_CLIENT_E_CONFIG, "cannot make a client for \"%s\"", w->env.api_url);
    goto fail;
  }
  mn_client_set_retry(w->client, 1, PROGRESS_RETRY_MS);
  *out = w;
  return 0;
fail:
  mn_worker_close(w);
  return rc;
}

void mn_worker_close(struct mn_worker *w) {
  if (!w)
    return;
  mn_client_free(w->client);
  free(w->input);
  free(w);
}

const struct mn_worker_env *mn_worker_get0_env(const struct mn_worker *w) { return &w->env; }

struct mn_client *mn_worker_get0_client(struct mn_worker *w) { return w->client; }

const char *mn_worker_input(struct mn_worker *w, size_t *len) {
  if (!w->input) {
    struct mn_buf b = {0};
    if (mn_buf_read_fd(&b, STDIN_FILENO, SIZE_MAX) < 0) {
      mn_buf_release(&b);
      return NULL;
    }
    w->input = mn_buf_take(&b, &w->input_len);
    if (!w->input)
      return NULL;
  }
  if (len)
    *len = w->input_len;
  return w->input;
}

int mn_worker_progress(struct mn_worker *w, const char *text, struct mn_client_error *err) {
  struct mn_client_execution_ref ex;
  if (!text)
    return fail(err, MN_CLIENT_E_INVAL, "the progress text is NULL");
  mn_worker_env_execution(&w->env, &ex);
  return mn_client_execution_update(w->client, &ex, text, NULL, err);
}

int mn_worker_heartbeat(struct mn_worker *w, struct mn_client_error *err) {
  struct mn_client_execution_ref ex;
  mn_worker_env_execution(&w->env, &ex);
  return mn_client_execution_heartbeat(w->client, &ex, NULL, err);
}

int mn_worker_set_result(struct mn_worker *w, const char *text, struct mn_client_error *err) {
  if (!text)
    return fail(err, MN_CLIENT_E_INVAL, "the result is NULL");
  if (w->result_set)
    return fail(err, MN_CLIENT_E_INVAL, "the result was already set");
  w->result_set = 1;
  if (fputs(text, stdout) == EOF || fflush(stdout) == EOF)
    return fail(err, MN_CLIENT_E_IO, "cannot write the result to standard output: %s",
                strerror(errno));
  return 0;
}

int mn_worker_start_child(struct mn_worker *w, const char *function_name, const char *input,
                          json_t **out, struct mn_client_error *err) {
  struct mn_client_function_ref fn = {w->env.project_name, w->env.version_id, function_name};
  struct mn_client_parent parent = {w->env.function_name, w->env.invocation_id};
  if (out)
    *out = NULL;
  if (!function_name || !input)
    return fail(err, MN_CLIENT_E_INVAL, "the function name and the input are required");
  return mn_client_invocation_start(w->client, &fn, input, &parent, out, err);
}
