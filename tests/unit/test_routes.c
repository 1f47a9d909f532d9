/* The router, the query/body parsers and the OpenAPI document generated from
 * the same route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/openapi.h"
#include "api/request.h"
#include "api/routes.h"

static const char *const expected_ops[] = {
    "health_check", "create_project", "delete_project", "get_project", "list_projects",
    "create_project_version", "get_project_version", "list_project_versions",
    "create_invocation", "cancel_invocation", "get_invocation", "list_invocations",
    "start_execution", "update_execution", "finish_execution", "get_execution",
    "get_execution_logs", "get_container_repository_credentials",
    /* additive */
    "get_invocation_by_id", "get_execution_by_id", "list_providers", "get_liveness",
    "get_readiness", "heartbeat_execution", "get_invocation_events", "get_project_events",
    "get_events", "get_execution_progress"};
#define N_OPS (sizeof expected_ops / sizeof expected_ops[0])

/* Matches METHOD PATH; returns the operation id or the error code as text. */
static const char *route_of(enum mn_http_method m, const char *path,
                            struct mn_api_request *req, char *buf) {
  strcpy(buf, path);
  memset(req, 0, sizeof *req);
  int rc = mn_route_match(m, buf, req);
  if (rc == MN_ENOTFOUND_ROUTE)
    return "404";
  if (rc == MN_EMETHOD)
    return "405";
  return rc == 0 ? req->route->operation_id : "?";
}

static void test_table_has_every_operation_once(void **state) {
  assert_int_equal(mn_api_n_routes, N_OPS);
  for (size_t i = 0; i < N_OPS; i++) {
    int seen = 0;
    for (size_t k = 0; k < mn_api_n_routes; k++)
      seen += strcmp(mn_api_routes[k].operation_id, expected_ops[i]) == 0;
    assert_int_equal(seen, 1);
  }
}

static void test_match_paths_and_params(void **state) {
  struct mn_api_request req;
  char buf[512];
  const char *base = "/projects/p1/versions/latest/functions/fn/invocations";
  char path[512];

  assert_string_equal(route_of(MN_HTTP_GET, "/", &req, buf), "health_check");
  assert_int_equal(req.n_params, 0);
  assert_string_equal(route_of(MN_HTTP_GET, "/projects", &req, buf), "list_projects");
  assert_string_equal(route_of(MN_HTTP_PUT, "/projects/alpha", &req, buf), "create_project");
  assert_int_equal(req.n_params, 1);
  assert_string_equal(req.params[MN_PARAM_PROJECT], "alpha");
  assert_string_equal(route_of(MN_HTTP_DELETE, "/projects/alpha", &req, buf), "delete_project");
  assert_string_equal(route_of(MN_HTTP_GET, "/projects/alpha", &req, buf), "get_project");
  assert_string_equal(route_of(MN_HTTP_POST, "/projects/a/versions", &req, buf),
                      "create_project_version");
  assert_string_equal(route_of(MN_HTTP_GET, "/projects/a/versions", &req, buf),
                      "list_project_versions");
  assert_string_equal(route_of(MN_HTTP_GET, "/projects/a/versions/ver-1", &req, buf),
                      "get_project_version");
  assert_string_equal(req.params[MN_PARAM_PROJECT], "a");
  assert_string_equal(req.params[MN_PARAM_VERSION], "ver-1");

  assert_string_equal(route_of(MN_HTTP_POST, base, &req, buf), "create_invocation");
  assert_string_equal(route_of(MN_HTTP_GET, base, &req, buf), "list_invocations");
  assert_int_equal(req.n_params, 3);
  assert_string_equal(req.params[MN_PARAM_VERSION], "latest");
  assert_string_equal(req.params[MN_PARAM_FUNCTION], "fn");
  snprintf(path, sizeof path, "%s/inv-9", base);
  assert_string_equal(route_of(MN_HTTP_GET, path, &req, buf), "get_invocation");
  assert_string_equal(req.params[MN_PARAM_INVOCATION], "inv-9");
  snprintf(path, sizeof path, "%s/inv-9/cancel", base);
  assert_string_equal(route_of(MN_HTTP_PUT, path, &req, buf), "cancel_invocation");

  static const char *const exe_ops[][2] = {{"", "get_execution"},
                                           {"/start", "start_execution"},
                                           {"/update", "update_execution"},
                                           {"/finish", "finish_execution"},
                                           {"/logs", "get_execution_logs"}};
  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/inv-9/executions/exe-3%s", base, exe_ops[i][0]);
    enum mn_http_method m = i == 0 || i == 4 ? MN_HTTP_GET : MN_HTTP_PUT;
    assert_string_equal(route_of(m, path, &req, buf), exe_ops[i][1]);
    assert_int_equal(req.n_params, 5);
    assert_string_equal(req.params[MN_PARAM_PROJECT], "p1");
    assert_string_equal(req.params[MN_PARAM_INVOCATION], "inv-9");
    assert_string_equal(req.params[MN_PARAM_EXECUTION], "exe-3");
  }
  assert_string_equal(route_of(MN_HTTP_GET, "/container_repository_credentials", &req, buf),
                      "get_container_repository_credentials");
}

