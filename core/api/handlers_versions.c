/* Handlers of the version endpoints (docs/compatibility.md §2.4 rows 6-8). */
#include <stdio.h>
#include <string.h>

#include "api/codec.h"
#include "api/routes.h"
#include "util/clock.h"
#include "multinode/common/utf8.h"

/* Every function that names a provider names one this daemon runs (a
 * typo would otherwise fail each invocation later, at launch): MN_EINVAL
 * with err naming the function's field and the providers there are. No
 * provider list (ctx->providers NULL): nothing to check against. */
static int check_providers(const struct mn_api_ctx *ctx, const struct mn_version_definition *def,
                           struct mn_error *err) {
  json_t *all = NULL;
  struct mn_error perr = {0};
  int rc = 0;
  if (!ctx->providers)
    return 0;
  for (size_t i = 0; rc == 0 && i < def->n_functions; i++) {
    const char *wanted = def->functions[i].provider;
    if (!wanted)
      continue;
    if (!all && (rc = ctx->providers(ctx->providers_ctx, &all, &perr)) != 0)
      break;
    const json_t *list = json_object_get(all, "providers"), *p;
    size_t k;
    bool known = false;
    char names[512] = "";
    size_t used = 0;
    json_array_foreach(list, k, p) {
      const char *name = json_string_value(json_object_get(p, "name"));
      if (!name)
        continue;
      known = known || strcmp(name, wanted) == 0;
      int n = snprintf(names + used, sizeof names - used, "%s\"%s\"", used ? ", " : "", name);
      if (n > 0 && (size_t)n < sizeof names - used)
        used += (size_t)n;
    }
    if (!known) {
      rc = mn_fail(err, MN_EINVAL,
                   "body.functions.%zu.provider: unknown provider; this daemon has %s, not "
                   "\"%s\"",
                   i, used ? names : "none", wanted);
      mn_utf8_scrub(err->msg); /* a long name may have been cut inside a character */
    }
  }
  json_decref(all);
  return rc;
}

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
  if (rc == 0)
    rc = check_providers(ctx, &def, &err);
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
