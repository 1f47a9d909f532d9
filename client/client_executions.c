/* Executions: the worker protocol and logs (docs/compatibility.md §2.4 endpoints 13-17). */
#include "client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_PATH MN_CLIENT_FN_PATH "/invocations/%s/executions/%s"

static int check(const struct mn_client *c, const struct mn_client_execution_ref *ex,
                 json_t **out, struct mn_client_error *err) {
  if (!c)
    return mn_client__bad_arg(err, out, "the client");
  if (!ex || !ex->project_name || !*ex->project_name)
    return mn_client__bad_arg(err, out, "the project name");
  if (!ex->function_name || !*ex->function_name)
    return mn_client__bad_arg(err, out, "the function name");
  if (!ex->invocation_id || !*ex->invocation_id)
    return mn_client__bad_arg(err, out, "the invocation id");
  if (!ex->execution_id || !*ex->execution_id)
    return mn_client__bad_arg(err, out, "the execution id");
  return 0;
}

/* EXEC_PATH followed by suffix (a literal such as "/start"). */
static char *exec_path(struct mn_client *c, const struct mn_client_execution_ref *ex,
                       const char *suffix) {
  char *path = mn_client__path(c, EXEC_PATH, MN_CLIENT_FN_ARGS(ex), ex->invocation_id,
                               ex->execution_id);
  char *grown;
  if (!path || !*suffix)
    return path;
  grown = realloc(path, strlen(path) + strlen(suffix) + 1);
  if (!grown) {
    free(path);
    return NULL;
  }
  return strcat(grown, suffix);
}

static int exec_call(struct mn_client *c, const char *method,
                     const struct mn_client_execution_ref *ex, const char *suffix,
                     const json_t *body, json_t **out, struct mn_client_error *err) {
  int rc = check(c, ex, out, err);
  if (rc < 0)
    return rc;
  return mn_client__call_path(c, method, exec_path(c, ex, suffix), body, out, err);
}

int mn_client_execution_get(struct mn_client *c, const struct mn_client_execution_ref *ex,
                            json_t **out, struct mn_client_error *err) {
  return exec_call(c, "GET", ex, "", NULL, out, err);
}

int mn_client_execution_start(struct mn_client *c, const struct mn_client_execution_ref *ex,
                              json_t **out, struct mn_client_error *err) {
  return exec_call(c, "PUT", ex, "/start", NULL, out, err);
}

static json_t *nullable(const char *s) {
  return s ? json_string(s) : json_null();
}

int mn_client_execution_update(struct mn_client *c, const struct mn_client_execution_ref *ex,
                               const char *latest_output, json_t **out,
                               struct mn_client_error *err) {
  json_t *body;
  int rc;
  if (!latest_output)
    return mn_client__bad_arg(err, out, "the latest output");
  body = json_pack("{s:s}", "latest_output", latest_output);
  if (!body) {
    if (out)
      *out = NULL;
    return mn_client__fail(err, MN_CLIENT_E_INVAL, "cannot encode the output (is it UTF-8?)");
  }
  rc = exec_call(c, "PUT", ex, "/update", body, out, err);
  json_decref(body);
  return rc;
}

int mn_client_execution_heartbeat(struct mn_client *c, const struct mn_client_execution_ref *ex,
                                  json_t **out, struct mn_client_error *err) {
  return exec_call(c, "PUT", ex, "/heartbeat", NULL, out, err);
}

int mn_client_execution_finish(struct mn_client *c, const struct mn_client_execution_ref *ex,
                               const char *outcome, const char *final_output,
                               const char *error_message, json_t **out,
                               struct mn_client_error *err) {
  json_t *body;
  int rc;
  if (out)
    *out = NULL;
  if (!outcome || (strcmp(outcome, "SUCCEEDED") && strcmp(outcome, "FAILED") &&
                   strcmp(outcome, "ABORTED")))
    return mn_client__bad_arg(err, out, "the outcome (SUCCEEDED, FAILED or ABORTED)");
  if ((strcmp(outcome, "FAILED") == 0) != (error_message != NULL))
    return mn_client__fail(err, MN_CLIENT_E_INVAL,
                           "error_message must be given exactly when the outcome is FAILED");
  body = json_pack("{s:s, s:o, s:o}", "outcome", outcome, "final_output", nullable(final_output),
                   "error_message", nullable(error_message));
  if (!body) {
    if (out)
      *out = NULL;
    return mn_client__fail(err, MN_CLIENT_E_INVAL, "cannot encode the result (is it UTF-8?)");
  }
  rc = exec_call(c, "PUT", ex, "/finish", body, out, err);
  json_decref(body);
  return rc;
}

int mn_client_execution_logs(struct mn_client *c, const struct mn_client_execution_ref *ex,
                             int max_lines, const char *initial_offset, json_t **out,
                             struct mn_client_error *err) {
  char *path;
  char num[32];
  int rc = check(c, ex, out, err);
  if (rc < 0)
    return rc;
  path = exec_path(c, ex, "/logs");
  snprintf(num, sizeof num, "%d", max_lines);
  if (path && max_lines > 0 && mn_client__query_add(c, &path, "max_lines", num) < 0) {
    free(path);
    path = NULL;
  }
  if (path && initial_offset && mn_client__query_add(c, &path, "initial_offset",
                                                     initial_offset) < 0) {
    free(path);
    path = NULL;
  }
  return mn_client__call_path(c, "GET", path, NULL, out, err);
}