static void test_unknown_paths_and_methods(void **state) {
  struct mn_api_request req;
  char buf[512];
  assert_string_equal(route_of(MN_HTTP_GET, "/nope", &req, buf), "404");
  assert_string_equal(route_of(MN_HTTP_GET, "/projects/", &req, buf), "404");
  assert_string_equal(route_of(MN_HTTP_GET, "/projects//versions", &req, buf), "404");
  assert_string_equal(route_of(MN_HTTP_GET, "/projects/a/b", &req, buf), "404");
  assert_string_equal(route_of(MN_HTTP_GET, "", &req, buf), "404");
  assert_string_equal(route_of(MN_HTTP_GET, "/projectsx", &req, buf), "404");
  assert_string_equal(route_of(MN_HTTP_POST, "/", &req, buf), "405");
  assert_string_equal(route_of(MN_HTTP_POST, "/projects/a", &req, buf), "405");
  assert_string_equal(route_of(MN_HTTP_OTHER, "/projects", &req, buf), "405");
  assert_string_equal(
      route_of(MN_HTTP_GET, "/projects/p/versions/v/functions/f/invocations/i/cancel", &req, buf),
      "405");
  assert_string_equal(
      route_of(MN_HTTP_GET, "/projects/p/versions/v/functions/f/invocations/i/executions", &req,
               buf),
      "404");
}

static void test_method_names(void **state) {
  assert_int_equal(mn_http_method_parse("GET"), MN_HTTP_GET);
  assert_int_equal(mn_http_method_parse("PUT"), MN_HTTP_PUT);
  assert_int_equal(mn_http_method_parse("POST"), MN_HTTP_POST);
  assert_int_equal(mn_http_method_parse("DELETE"), MN_HTTP_DELETE);
  assert_int_equal(mn_http_method_parse("get"), MN_HTTP_OTHER);
  assert_int_equal(mn_http_method_parse("HEAD"), MN_HTTP_OTHER);
}

/* A query made of "key=value" strings. */
struct fake_query {
  const char *const *pairs;
};

static const char *fake_lookup(void *cls, const char *key) {
  const struct fake_query *q = cls;
  size_t len = strlen(key);
  for (const char *const *p = q->pairs; *p; p++)
    if (strncmp(*p, key, len) == 0 && (*p)[len] == '=')
      return *p + len + 1;
  return NULL;
}

static int max_results_of(const char *value, int *out, struct mn_api_response *res) {
  const char *pairs[] = {value, NULL};
  struct fake_query q = {value ? pairs : (const char *[]){NULL}};
  struct mn_api_request req = {.query = fake_lookup, .query_cls = &q};
  return mn_api_query_max_results(&req, out, res);
}

static void assert_422(struct mn_api_response *res, const char *loc1, const char *type) {
  assert_int_equal(res->status, 422);
  json_t *item = json_array_get(json_object_get(res->body, "detail"), 0);
  assert_non_null(item);
  json_t *loc = json_object_get(item, "loc");
  if (loc1)
    assert_string_equal(json_string_value(json_array_get(loc, 1)), loc1);
  assert_string_equal(json_string_value(json_object_get(item, "type")), type);
  assert_non_null(json_string_value(json_object_get(item, "msg")));
  mn_api_response_release(res);
}

