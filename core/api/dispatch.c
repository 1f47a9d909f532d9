#include "api/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "util/log.h"

static const char internal_error[] = "{\"detail\":\"Internal Server Error\"}";

void mn_api_output_json(int status, json_t *body, struct mn_api_output *out) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) {
    mn_log_error("api", "cannot serialise a response: out of memory");
    text = strdup(internal_error);
    status = 500;
  }
  out->status = status;
  out->text = text;
  out->len = text ? strlen(text) : 0;
}

void mn_api_output_error(int code, struct mn_api_output *out) {
  mn_api_output_json(mn_error_http_status(code), mn_json_error(mn_strerror(code)), out);
}

void mn_api_dispatch(const struct mn_api_ctx *ctx, struct mn_api_request *req,
                     const char *body, size_t body_len, struct mn_api_output *out) {
  struct mn_api_response res = {0};
  json_t *json = NULL;
  int rc = mn_api_check_params(req, &res);
  if (rc == 0 && req->route->request_schema)
    rc = mn_api_parse_body(body, body_len, &json, &res);
  if (rc == 0) {
    req->body = json;
    rc = req->route->handler(ctx, req, &res);
    req->body = NULL;
  }
  json_decref(json);
  if (res.body) {
    mn_api_output_json(res.status ? res.status : mn_error_http_status(rc), res.body, out);
    return;
  }
  if (rc == 0)
    rc = MN_EINTERNAL; /* a handler that succeeded without a body */
  if (mn_error_http_status(rc) >= 500)
    mn_log_error("api", "%s failed: %s", req->route->operation_id, mn_errname(rc));
  mn_api_output_error(rc, out);
}
