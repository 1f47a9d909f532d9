/* GET /invocations/{invocation_id} and GET /executions/{execution_id}
 * (additive, issue 19): the id alone is enough. The handler finds where the
 * object lives, then answers exactly as the full path would, after the same
 * authorization the full path gets (dispatch skips it for these routes:
 * their one parameter is not a project). */
#include <string.h>

#include "api/api_keys.h"
#include "api/authorize.h"
#include "api/routes.h"
#include "store/locate.h"

static const struct mn_route *route_of(const char *operation_id) {
  for (size_t i = 0; i < mn_api_n_routes; i++)
    if (strcmp(mn_api_routes[i].operation_id, operation_id) == 0)
      return &mn_api_routes[i];
  return NULL;
}

/* The request of the full path, with req's key, query and headers. */
static int answer_as(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                     const char *operation_id, const struct mn_execution_identity *at,
                     struct mn_api_response *res) {
  struct mn_api_request full = *req;
  full.route = route_of(operation_id);
  if (!full.route)
    return MN_EINTERNAL;
  full.params[MN_PARAM_PROJECT] = at->project_name;
  full.params[MN_PARAM_VERSION] = at->version_id;
  full.params[MN_PARAM_FUNCTION] = at->function_name;
  full.params[MN_PARAM_INVOCATION] = at->invocation_id;
  full.params[MN_PARAM_EXECUTION] = at->execution_id;
  full.n_params = at->execution_id ? 5 : 4;
  int rc = 0;
  /* a key limited to other projects is not told that the id exists */
  if (req->principal.kind == MN_PRINCIPAL_OPERATOR &&
      !mn_api_key_allows_project(req->principal.key, at->project_name))
    return at->execution_id ? MN_EEXECUTION_NOT_FOUND : MN_EINVOCATION_NOT_FOUND;
  if (req->principal.kind == MN_PRINCIPAL_EXECUTION)
    rc = mn_api_authorize_execution(ctx, &full, res);
  else if (req->principal.kind == MN_PRINCIPAL_OPERATOR)
    rc = mn_api_role_check(req->principal.key, &full, res);
  return rc ? rc : full.route->handler(ctx, &full, res);
}

int mn_api_get_invocation_by_id(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                                struct mn_api_response *res) {
  struct mn_execution_identity at;
  int rc = mn_store_locate_invocation(ctx->store, req->params[0], &at);
  if (rc == 0)
    rc = answer_as(ctx, req, "get_invocation", &at, res);
  mn_execution_identity_release(&at);
  return rc;
}

int mn_api_get_execution_by_id(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                               struct mn_api_response *res) {
  struct mn_execution_identity at;
  int rc = mn_store_locate_execution(ctx->store, req->params[0], &at);
  if (rc == 0)
    rc = answer_as(ctx, req, "get_execution", &at, res);
  mn_execution_identity_release(&at);
  return rc;
}