static void test_max_results(void **state) {
  struct mn_api_response res = {0};
  int v = 0;
  assert_int_equal(max_results_of(NULL, &v, &res), 0);
  assert_int_equal(v, 50);
  assert_int_equal(max_results_of("max_results=7", &v, &res), 0);
  assert_int_equal(v, 7);
  assert_int_equal(max_results_of("max_results=1", &v, &res), 0);
  assert_int_equal(v, 1);
  assert_int_equal(max_results_of("max_results=50", &v, &res), 0);
  assert_int_equal(v, 50);
  assert_int_equal(max_results_of("max_results=51", &v, &res), 0);
  assert_int_equal(v, 50);
  assert_int_equal(max_results_of("max_results=99999999999999999999999", &v, &res), 0);
  assert_int_equal(v, 50);
  assert_null(res.body);
  assert_int_equal(max_results_of("max_results=0", &v, &res), MN_EINVAL);
  assert_422(&res, "max_results", "value_error.number.not_ge");
  assert_int_equal(max_results_of("max_results=-3", &v, &res), MN_EINVAL);
  assert_422(&res, "max_results", "value_error.number.not_ge");
  assert_int_equal(max_results_of("max_results=abc", &v, &res), MN_EINVAL);
  assert_422(&res, "max_results", "type_error.integer");
  assert_int_equal(max_results_of("max_results=", &v, &res), MN_EINVAL);
  assert_422(&res, "max_results", "type_error.integer");
  assert_int_equal(max_results_of("max_results=5x", &v, &res), MN_EINVAL);
  assert_422(&res, "max_results", "type_error.integer");
  assert_int_equal(max_results_of("max_results=1.5", &v, &res), MN_EINVAL);
  assert_422(&res, "max_results", "type_error.integer");
}

static void test_max_lines_status_parent(void **state) {
  struct mn_api_response res = {0};
  const char *none[] = {NULL};
  struct fake_query q = {none};
  struct mn_api_request req = {.query = fake_lookup, .query_cls = &q};
  int v;
  bool present;
  enum mn_invocation_status st;
  struct mn_parent_ref parent;

  assert_int_equal(mn_api_query_max_lines(&req, &v, &res), 0);
  assert_int_equal(v, 250);
  assert_int_equal(mn_api_query_status(&req, &present, &st, &res), 0);
  assert_false(present);
  assert_int_equal(mn_api_query_parent(&req, &present, &parent, &res), 0);
  assert_false(present);

  const char *some[] = {"max_lines=300", "status=TERMINATED", "parent_function_name=f",
                        "parent_invocation_id=inv-1", NULL};
  q.pairs = some;
  assert_int_equal(mn_api_query_max_lines(&req, &v, &res), 0);
  assert_int_equal(v, 250);
  assert_int_equal(mn_api_query_status(&req, &present, &st, &res), 0);
  assert_true(present);
  assert_int_equal(st, MN_INVOCATION_TERMINATED);
  assert_int_equal(mn_api_query_parent(&req, &present, &parent, &res), 0);
  assert_true(present);
  assert_string_equal(parent.function_name, "f");
  assert_string_equal(parent.invocation_id, "inv-1");

  const char *bad[] = {"max_lines=0", "status=running", "parent_function_name=f", NULL};
  q.pairs = bad;
  assert_int_equal(mn_api_query_max_lines(&req, &v, &res), MN_EINVAL);
  assert_422(&res, "max_lines", "value_error.number.not_ge");
  assert_int_equal(mn_api_query_status(&req, &present, &st, &res), MN_EINVAL);
  assert_422(&res, "status", "type_error.enum");
  assert_int_equal(mn_api_query_parent(&req, &present, &parent, &res),
                   MN_EPARENT_INVOCATION_MISSING);
  const char *only_id[] = {"parent_invocation_id=inv-1", "max_lines=12", NULL};
  q.pairs = only_id;
  assert_int_equal(mn_api_query_parent(&req, &present, &parent, &res),
                   MN_EPARENT_FUNCTION_MISSING);
  assert_int_equal(mn_api_query_max_lines(&req, &v, &res), 0);
  assert_int_equal(v, 12);
  const char *bad_utf8[] = {"parent_invocation_id=\xff", "parent_function_name=f", NULL};
  q.pairs = bad_utf8;
  assert_int_equal(mn_api_query_parent(&req, &present, &parent, &res), MN_EINVAL);
  assert_422(&res, "parent_invocation_id", "value_error.str.utf8");
}

