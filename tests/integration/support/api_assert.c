#include "api_assert.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/openapi.h"
#include "api/routes.h"

static void check_schema(const json_t *value, const json_t *schema, const char *where);

static void check_ref(const json_t *value, const char *ref, const char *where) {
  const char *prefix = "#/components/schemas/";
  assert_int_equal(strncmp(ref, prefix, strlen(prefix)), 0);
  json_t *schema = mn_openapi_schema(ref + strlen(prefix));
  if (!schema)
    fail_msg("%s: unknown schema %s", where, ref);
  check_schema(value, schema, where);
  json_decref(schema);
}

static void check_object(const json_t *value, const json_t *schema, const char *where) {
  char sub[256];
  const char *key;
  json_t *v;
  size_t i;
  json_t *props = json_object_get(schema, "properties");
  json_t *extra = json_object_get(schema, "additionalProperties");
  json_t *req;
  if (!props && !extra)
    return; /* a free-form object */
  json_array_foreach(json_object_get(schema, "required"), i, req) {
    if (!json_object_get(value, json_string_value(req)))
      fail_msg("%s: required field %s is missing", where, json_string_value(req));
  }
  json_object_foreach((json_t *)value, key, v) {
    snprintf(sub, sizeof sub, "%s.%s", where, key);
    json_t *ps = props ? json_object_get(props, key) : extra;
    if (!ps)
      fail_msg("%s: field is not in the OpenAPI schema", sub);
    check_schema(v, ps, sub);
  }
}

static void check_schema(const json_t *value, const json_t *schema, const char *where) {
  char sub[256];
  size_t i;
  json_t *item;
  json_t *ref = json_object_get(schema, "$ref");
  if (ref) {
    check_ref(value, json_string_value(ref), where);
    return;
  }
  if (json_is_null(value)) {
    if (!json_is_true(json_object_get(schema, "nullable")))
      fail_msg("%s: null where the schema does not allow it", where);
    return;
  }
  json_array_foreach(json_object_get(schema, "allOf"), i, item) check_schema(value, item, where);
  json_t *any = json_object_get(schema, "anyOf");
  if (any) {
    int ok = 0;
    json_array_foreach(any, i, item) {
      const char *t = json_string_value(json_object_get(item, "type"));
      ok |= (strcmp(t, "string") == 0 && json_is_string(value)) ||
            (strcmp(t, "integer") == 0 && json_is_integer(value));
    }
    if (!ok)
      fail_msg("%s: matches none of anyOf", where);
  }
  json_t *values = json_object_get(schema, "enum");
  if (values) {
    int ok = 0;
    json_array_foreach(values, i, item) ok |= json_equal(item, value);
    if (!ok)
      fail_msg("%s: %s is not in the enum", where, json_string_value(value));
  }
  const char *type = json_string_value(json_object_get(schema, "type"));
  if (!type)
    return;
  if (strcmp(type, "string") == 0 && !json_is_string(value))
    fail_msg("%s: expected a string", where);
  if (strcmp(type, "integer") == 0 && !json_is_integer(value))
    fail_msg("%s: expected an integer", where);
  if (strcmp(type, "number") == 0 && !json_is_number(value))
    fail_msg("%s: expected a number", where);
  if (strcmp(type, "boolean") == 0 && !json_is_boolean(value))
    fail_msg("%s: expected a boolean", where);
  if (strcmp(type, "object") == 0) {
    if (!json_is_object(value))
      fail_msg("%s: expected an object", where);
    check_object(value, schema, where);
  }
  if (strcmp(type, "array") == 0) {
    if (!json_is_array(value))
      fail_msg("%s: expected an array", where);
    json_array_foreach(value, i, item) {
      snprintf(sub, sizeof sub, "%s[%zu]", where, i);
      check_schema(item, json_object_get(schema, "items"), sub);
    }
  }
}

void api_assert_schema(const json_t *value, const char *name) {
  json_t *schema = mn_openapi_schema(name);
  if (!schema)
    fail_msg("unknown schema %s", name);
  check_schema(value, schema, name);
  json_decref(schema);
}

/* The response schema of the route METHOD PATH serves, or NULL. */
static const char *response_schema(const char *method, const char *path) {
  char buf[2048];
  struct mn_api_request req = {0};
  snprintf(buf, sizeof buf, "%s", path);
  buf[strcspn(buf, "?")] = '\0';
  if (mn_route_match(mn_http_method_parse(method), buf, &req) != 0)
    return NULL;
  return req.route->response_schema;
}

