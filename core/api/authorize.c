/* The scope of an execution's own key (authorize.h). */
#include "api/authorize.h"

#include <stdio.h>
#include <string.h>

#include "api/codec.h"
#include "store/execution_keys.h"
#include "util/log.h"


static const char *param(const struct mn_api_request *req, enum mn_api_param p) {
  return (size_t)p < req->n_params ? req->params[p] : NULL;
}

static bool eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

enum scope { SCOPE_NONE, SCOPE_OWN_EXECUTION, SCOPE_PROJECT, SCOPE_CREATE, SCOPE_DESCENDANT,
             SCOPE_LIST_DESCENDANTS };

static enum scope scope_of(const char *op) {
  static const struct {
    const char *op;
    enum scope scope;
  } table[] = {
      {"get_execution", SCOPE_OWN_EXECUTION},     {"start_execution", SCOPE_OWN_EXECUTION},
      {"update_execution", SCOPE_OWN_EXECUTION},  {"finish_execution", SCOPE_OWN_EXECUTION},
      {"heartbeat_execution", SCOPE_OWN_EXECUTION},
      {"get_project", SCOPE_PROJECT},             {"get_project_version", SCOPE_PROJECT},
      {"list_project_versions", SCOPE_PROJECT},   {"create_invocation", SCOPE_CREATE},
      {"get_invocation", SCOPE_DESCENDANT},       {"cancel_invocation", SCOPE_DESCENDANT},
      {"list_invocations", SCOPE_LIST_DESCENDANTS},
      {"get_invocation_events", SCOPE_DESCENDANT},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].op, op) == 0)
      return table[i].scope;
  return SCOPE_NONE;
}

/* Whether (function, id) of the key's version is a descendant of the key's
 * invocation. */
static int descends(const struct mn_api_ctx *ctx, const struct mn_execution_identity *me,
                    const char *function, const char *id, bool *out) {
  return mn_store_is_descendant(ctx->store, me->project_name, me->version_id, function, id,
                                me->function_name, me->invocation_id, out);
}

static int check(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                 const struct mn_execution_identity *me, struct mn_api_response *res) {
  const char *op = req->route->operation_id;
  const char *p = param(req, MN_PARAM_PROJECT), *v = param(req, MN_PARAM_VERSION);
  const char *f = param(req, MN_PARAM_FUNCTION), *i = param(req, MN_PARAM_INVOCATION);
  static const char scope[] =
      "it may read and report its own execution, read its project's versions, start "
      "invocations whose parent is its own invocation, and read, list or cancel their "
      "descendants";
  bool ok = false;
  int rc;
  switch (scope_of(op)) {
  case SCOPE_NONE:
    return mn_api_reply_forbidden(res, "an execution's key may not %s: %s", op, scope);
  case SCOPE_OWN_EXECUTION:
    if (eq(p, me->project_name) && eq(v, me->version_id) && eq(f, me->function_name) &&
        eq(i, me->invocation_id) && eq(param(req, MN_PARAM_EXECUTION), me->execution_id))
      return 0;
    return mn_api_reply_forbidden(res, "an execution's key may %s its own execution (%s) only", op,
                  me->execution_id);
  case SCOPE_PROJECT:
    if (eq(p, me->project_name))
      return 0;
    return mn_api_reply_forbidden(res, "an execution's key may read its own project (\"%s\") only",
                  me->project_name);
  case SCOPE_CREATE: {
    const json_t *parent = req->body ? json_object_get(req->body, "parent_invocation") : NULL;
    if (eq(p, me->project_name) && eq(v, me->version_id) && json_is_object(parent) &&
        eq(json_string_value(json_object_get(parent, "function_name")), me->function_name) &&
        eq(json_string_value(json_object_get(parent, "invocation_id")), me->invocation_id))
      return 0;
    return mn_api_reply_forbidden(res,
                  "an execution's key may create invocations only in its own version (%s/%s) "
                  "with its own invocation (%s/%s) as their parent",
                  me->project_name, me->version_id, me->function_name, me->invocation_id);
  }
  case SCOPE_DESCENDANT:
    if (eq(p, me->project_name) && eq(v, me->version_id) &&
        (rc = descends(ctx, me, f, i, &ok)) != 0)
      return rc;
    if (ok)
      return 0;
    return mn_api_reply_forbidden(res, "an execution's key may %s only invocations descending from its own "
                       "(%s/%s)",
                  op, me->function_name, me->invocation_id);
  case SCOPE_LIST_DESCENDANTS: {
    const char *pf = mn_api_query(req, "parent_function_name");
    const char *pi = mn_api_query(req, "parent_invocation_id");
    if (eq(p, me->project_name) && eq(v, me->version_id) && pf && pi) {
      if (eq(pf, me->function_name) && eq(pi, me->invocation_id))
        return 0;
      if ((rc = descends(ctx, me, pf, pi, &ok)) != 0)
        return rc;
      if (ok)
        return 0;
    }
    return mn_api_reply_forbidden(res, "an execution's key may list only the children of its own invocation "
                       "(%s/%s) or of its descendants (parent_function_name and "
                       "parent_invocation_id)",
                  me->function_name, me->invocation_id);
  }
  }
  return mn_api_reply_forbidden(res, "an execution's key may not %s", op);
}

int mn_api_authorize_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                               struct mn_api_response *res) {
  struct mn_execution_identity me;
  int rc = mn_store_execution_by_key(ctx->store, req->principal.key_hash, &me);
  if (rc == MN_EAPI_KEY_INVALID)
    return rc; /* the standard 403 "The API key is invalid" */
  if (rc)
    return rc;
  if (me.worker_status == MN_WORKER_TERMINATED)
    rc = mn_api_reply_forbidden(res, "this key is no longer valid: its execution %s has ended",
                me.execution_id);
  else
    rc = check(ctx, req, &me, res);
  if (rc && res->status == 403)
    mn_log_info("api", "refused %s to the key of execution %s", req->route->operation_id,
                me.execution_id);
  mn_execution_identity_release(&me);
  return rc;
}