static void test_body_parsing(void **state) {
  struct mn_api_response res = {0};
  json_t *body = NULL;
  assert_int_equal(mn_api_parse_body("{\"a\": [1, 2]}", 13, &body, &res), 0);
  assert_non_null(body);
  assert_int_equal(json_integer_value(json_array_get(json_object_get(body, "a"), 1)), 2);
  json_decref(body);

  assert_int_equal(mn_api_parse_body(NULL, 0, &body, &res), MN_EINVAL);
  assert_null(body);
  json_t *item = json_array_get(json_object_get(res.body, "detail"), 0);
  assert_string_equal(json_string_value(json_object_get(item, "msg")), "field required");
  assert_string_equal(json_string_value(json_array_get(json_object_get(item, "loc"), 0)), "body");
  assert_422(&res, NULL, "value_error.missing");

  const char *broken = "{\"a\":\n  tru}";
  assert_int_equal(mn_api_parse_body(broken, strlen(broken), &body, &res), MN_EINVAL);
  item = json_array_get(json_object_get(res.body, "detail"), 0);
  json_t *loc = json_object_get(item, "loc");
  assert_string_equal(json_string_value(json_array_get(loc, 0)), "body");
  assert_true(json_is_integer(json_array_get(loc, 1)));
  assert_true(json_integer_value(json_array_get(loc, 1)) > 0);
  assert_non_null(strstr(json_string_value(json_object_get(item, "msg")), " at line 2 column "));
  assert_422(&res, NULL, "value_error.jsondecode");

  /* any JSON value decodes; the codec then says what shape it wanted */
  assert_int_equal(mn_api_parse_body("\"text\"", 6, &body, &res), 0);
  assert_true(json_is_string(body));
  json_decref(body);
}

