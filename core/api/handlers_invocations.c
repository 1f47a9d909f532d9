/* Handlers of the invocation endpoints (docs/compatibility.md §2.4 rows 9-12). */
#include <strings.h>

#include "api/codec.h"
#include "api/derived_status.h"
#include "api/events.h"
#include "api/routes.h"
#include "metrics/metrics.h"
#include "util/clock.h"

int mn_api_create_invocation(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                             struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation_definition def = {0};
  struct mn_invocation inv = {0};
  struct mn_error err = {0};
  int rc = mn_json_parse_invocation_definition(req->body, &def, &err);
  if (rc == MN_EINVAL) {
    rc = mn_api_reply_invalid(res, &err);
    goto out;
  }
  if (rc != 0)
    goto out;
  struct mn_parent_ref parent = {def.parent_function_name, def.parent_invocation_id};
  struct mn_invocation_options opt = {def.priority, def.start_at, def.concurrency_key,
                                      def.idempotency_key, NULL};
  rc = mn_store_create_invocation_with(ctx->store, &fk,
                                       def.parent_invocation_id ? &parent : NULL, def.input,
                                       &opt, mn_now_us(), &inv);
  if (rc == 0) {
    mn_metrics_invocation_created(inv.function.project_name, inv.function.function_name);
    rc = mn_api_reply(res, mn_json_invocation_info(&inv));
  }
out:
  mn_invocation_release(&inv);
  mn_invocation_definition_release(&def);
  return rc;
}

int mn_api_cancel_invocation(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                             struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  int rc = mn_store_cancel_invocation(ctx->store, &fk, req->params[MN_PARAM_INVOCATION],
                                      mn_now_us(), &inv);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_invocation_info(&inv));
  mn_invocation_release(&inv);
  return rc;
}

/* ?wait_seconds=N (docs/events.md): absent or 0 answers at once. */
#define MAX_WAIT_SECONDS 60

int mn_api_get_invocation(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                          struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  const char *text = mn_api_query(req, "wait_seconds");
  long long wait = 0;
  if (text && (mn_api_parse_integer(text, &wait) != 0 || wait < 0 || wait > MAX_WAIT_SECONDS)) {
    res->status = 400;
    res->body = mn_json_error("wait_seconds must be a whole number of seconds from 0 to 60");
    return res->body ? MN_EINVAL : MN_ENOMEM;
  }
  /* registered before the read, so that an end between the two is seen */
  struct mn_events_wait *w = NULL;
  if (wait > 0 && !req->waited && ctx->events)
    w = mn_events_wait_new(ctx->events, fk.project_name, fk.function_name,
                           req->params[MN_PARAM_INVOCATION],
                           mn_monotonic_us() + wait * MN_US_PER_S);
  int rc = mn_store_get_invocation(ctx->store, &fk, req->params[MN_PARAM_INVOCATION], &inv);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_invocation_info(&inv));
  if (rc == 0 && w && inv.invocation_status != MN_INVOCATION_TERMINATED &&
      !mn_derived_finished(mn_derived_status(&inv))) {
    res->wait = w;
    w = NULL;
  }
  mn_events_wait_free(w);
  mn_invocation_release(&inv);
  return rc;
}

/* The query of list_invocations, validated as the original does before it
 * touches the database: types and bounds (422), then the parent pair (400),
 * then the offset (400). */
static int list_query(const struct mn_api_request *req, struct mn_invocation_query *q,
                      struct mn_page_offset *offset, struct mn_parent_ref *parent,
                      struct mn_api_response *res) {
  const char *offset_text;
  bool has_parent;
  int rc;
  if ((rc = mn_api_query_max_results(req, &q->max_results, res)) != 0 ||
      (rc = mn_api_query_text(req, "initial_offset", &offset_text, res)) != 0 ||
      (rc = mn_api_query_status(req, &q->filter_status, &q->status, res)) != 0 ||
      (rc = mn_api_query_parent(req, &has_parent, parent, res)) != 0)
    return rc;
  q->parent = has_parent ? parent : NULL;
  if (offset_text) {
    if ((rc = mn_page_offset_parse(offset_text, offset)) != 0)
      return rc;
    q->offset = offset;
  }
  return 0;
}

int mn_api_list_invocations(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                            struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation_query q = {0};
  struct mn_page_offset offset;
  struct mn_parent_ref parent;
  struct mn_invocation_page page = {0};
  struct mn_version latest = {0};
  int rc = list_query(req, &q, &offset, &parent, res);
  if (rc != 0)
    goto out;
  /* The list names the version it read: resolve "latest" to its id first. */
  if (strcasecmp(fk.version_ref, "latest") == 0) {
    if ((rc = mn_store_get_version(ctx->store, fk.project_name, fk.version_ref, &latest)) != 0)
      goto out;
    fk.version_ref = latest.version_id;
  }
  rc = mn_store_list_invocations(ctx->store, &fk, &q, &page);
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_invocations_list(fk.project_name, fk.version_ref,
                                                    fk.function_name, &page));
out:
  mn_invocation_page_release(&page);
  mn_version_release(&latest);
  return rc;
}
