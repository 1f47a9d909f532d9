/* Handlers of the execution endpoints, the worker protocol (docs/compatibility.md §2.4
 * rows 13-17). */
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/routes.h"
#include "metrics/metrics.h"
#include "util/clock.h"
#include "util/log.h"

#define IID(req) ((req)->params[MN_PARAM_INVOCATION])
#define EID(req) ((req)->params[MN_PARAM_EXECUTION])

/* The key the store checks with the write (store.h), or NULL. */
static const char *store_key(const struct mn_api_request *req) {
  return req->principal.kind == MN_PRINCIPAL_EXECUTION && req->principal.key_in_store
             ? req->principal.key_hash
             : NULL;
}

/* Answers ExecutionInfo for a store call that filled inv, then releases it. */
static int reply_execution(int rc, struct mn_invocation *inv, struct mn_api_response *res) {
  if (rc == 0)
    rc = mn_api_reply(res, mn_json_execution_info(inv));
  mn_invocation_release(inv);
  return rc;
}

int mn_api_start_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                           struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  /* A worker names itself with a claim token: its own start, retried after
   * a lost answer, is then answered again instead of refused (additive;
   * without the header this is the original's start). */
  const char *token = mn_api_header(req, MN_API_CLAIM_TOKEN_HEADER);
  if (token && (!*token || strlen(token) > 128))
    token = NULL;
  int rc = mn_store_claim_execution(ctx->store, &fk, IID(req), EID(req), store_key(req), token,
                                    mn_now_us(),
                                    &inv);
  if (rc == 0 && inv.n_executions == 1)
    mn_metrics_dispatch_latency(inv.executions[0].execution_start_time - inv.creation_time);
  return reply_execution(rc, &inv, res);
}

int mn_api_update_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                            struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  struct mn_error err = {0};
  char *latest_output = NULL;
  int rc = mn_json_parse_temporary_result(req->body, &latest_output, &err);
  if (rc == MN_EINVAL)
    return mn_api_reply_invalid(res, &err);
  if (rc == 0)
    rc = mn_store_update_execution(ctx->store, &fk, IID(req), EID(req), store_key(req),
                                   latest_output, mn_now_us(), &inv);
  free(latest_output);
  return reply_execution(rc, &inv, res);
}

/* Additive (docs/compatibility.md, "Task semantics"): no body. */
int mn_api_heartbeat_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                               struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  int rc = mn_store_heartbeat_execution(ctx->store, &fk, IID(req), EID(req), store_key(req),
                                        mn_now_us(), &inv);
  return reply_execution(rc, &inv, res);
}

int mn_api_finish_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                            struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  struct mn_final_result fr = {0};
  struct mn_error err = {0};
  int rc = mn_json_parse_final_result(req->body, &fr, &err);
  if (rc == MN_EINVAL)
    return mn_api_reply_invalid(res, &err);
  if (rc == 0)
    rc = mn_store_finish_execution(ctx->store, &fk, IID(req), EID(req), store_key(req), fr.outcome,
                                   fr.final_output, fr.error_message, mn_now_us(), &inv);
  if (rc == 0 && inv.n_executions == 1)
    mn_metrics_attempt_duration(inv.executions[0].execution_finish_time -
                                inv.executions[0].execution_start_time);
  mn_final_result_release(&fr);
  return reply_execution(rc, &inv, res);
}

int mn_api_get_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                         struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  int rc = mn_store_get_execution(ctx->store, &fk, IID(req), EID(req), &inv);
  return reply_execution(rc, &inv, res);
}

int mn_api_get_execution_logs(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                              struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  struct mn_error err = {0};
  json_t *lines = NULL;
  char *next_offset = NULL;
  const char *initial_offset;
  int max_lines;
  int rc;
  if ((rc = mn_api_query_max_lines(req, &max_lines, res)) != 0 ||
      (rc = mn_api_query_text(req, "initial_offset", &initial_offset, res)) != 0)
    return rc;
  rc = mn_store_get_execution(ctx->store, &fk, IID(req), EID(req), &inv);
  if (rc != 0)
    goto out;
  /* No worker yet (or it never got one): nothing has been logged. */
  if (ctx->logs && inv.n_executions > 0 && inv.executions[0].worker_details) {
    rc = ctx->logs(ctx->logs_ctx, &inv, initial_offset, max_lines, &lines, &next_offset, &err);
    if (rc != 0) {
      /* the provider's own words say more than the code's generic detail */
      mn_log_warn("api", "cannot read the logs of execution \"%s\": %s", EID(req), err.msg);
      if (err.msg[0]) {
        res->status = mn_error_http_status(rc);
        res->body = mn_json_error(err.msg);
      }
      goto out;
    }
  }
  rc = mn_api_reply(res, mn_json_execution_logs(&inv, lines, next_offset));
out:
  json_decref(lines);
  free(next_offset);
  mn_invocation_release(&inv);
  return rc;
}