json_t *api_expect(struct api_fixture *fx, const char *method, const char *path,
                   const char *body, long status) {
  long got = 0;
  json_t *json = NULL;
  char *raw = NULL;
  int rc = http_request_ex(fx->http, method, path, body, body ? strlen(body) : 0, NULL, true,
                           &got, &json, &raw);
  assert_int_equal(rc, 0);
  if (got != status)
    fail_msg("%s %s: status %ld, expected %ld; body %s", method, path, got, status,
             raw ? raw : "");
  free(raw);
  assert_non_null(json);
  const char *schema = response_schema(method, path);
  if (status == 200 && schema)
    api_assert_schema(json, schema);
  return json;
}

void api_expect_detail(struct api_fixture *fx, const char *method, const char *path,
                       const char *body, long status, const char *detail) {
  json_t *json = api_expect(fx, method, path, body, status);
  assert_int_equal(json_object_size(json), 1);
  const char *got = json_string_value(json_object_get(json, "detail"));
  if (!got || strcmp(got, detail) != 0)
    fail_msg("%s %s: detail \"%s\", expected \"%s\"", method, path, got ? got : "(none)",
             detail);
  json_decref(json);
}

const char *api_expect_422(struct api_fixture *fx, const char *method, const char *path,
                           const char *body) {
  static char out[1024];
  json_t *json = api_expect(fx, method, path, body, 422);
  api_assert_schema(json, "HTTPValidationError");
  json_t *first = json_array_get(json_object_get(json, "detail"), 0);
  assert_non_null(first);
  size_t o = 0, i;
  json_t *part;
  out[0] = '\0';
  json_array_foreach(json_object_get(first, "loc"), i, part) {
    if (json_is_integer(part))
      o += (size_t)snprintf(out + o, sizeof out - o, "%s%lld", i ? "." : "",
                            (long long)json_integer_value(part));
    else
      o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "." : "",
                            json_string_value(part));
  }
  snprintf(out + o, sizeof out - o, ": %s", json_string_value(json_object_get(first, "msg")));
  json_decref(json);
  return out;
}

const char *api_str(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  if (!s)
    fail_msg("field %s is missing or not a string", key);
  return s;
}

void api_make_project(struct api_fixture *fx, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "/projects/%s", name);
  json_decref(api_expect(fx, "PUT", path, NULL, 200));
}

static const char version_body[] =
    "{\"default_docker_image\":\"img:1\",\"functions\":["
    "{\"function_name\":\"fa\",\"resource_spec\":{\"virtual_cpus\":0.25,\"memory_gbs\":0.5,"
    "\"max_concurrency\":2},\"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":30}},"
    "{\"function_name\":\"fb\",\"docker_image_override\":\"other:2\",\"resource_spec\":"
    "{\"virtual_cpus\":1,\"memory_gbs\":2,\"max_concurrency\":5},\"execution_spec\":"
    "{\"max_retries\":2,\"timeout_seconds\":60}}]}";

char *api_make_version(struct api_fixture *fx, const char *project) {
  char path[256];
  snprintf(path, sizeof path, "/projects/%s/versions", project);
  json_t *v = api_expect(fx, "POST", path, version_body, 200);
  char *id = strdup(api_str(v, "version_id"));
  json_decref(v);
  return id;
}

char *api_make_invocation(struct api_fixture *fx, const char *project, const char *version,
                          const char *function, const char *parent_function,
                          const char *parent_invocation) {
  char path[512], body[512];
  snprintf(path, sizeof path, "/projects/%s/versions/%s/functions/%s/invocations", project,
           version, function);
  if (parent_function)
    snprintf(body, sizeof body,
             "{\"parent_invocation\":{\"function_name\":\"%s\",\"invocation_id\":\"%s\"},"
             "\"input\":\"in\"}",
             parent_function, parent_invocation);
  else
    snprintf(body, sizeof body, "{\"input\":\"in\"}");
  json_t *inv = api_expect(fx, "POST", path, body, 200);
  char *id = strdup(api_str(inv, "invocation_id"));
  json_decref(inv);
  return id;
}

const char *api_fmt(const char *f, ...) {
  static char bufs[4][4096];
  static int next;
  char *b = bufs[next++ % 4];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, sizeof bufs[0], f, ap);
  va_end(ap);
  return b;
}
