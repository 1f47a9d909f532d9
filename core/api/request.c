/* Request helpers: method names, query parameter parsing and body decoding,
 * with 422 answers shaped like FastAPI's (pydantic v1) validation errors. */
#include "api/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/names.h"
#include "api/routes.h"

/* 422 with one pydantic-style item; ctx (stolen) may be NULL. */
static int unprocessable(struct mn_api_response *res, json_t *loc, const char *msg,
                         const char *type, json_t *ctx) {
  json_t *item = json_pack("{s:o, s:s, s:s}", "loc", loc, "msg", msg, "type", type);
  if (item && ctx)
    json_object_set_new(item, "ctx", ctx);
  else
    json_decref(ctx);
  json_t *body = item ? json_pack("{s:[o]}", "detail", item) : NULL;
  json_decref(res->body);
  res->body = body;
  res->status = 422;
  return body ? MN_EINVAL : MN_ENOMEM;
}

static json_t *query_loc(const char *name) { return json_pack("[s,s]", "query", name); }

static const char *const method_names[] = {"GET", "PUT", "POST", "DELETE"};
static const char *const method_lower[] = {"get", "put", "post", "delete", "other"};

enum mn_http_method mn_http_method_parse(const char *name) {
  for (int i = 0; i < MN_HTTP_OTHER; i++)
    if (strcmp(name, method_names[i]) == 0)
      return (enum mn_http_method)i;
  return MN_HTTP_OTHER;
}

const char *mn_http_method_lower(enum mn_http_method m) {
  return (unsigned)m <= MN_HTTP_OTHER ? method_lower[m] : "other";
}

const char *mn_api_query(const struct mn_api_request *req, const char *key) {
  return req->query ? req->query(req->query_cls, key) : NULL;
}

const char *mn_api_header(const struct mn_api_request *req, const char *name) {
  return req->header ? req->header(req->query_cls, name) : NULL;
}

struct mn_function_key mn_api_function_key(const struct mn_api_request *req) {
  struct mn_function_key fk = {
      .project_name = req->params[MN_PARAM_PROJECT],
      .version_ref = req->params[MN_PARAM_VERSION],
      .function_name = req->params[MN_PARAM_FUNCTION],
  };
  return fk;
}

/* The name of the k-th {parameter} of a pattern, into buf. */
static const char *param_name(const char *pattern, size_t k, char *buf, size_t size) {
  const char *open = pattern;
  for (size_t i = 0; (open = strchr(open, '{')) != NULL; i++, open++) {
    if (i != k)
      continue;
    const char *close = strchr(open, '}');
    size_t len = close ? (size_t)(close - open - 1) : 0;
    if (len >= size)
      len = size - 1;
    memcpy(buf, open + 1, len);
    buf[len] = '\0';
    return buf;
  }
  return "";
}

int mn_api_check_params(const struct mn_api_request *req, struct mn_api_response *res) {
  char name[64];
  for (size_t k = 0; k < req->n_params; k++) {
    const char *problem = mn_name_problem(req->params[k], strlen(req->params[k]));
    const char *type = "value_error.str.name";
    if (!mn_utf8_valid(req->params[k])) {
      problem = "string is not valid UTF-8";
      type = "value_error.str.utf8";
    }
    if (!problem)
      continue;
    return unprocessable(res,
                         json_pack("[s,s]", "path",
                                   param_name(req->route->pattern, k, name, sizeof name)),
                         problem, type, NULL);
  }
  return 0;
}

int mn_api_check_target(const char *target, struct mn_api_response *res) {
  struct mn_uri_problem where;
  char name[64];
  if (!mn_uri_find_control(target, &where))
    return 0;
  json_t *loc;
  if (where.in_query)
    loc = where.key[0] && mn_utf8_valid(where.key) ? json_pack("[s,s]", "query", where.key)
                                                   : json_pack("[s]", "query");
  else if (mn_route_param_of_segment(target, where.segment, name, sizeof name))
    loc = json_pack("[s,s]", "path", name);
  else
    loc = json_pack("[s]", "path");
  return unprocessable(res, loc, "string must not contain control characters",
                       "value_error.str.name", NULL);
}

void mn_api_response_release(struct mn_api_response *res) {
  json_decref(res->body);
  res->body = NULL;
  res->status = 0;
}

int mn_api_reply(struct mn_api_response *res, json_t *body) {
  if (!body)
    return MN_ENOMEM;
  json_decref(res->body);
  res->status = 200;
  res->body = body;
  return 0;
}

int mn_api_reply_forbidden(struct mn_api_response *res, const char *fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  res->status = 403;
  res->body = mn_json_error(detail);
  return MN_EAPI_KEY_INVALID;
}

