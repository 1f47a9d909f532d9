/* Handlers that touch no project: the health check, the container
 * repository credentials (docs/compatibility.md §2.4 rows 1 and 18) and the list of
 * providers (additive). */
#include "api/codec.h"
#include "api/readiness.h"
#include "api/routes.h"
#include "util/log.h"

int mn_api_health_check(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                        struct mn_api_response *res) {
  return mn_api_reply(res, mn_json_health());
}

int mn_api_get_container_repository_credentials(const struct mn_api_ctx *ctx,
                                                const struct mn_api_request *req,
                                                struct mn_api_response *res) {
  struct mn_error err = {0};
  json_t *out = NULL;
  if (!ctx->credentials)
    return mn_api_reply(res, json_pack("{s:s, s:s, s:s, s:s}", "repository_name",
                                       "multinode-local", "username", "", "password", "",
                                       "endpoint_url", ""));
  int rc = ctx->credentials(ctx->credentials_ctx, &out, &err);
  if (rc != 0) {
    mn_log_warn("api", "cannot get container repository credentials: %s", err.msg);
    return rc;
  }
  return mn_api_reply(res, out);
}

int mn_api_list_providers(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                          struct mn_api_response *res) {
  struct mn_error err = {0};
  json_t *out = NULL;
  (void)req;
  if (!ctx->providers)
    return mn_api_reply(res, json_pack("{s:s, s:[]}", "default", "", "providers"));
  int rc = ctx->providers(ctx->providers_ctx, &out, &err);
  if (rc != 0) {
    mn_log_warn("api", "cannot list the providers: %s", err.msg);
    return rc;
  }
  return mn_api_reply(res, out);
}

/* GET /healthz and GET /readyz (additive), from memory: the route table
 * runs them on the network thread, never behind database-bound handlers. */
int mn_api_liveness(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                    struct mn_api_response *res) {
  return mn_api_reply(res, mn_json_health());
}

int mn_api_readiness(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                     struct mn_api_response *res) {
  bool ready = false;
  json_t *body = ctx->readiness ? mn_readiness_report(ctx->readiness, &ready)
                                : json_pack("{s:b, s:[s]}", "ready", 0, "reasons",
                                            "this server does not check its readiness");
  int rc = mn_api_reply(res, body);
  if (rc == 0 && !ready)
    res->status = 503;
  return rc;
}
