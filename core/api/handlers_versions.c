/* Handlers of the version endpoints (docs/compatibility.md §2.4 rows 6-8). */
#include "api/codec.h"
#include "api/routes.h"
#include "util/clock.h"

int mn_api_create_project_version(const struct mn_api_ctx *ctx,
                                  const struct mn_api_request *req,
                                  struct mn_api_response *res) {
  struct mn_version_definition def = {0};
  struct mn_version v = {0};
  struct mn_error err = {0};
  int rc = mn_json_parse_version_definition(req->body, &def, &err);
  if (rc == MN_EINVAL) {
    rc = mn_api_reply_invalid(res, &err);
    goto out;
  }
  if (rc != 0)
    goto out;
  rc = mn_store_create_version(ctx->store, req->params[MN_PARAM_PROJECT], &def, mn_now_us(), &v);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_version_info(&v));
out:
  mn_version_release(&v);
  mn_version_definition_release(&def);
  return rc;
}

int mn_api_get_project_version(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                               struct mn_api_response *res) {
  struct mn_version v = {0};
  int rc = mn_store_get_version(ctx->store, req->params[MN_PARAM_PROJECT],
                                req->params[MN_PARAM_VERSION], &v);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_version_info(&v));
  mn_version_release(&v);
  return rc;
}

int mn_api_list_project_versions(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                                 struct mn_api_response *res) {
  const char *project = req->params[MN_PARAM_PROJECT];
  struct mn_version_brief *items = NULL;
  size_t n = 0;
  int rc = mn_store_list_versions(ctx->store, project, &items, &n);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_versions_list(project, items, n));
  mn_version_brief_list_free(items, n);
  return rc;
}
