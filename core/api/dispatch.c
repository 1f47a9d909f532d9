#include "api/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_keys.h"
#include "api/authorize.h"
#include "api/codec.h"
#include "api/events.h"
#include "util/json_reals.h"
#include "util/log.h"

static const char internal_error[] = "{\"detail\":\"Internal Server Error\"}";

void mn_api_output_json(int status, json_t *body, struct mn_api_output *out) {
  char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(
                                                         mn_json_real_digits(body)))
                    : NULL;
  json_decref(body);
  if (!text) {
    mn_log_error("api", "cannot serialise a response: out of memory");
    text = strdup(internal_error);
    status = 500;
  }
  out->status = status;
  out->text = text;
  out->len = text ? strlen(text) : 0;
  out->stream = NULL;
  out->wait = NULL;
}

void mn_api_output_error(int code, struct mn_api_output *out) {
  mn_api_output_json(mn_error_http_status(code), mn_json_error(mn_strerror(code)), out);
}

/* A key limited to some projects lists only those (GET /projects). */
static void only_allowed_projects(const struct mn_api_key_entry *key, json_t *body) {
  json_t *list = json_object_get(body, "projects");
  if (!json_is_array(list))
    return;
  for (size_t i = json_array_size(list); i-- > 0;) {
    const char *name = json_string_value(json_object_get(json_array_get(list, i), "project_name"));
    if (!mn_api_key_allows_project(key, name))
      json_array_remove(list, i);
  }
}

/* A worker call on its execution's own key, at the execution's own path
 * with a concrete version (the key's scope, api/authorize.h, refuses
 * "latest"): the store checks the key in the statement that writes
 * (store.h), one round trip instead of a lookup and a write. */
static bool key_in_store(const struct mn_api_request *req) {
  static const char *const ops[] = {"start_execution", "update_execution",
                                    "heartbeat_execution", "finish_execution"};
  const char *v = req->n_params > MN_PARAM_VERSION ? req->params[MN_PARAM_VERSION] : NULL;
  if (req->principal.kind != MN_PRINCIPAL_EXECUTION || mn_route_by_id(req->route) || !v ||
      strcasecmp(v, "latest") == 0)
    return false;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(req->route->operation_id, ops[i]) == 0)
      return true;
  return false;
}

void mn_api_dispatch(const struct mn_api_ctx *ctx, struct mn_api_request *req,
                     const char *body, size_t body_len, struct mn_api_output *out) {
  struct mn_api_response res = {0};
  json_t *json = NULL;
  int rc = mn_api_check_params(req, &res);
  if (rc == 0 && req->route->request_schema)
    rc = mn_api_parse_body(body, body_len, &json, &res);
  req->principal.key_in_store = rc == 0 && key_in_store(req);
  if (rc == 0 && req->principal.kind == MN_PRINCIPAL_EXECUTION && !mn_route_by_id(req->route) &&
      !req->principal.key_in_store) {
    req->body = json;
    rc = mn_api_authorize_execution(ctx, req, &res);
  }
  if (rc == 0 && req->principal.kind == MN_PRINCIPAL_OPERATOR && !mn_route_by_id(req->route))
    rc = mn_api_role_check(req->principal.key, req, &res);
  if (rc == 0) {
    req->body = json;
    rc = req->route->handler(ctx, req, &res);
    if (rc != 0 && req->principal.key_in_store) {
      /* not applied (or refused before the store): the key is checked the
       * long way, so that its refusal comes first as before, then the call
       * runs again for the reason */
      json_decref(res.body);
      res = (struct mn_api_response){0};
      req->principal.key_in_store = false;
      rc = mn_api_authorize_execution(ctx, req, &res);
      if (rc == 0)
        rc = req->route->handler(ctx, req, &res);
    }
    req->body = NULL;
  }
  if (rc == 0 && req->principal.kind == MN_PRINCIPAL_OPERATOR && res.body)
    only_allowed_projects(req->principal.key, res.body);
  json_decref(json);
  out->stream = NULL;
  out->wait = NULL;
  if (rc == 0 && res.stream) {
    json_decref(res.body);
    out->stream = res.stream;
    out->status = 200;
    out->text = NULL;
    out->len = 0;
    return;
  }
  if (rc != 0 || !res.body) {
    mn_events_wait_free(res.wait);
    res.wait = NULL;
  }
  if (res.body) {
    mn_api_output_json(res.status ? res.status : mn_error_http_status(rc), res.body, out);
    out->wait = res.wait;
    return;
  }
  if (rc == 0)
    rc = MN_EINTERNAL; /* a handler that succeeded without a body */
  if (mn_error_http_status(rc) >= 500)
    mn_log_error("api", "%s failed: %s", req->route->operation_id, mn_errname(rc));
  mn_api_output_error(rc, out);
}
