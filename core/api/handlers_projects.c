/* Handlers of the project endpoints (docs/compatibility.md §2.4 rows 2-5). */
#include <string.h>

#include "api/codec.h"
#include "api/routes.h"
#include "util/clock.h"

/* The project as the answer when rc is 0; p released either way. */
static int reply_project(struct mn_api_response *res, int rc, struct mn_project *p) {
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_project_info(p));
  mn_project_release(p);
  return rc;
}

int mn_api_create_project(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                          struct mn_api_response *res) {
  const char *name = req->params[MN_PARAM_PROJECT];
  struct mn_project p = {0};
  if (mn_utf8_length(name, strlen(name)) > MN_PROJECT_NAME_LENGTH_LIMIT)
    return MN_EPROJECT_NAME_TOO_LONG;
  int rc = mn_store_create_project(ctx->store, name, mn_now_us(), &p);
  return reply_project(res, rc, &p);
}

int mn_api_delete_project(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                          struct mn_api_response *res) {
  struct mn_project p = {0};
  int rc = mn_store_request_project_deletion(ctx->store, req->params[MN_PARAM_PROJECT],
                                             mn_now_us(), &p);
  return reply_project(res, rc, &p);
}

int mn_api_get_project(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                       struct mn_api_response *res) {
  struct mn_project p = {0};
  int rc = mn_store_get_project(ctx->store, req->params[MN_PARAM_PROJECT], &p);
  return reply_project(res, rc, &p);
}

int mn_api_list_projects(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                         struct mn_api_response *res) {
  struct mn_project *items = NULL;
  size_t n = 0;
  int rc = mn_store_list_projects(ctx->store, &items, &n);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_projects_list(items, n));
  mn_project_list_free(items, n);
  return rc;
}