static void test_utf8_and_params(void **state) {
  assert_true(mn_utf8_valid("plain"));
  assert_true(mn_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  assert_false(mn_utf8_valid("\xff"));
  assert_false(mn_utf8_valid("\xc3"));
  assert_false(mn_utf8_valid("\xc0\xaf"));         /* overlong */
  assert_false(mn_utf8_valid("\xed\xa0\x80"));     /* surrogate */
  assert_false(mn_utf8_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */

  struct mn_api_request req;
  struct mn_api_response res = {0};
  char buf[128];
  route_of(MN_HTTP_GET, "/projects/ok/versions/v\xff", &req, buf);
  assert_int_equal(mn_api_check_params(&req, &res), MN_EINVAL);
  json_t *loc = json_object_get(json_array_get(json_object_get(res.body, "detail"), 0), "loc");
  assert_string_equal(json_string_value(json_array_get(loc, 0)), "path");
  assert_string_equal(json_string_value(json_array_get(loc, 1)), "version_ref");
  mn_api_response_release(&res);
  route_of(MN_HTTP_GET, "/projects/ok/versions/v1", &req, buf);
  assert_int_equal(mn_api_check_params(&req, &res), 0);
  assert_null(res.body);
}

/* Names in the path: no control characters, not "." or "..". */
static void test_names_in_params(void **state) {
  static const struct {
    const char *path, *param, *msg;
  } bad[] = {
      {"/projects/..", "project_name", "string must not be \".\" or \"..\""},
      {"/projects/.", "project_name", "string must not be \".\" or \"..\""},
      {"/projects/p/versions/..", "version_ref", "string must not be \".\" or \"..\""},
      {"/projects/a\nb", "project_name", "string must not contain control characters"},
      {"/projects/p/versions/v/functions/f\x7f/invocations", "function_name",
       "string must not contain control characters"},
      {"/projects/p/versions/v/functions/f/invocations/\xc2\x9b", "invocation_id",
       "string must not contain control characters"},
  };
  struct mn_api_request req;
  struct mn_api_response res = {0};
  char buf[256];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_string_not_equal(route_of(MN_HTTP_GET, bad[i].path, &req, buf), "404");
    assert_int_equal(mn_api_check_params(&req, &res), MN_EINVAL);
    json_t *item = json_array_get(json_object_get(res.body, "detail"), 0);
    json_t *loc = json_object_get(item, "loc");
    assert_string_equal(json_string_value(json_array_get(loc, 1)), bad[i].param);
    assert_string_equal(json_string_value(json_object_get(item, "msg")), bad[i].msg);
    assert_string_equal(json_string_value(json_object_get(item, "type")), "value_error.str.name");
    mn_api_response_release(&res);
  }
  /* dots inside a name are fine */
  route_of(MN_HTTP_GET, "/projects/a.b/versions/...", &req, buf);
  assert_int_equal(mn_api_check_params(&req, &res), 0);
}

/* The raw target, before decoding: %00 and every other control character,
 * in the path or the query, with the parameter it falls in. */
static void test_target_control_characters(void **state) {
  static const struct {
    const char *target, *loc0, *loc1;
  } bad[] = {
      {"/projects/a%00b", "path", "project_name"},
      {"/projects/a%0Ab", "path", "project_name"},
      {"/projects/p/versions/latest/functions/f%0d/invocations", "path", "function_name"},
      {"/projects/p/versions/latest/functions/f/invocations/i%09/executions/e", "path",
       "invocation_id"},
      {"/projects/p/versions/latest/functions/f/invocations/i/executions/e%7F/start", "path",
       "execution_id"},
      {"/projects/p/versions/v%c2%85", "path", "version_ref"},
      {"/proj%00ects", "path", NULL},
      {"/projects/p/versions/v/functions/f/invocations?parent_invocation_id=a%00", "query",
       "parent_invocation_id"},
      {"/projects/p/versions/v/functions/f/invocations?x=1&parent_function_name=%1b", "query",
       "parent_function_name"},
      {"/projects?a%00=1", "query", NULL},
  };
  struct mn_api_response res = {0};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(mn_api_check_target(bad[i].target, &res), MN_EINVAL);
    assert_int_equal(res.status, 422);
    json_t *loc = json_object_get(json_array_get(json_object_get(res.body, "detail"), 0), "loc");
    assert_string_equal(json_string_value(json_array_get(loc, 0)), bad[i].loc0);
    if (bad[i].loc1)
      assert_string_equal(json_string_value(json_array_get(loc, 1)), bad[i].loc1);
    else
      assert_int_equal(json_array_size(loc), 1);
    mn_api_response_release(&res);
  }
  static const char *const good[] = {
      "/", "/projects/caf%C3%A9", "/projects/a%2Fb", "/projects?x=a+b", "/projects/%", "/%zz",
      "/projects/p/versions/v/functions/f/invocations?parent_function_name=f&x=%20",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal(mn_api_check_target(good[i], &res), 0);
    assert_null(res.body);
  }
}

static void test_param_of_segment(void **state) {
  char buf[64];
  const char *base = "/projects/p/versions/v/functions/f/invocations/i/executions/e/start";
  assert_string_equal(mn_route_param_of_segment(base, 1, buf, sizeof buf), "project_name");
  assert_string_equal(mn_route_param_of_segment(base, 3, buf, sizeof buf), "version_ref");
  assert_string_equal(mn_route_param_of_segment(base, 5, buf, sizeof buf), "function_name");
  assert_string_equal(mn_route_param_of_segment(base, 7, buf, sizeof buf), "invocation_id");
  assert_string_equal(mn_route_param_of_segment(base, 9, buf, sizeof buf), "execution_id");
  assert_null(mn_route_param_of_segment(base, 0, buf, sizeof buf));  /* "projects" */
  assert_null(mn_route_param_of_segment(base, 10, buf, sizeof buf)); /* "start" */
  assert_null(mn_route_param_of_segment("/nope/x", 1, buf, sizeof buf));
}