int mn_api_reply_invalid(struct mn_api_response *res, const struct mn_error *err) {
  json_t *body = mn_json_validation_error(err);
  json_decref(res->body);
  res->body = body;
  res->status = 422;
  return body ? MN_EINVAL : MN_ENOMEM;
}

int mn_api_parse_integer(const char *text, long long *out) {
  const char *p = text;
  if (*p == '+' || *p == '-')
    p++;
  if (*p < '0' || *p > '9')
    return MN_EINVAL;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9')
      return MN_EINVAL;
  long long v = strtoll(text, NULL, 10); /* saturates at LLONG_MIN/MAX on ERANGE */
  *out = v;
  return 0;
}

/* An optional integer query parameter >= 1, clamped to limit. */
static int query_bounded_int(const struct mn_api_request *req, const char *name, int limit,
                             int *out, struct mn_api_response *res) {
  const char *text = mn_api_query(req, name);
  long long v;
  if (!text) {
    *out = limit;
    return 0;
  }
  if (mn_api_parse_integer(text, &v) != 0)
    return unprocessable(res, query_loc(name), "value is not a valid integer",
                         "type_error.integer", NULL);
  if (v < 1)
    return unprocessable(res, query_loc(name), "ensure this value is greater than or equal to 1",
                         "value_error.number.not_ge", json_pack("{s:i}", "limit_value", 1));
  *out = v >= limit ? limit : (int)v;
  return 0;
}

int mn_api_query_max_results(const struct mn_api_request *req, int *out,
                             struct mn_api_response *res) {
  return query_bounded_int(req, "max_results", MN_LIST_PAGE_LIMIT, out, res);
}

int mn_api_query_page_size(const struct mn_api_request *req, const char *name, int limit,
                            int *out, struct mn_api_response *res) {
  return query_bounded_int(req, name, limit, out, res);
}

int mn_api_query_max_lines(const struct mn_api_request *req, int *out,
                           struct mn_api_response *res) {
  return query_bounded_int(req, "max_lines", MN_LOG_PAGE_LIMIT, out, res);
}

int mn_api_query_status(const struct mn_api_request *req, bool *present,
                        enum mn_invocation_status *out, struct mn_api_response *res) {
  const char *text = mn_api_query(req, "status");
  *present = text != NULL;
  if (!text || mn_invocation_status_parse(text, out) == 0)
    return 0;
  return unprocessable(res, query_loc("status"),
                       "value is not a valid enumeration member; permitted: 'RUNNING', "
                       "'TERMINATED'",
                       "type_error.enum",
                       json_pack("{s:[s,s]}", "enum_values", "RUNNING", "TERMINATED"));
}

int mn_api_query_text(const struct mn_api_request *req, const char *name, const char **out,
                      struct mn_api_response *res) {
  *out = mn_api_query(req, name);
  if (!*out || mn_utf8_valid(*out))
    return 0;
  return unprocessable(res, query_loc(name), "string is not valid UTF-8", "value_error.str.utf8",
                       NULL);
}

int mn_api_query_parent(const struct mn_api_request *req, bool *has_parent,
                        struct mn_parent_ref *out, struct mn_api_response *res) {
  const char *fn, *id;
  int rc;
  *has_parent = false;
  if ((rc = mn_api_query_text(req, "parent_function_name", &fn, res)) != 0 ||
      (rc = mn_api_query_text(req, "parent_invocation_id", &id, res)) != 0)
    return rc;
  if (fn && !id)
    return MN_EPARENT_INVOCATION_MISSING;
  if (id && !fn)
    return MN_EPARENT_FUNCTION_MISSING;
  if (fn && id) {
    out->function_name = fn;
    out->invocation_id = id;
    *has_parent = true;
  }
  return 0;
}

int mn_api_parse_body(const char *buf, size_t len, json_t **out, struct mn_api_response *res) {
  json_error_t jerr;
  char msg[JSON_ERROR_TEXT_LENGTH + 64];
  *out = NULL;
  if (len == 0)
    return unprocessable(res, json_pack("[s]", "body"), "field required", "value_error.missing",
                         NULL);
  *out = json_loadb(buf ? buf : "", len, JSON_DECODE_ANY, &jerr);
  if (*out)
    return 0;
  /* jansson quotes the raw input, possibly cut inside a character: a
   * JSON string must be UTF-8 */
  mn_utf8_scrub(jerr.text);
  snprintf(msg, sizeof msg, "%s at line %d column %d", jerr.text, jerr.line, jerr.column);
  return unprocessable(res, json_pack("[s,i]", "body", jerr.position), msg,
                       "value_error.jsondecode",
                       json_pack("{s:s, s:i, s:i, s:i}", "msg", jerr.text, "pos", jerr.position,
                                 "lineno", jerr.line, "colno", jerr.column));
}