static void test_parse_integer(void **state) {
  long long v;
  assert_int_equal(mn_api_parse_integer("42", &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(mn_api_parse_integer("-7", &v), 0);
  assert_int_equal(v, -7);
  assert_int_equal(mn_api_parse_integer("+7", &v), 0);
  assert_int_equal(v, 7);
  assert_int_equal(mn_api_parse_integer("", &v), MN_EINVAL);
  assert_int_equal(mn_api_parse_integer("-", &v), MN_EINVAL);
  assert_int_equal(mn_api_parse_integer(" 4", &v), MN_EINVAL);
  assert_int_equal(mn_api_parse_integer("4 ", &v), MN_EINVAL);
  assert_int_equal(mn_api_parse_integer("0x10", &v), MN_EINVAL);
}

/* Every "$ref" in v resolves to a schema in the document. */
static void assert_refs_resolve(const json_t *doc, const json_t *v) {
  const char *key;
  json_t *child;
  size_t i;
  if (json_is_object(v)) {
    json_t *ref = json_object_get(v, "$ref");
    if (ref) {
      const char *prefix = "#/components/schemas/";
      const char *s = json_string_value(ref);
      assert_non_null(s);
      assert_int_equal(strncmp(s, prefix, strlen(prefix)), 0);
      json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
      if (!json_object_get(schemas, s + strlen(prefix)))
        fail_msg("unresolved $ref %s", s);
    }
    json_object_foreach((json_t *)v, key, child) assert_refs_resolve(doc, child);
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, child) assert_refs_resolve(doc, child);
  }
}

static void test_openapi_covers_the_table(void **state) {
  json_t *doc = mn_openapi_document();
  assert_non_null(doc);
  assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
  json_t *paths = json_object_get(doc, "paths");
  json_t *bearer = json_object_get(
      json_object_get(json_object_get(doc, "components"), "securitySchemes"), "HTTPBearer");
  assert_string_equal(json_string_value(json_object_get(bearer, "scheme")), "bearer");

  /* every route of the table is in the document, with its details */
  for (size_t i = 0; i < mn_api_n_routes; i++) {
    const struct mn_route *r = &mn_api_routes[i];
    json_t *op = json_object_get(json_object_get(paths, r->pattern),
                                 mn_http_method_lower(r->method));
    if (!op)
      fail_msg("route %s %s missing from openapi", mn_http_method_lower(r->method), r->pattern);
    assert_string_equal(json_string_value(json_object_get(op, "operationId")), r->operation_id);
    assert_int_equal(json_object_get(op, "security") == NULL, r->no_auth);
    json_t *body = json_object_get(op, "requestBody");
    assert_int_equal(body != NULL, r->request_schema != NULL);
    json_t *ok = json_object_get(json_object_get(op, "responses"), "200");
    assert_non_null(ok);
    if (strcmp(r->response_schema, MN_ROUTE_EVENT_STREAM) == 0) {
      /* an event stream: text, resumable with the Last-Event-ID header */
      assert_non_null(json_object_get(json_object_get(ok, "content"), MN_ROUTE_EVENT_STREAM));
      bool resumable = false;
      size_t k;
      json_t *p;
      json_array_foreach(json_object_get(op, "parameters"), k, p)
        resumable |= strcmp(json_string_value(json_object_get(p, "name")), "Last-Event-ID") == 0 &&
                     strcmp(json_string_value(json_object_get(p, "in")), "header") == 0;
      assert_true(resumable);
      continue;
    }
    json_t *schema = json_object_get(
        json_object_get(json_object_get(ok, "content"), "application/json"), "schema");
    char ref[128];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", r->response_schema);
    assert_string_equal(json_string_value(json_object_get(schema, "$ref")), ref);
    if (r->request_schema) {
      schema = json_object_get(
          json_object_get(json_object_get(body, "content"), "application/json"), "schema");
      snprintf(ref, sizeof ref, "#/components/schemas/%s", r->request_schema);
      assert_string_equal(json_string_value(json_object_get(schema, "$ref")), ref);
    }
    for (const int *e = r->errors; *e; e++) {
      char status[8];
      snprintf(status, sizeof status, "%d", mn_error_http_status(*e));
      json_t *resp = json_object_get(json_object_get(op, "responses"), status);
      assert_non_null(resp);
      assert_non_null(strstr(json_string_value(json_object_get(resp, "description")),
                             mn_strerror(*e)));
    }
    /* path parameters, in pattern order */
    size_t n_path = 0, n_query = 0, k;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), k, p) {
      const char *in = json_string_value(json_object_get(p, "in"));
      const char *name = json_string_value(json_object_get(p, "name"));
      if (strcmp(in, "path") == 0) {
        char braced[80];
        snprintf(braced, sizeof braced, "{%s}", name);
        assert_non_null(strstr(r->pattern, braced));
        n_path++;
      } else {
        assert_string_equal(in, "query");
        assert_string_equal(name, r->query[n_query].name);
        n_query++;
      }
    }
    size_t braces = 0;
    for (const char *c = r->pattern; *c; c++)
      braces += *c == '{';
    assert_int_equal(n_path, braces);
    size_t table_query = 0;
    for (const struct mn_query_param *q = r->query; q && q->name; q++)
      table_query++;
    assert_int_equal(n_query, table_query);
  }

  /* and nothing else: every operation of the document routes back to itself */
  const char *path;
  json_t *item;
  size_t n_ops = 0;
  json_object_foreach(paths, path, item) {
    const char *method;
    json_t *op;
    json_object_foreach(item, method, op) {
      char concrete[512], buf[512];
      size_t o = 0;
      for (const char *c = path; *c && o < sizeof concrete - 8; c++) {
        if (*c == '{') { /* substitute a sample value */
          memcpy(concrete + o, "x-1", 3);
          o += 3;
          c = strchr(c, '}');
        } else {
          concrete[o++] = *c;
        }
      }
      concrete[o] = '\0';
      enum mn_http_method m = MN_HTTP_OTHER;
      for (int mm = MN_HTTP_GET; mm < MN_HTTP_OTHER; mm++)
        if (strcmp(mn_http_method_lower((enum mn_http_method)mm), method) == 0)
          m = (enum mn_http_method)mm;
      struct mn_api_request req;
      assert_string_equal(route_of(m, concrete, &req, buf),
                          json_string_value(json_object_get(op, "operationId")));
      n_ops++;
    }
  }
  assert_int_equal(n_ops, N_OPS);
  assert_refs_resolve(doc, doc);
  json_decref(doc);
}

static void test_schema_lookup(void **state) {
  json_t *s = mn_openapi_schema("InvocationInfo");
  assert_non_null(s);
  json_t *props = json_object_get(s, "properties");
  assert_non_null(json_object_get(props, "invocation_id"));
  assert_non_null(json_object_get(props, "creation_time_us"));
  json_decref(s);
  assert_null(mn_openapi_schema("NoSuchShape"));
  for (size_t i = 0; i < mn_api_n_routes; i++) {
    if (strcmp(mn_api_routes[i].response_schema, MN_ROUTE_EVENT_STREAM) == 0)
      continue; /* text/event-stream, no JSON schema */
    json_t *r = mn_openapi_schema(mn_api_routes[i].response_schema);
    assert_non_null(r);
    json_decref(r);
    if (mn_api_routes[i].request_schema) {
      json_t *q = mn_openapi_schema(mn_api_routes[i].request_schema);
      assert_non_null(q);
      json_decref(q);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_has_every_operation_once),
      cmocka_unit_test(test_match_paths_and_params),
      cmocka_unit_test(test_unknown_paths_and_methods),
      cmocka_unit_test(test_method_names),
      cmocka_unit_test(test_max_results),
      cmocka_unit_test(test_max_lines_status_parent),
      cmocka_unit_test(test_body_parsing),
      cmocka_unit_test(test_utf8_and_params),
      cmocka_unit_test(test_names_in_params),
      cmocka_unit_test(test_target_control_characters),
      cmocka_unit_test(test_param_of_segment),
      cmocka_unit_test(test_parse_integer),
      cmocka_unit_test(test_openapi_covers_the_table),
      cmocka_unit_test(test_schema_lookup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
