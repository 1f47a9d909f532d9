/* Fuzzes the router and the request parsing that needs no database. The
 * input is a request as text:
 *
 *   METHOD SP TARGET [SP anything] [CR] LF
 *   body...
 *
 * TARGET is PATH[?QUERY]; both are decoded as libmicrohttpd decodes them
 * before the server sees them (%XX in the path and in query arguments, '+'
 * as a blank in arguments, the first of repeated arguments wins, a decoded
 * NUL ends the text). The path goes through mn_route_match; a matched
 * request then has its path parameters checked, its query parameters parsed
 * as the route's handler parses them (list_invocations' offset included),
 * and, for a route that takes a body, the body parsed and decoded as
 * dispatch does. Every answer is serialised. Promises checked: a match fills
 * exactly the pattern's parameters, which put back into the pattern give the
 * path again; bounded integers stay in bounds; a parsed offset survives
 * format and parse unchanged; no answer is a 5xx. A broken promise aborts.
 *
 * Before any decoding the raw target goes through mn_api_check_target, as
 * the server does: a target it lets through decodes without a control
 * character (no %00 cuts it), and parameters that pass mn_api_check_params
 * are names (api/names.h). */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/dispatch.h"
#include "api/names.h"
#include "api/request.h"
#include "api/routes.h"
#include "store/store.h"

#include "fuzz_check.h"

#define MAX_ARGS 32

struct query {
  size_t n;
  char *keys[MAX_ARGS];
  char *values[MAX_ARGS]; /* NULL for an argument without '=' */
};

static int hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* %XX decoding in place (a malformed escape stays as it is); with PLUS,
 * '+' becomes a blank first. The result ends at the first decoded NUL. */
static void unescape(char *s, bool plus) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (plus && *r == '+') {
      *w++ = ' ';
    } else if (*r == '%' && hex(r[1]) >= 0 && hex(r[2]) >= 0) {
      *w++ = (char)(hex(r[1]) * 16 + hex(r[2]));
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* Splits TEXT (modified in place) into arguments. */
static void query_parse(char *text, struct query *q) {
  q->n = 0;
  while (text && *text && q->n < MAX_ARGS) {
    char *amp = strchr(text, '&');
    if (amp)
      *amp = '\0';
    char *eq = strchr(text, '=');
    if (eq)
      *eq = '\0';
    unescape(text, true);
    if (eq)
      unescape(eq + 1, true);
    q->keys[q->n] = text;
    q->values[q->n++] = eq ? eq + 1 : NULL;
    text = amp ? amp + 1 : NULL;
  }
}

static const char *query_lookup(void *cls, const char *key) {
  const struct query *q = cls;
  for (size_t i = 0; i < q->n; i++)
    if (strcmp(q->keys[i], key) == 0)
      return q->values[i];
  return NULL;
}

static const char *no_header(void *cls, const char *name) { return NULL; }

static void output_response(struct mn_api_response *res, int rc) {
  struct mn_api_output out;
  if (res->body) {
    mn_api_output_json(res->status ? res->status : mn_error_http_status(rc), res->body, &out);
    res->body = NULL;
  } else {
    mn_api_output_error(rc ? rc : MN_EINTERNAL, &out);
  }
  /* nothing here needs memory beyond a few bytes or a database: never a 5xx */
  CHECK(out.text != NULL && out.status >= 200 && out.status < 500);
  free(out.text);
  mn_api_response_release(res);
}

/* The pattern with the parameters put back must be the path. */
static void check_match(const struct mn_api_request *req, const char *path,
                        enum mn_http_method method) {
  const struct mn_route *r = req->route;
  CHECK(r != NULL && r->method == method);
  size_t k = 0, len = strlen(path);
  char *rebuilt = malloc(len + 1);
  CHECK(rebuilt != NULL);
  size_t w = 0;
  for (const char *p = r->pattern; *p;) {
    if (*p == '{') {
      CHECK(k < req->n_params);
      const char *v = req->params[k++];
      size_t n = strlen(v);
      CHECK(n > 0 && strchr(v, '/') == NULL && w + n <= len);
      memcpy(rebuilt + w, v, n);
      w += n;
      p = strchr(p, '}') + 1;
    } else {
      CHECK(w < len);
      rebuilt[w++] = *p++;
    }
  }
  CHECK(k == req->n_params && w == len);
  CHECK(memcmp(rebuilt, path, len) == 0);
  free(rebuilt);
}

static void check_offset(const char *text) {
  struct mn_page_offset o, again;
  if (mn_page_offset_parse(text, &o) != 0)
    return;
  char *formatted = mn_page_offset_format(o.creation_time, o.invocation_id);
  CHECK(formatted != NULL);
  CHECK(mn_page_offset_parse(formatted, &again) == 0);
  CHECK(again.creation_time == o.creation_time);
  CHECK(strcmp(again.invocation_id, o.invocation_id) == 0);
  free(formatted);
}

/* The query parameters the route declares, parsed as its handler does. */
static int parse_query(const struct mn_api_request *req, struct mn_api_response *res) {
  const struct mn_route *r = req->route;
  bool parent = false, offset = false;
  int rc = 0;
  for (const struct mn_query_param *q = r->query; rc == 0 && q && q->name; q++) {
    int n;
    const char *text;
    bool present;
    enum mn_invocation_status status;
    switch (q->type) {
    case MN_QUERY_INTEGER:
      if (strcmp(q->name, "max_results") == 0) {
        if ((rc = mn_api_query_max_results(req, &n, res)) == 0)
          CHECK(n >= 1 && n <= MN_LIST_PAGE_LIMIT);
      } else if (strcmp(q->name, "max_lines") == 0) {
        if ((rc = mn_api_query_max_lines(req, &n, res)) == 0)
          CHECK(n >= 1 && n <= MN_LOG_PAGE_LIMIT);
      } else if ((text = mn_api_query(req, q->name)) != NULL) {
        long long v;
        (void)mn_api_parse_integer(text, &v);
      }
      break;
    case MN_QUERY_STRING:
      if (strncmp(q->name, "parent_", 7) == 0) {
        parent = true;
        break;
      }
      rc = mn_api_query_text(req, q->name, &text, res);
      if (rc == 0 && text)
        CHECK(mn_utf8_valid(text));
      offset |= strcmp(q->name, "initial_offset") == 0;
      break;
    case MN_QUERY_INVOCATION_STATUS:
      rc = mn_api_query_status(req, &present, &status, res);
      break;
    }
  }
  if (rc == 0 && parent) {
    bool has_parent;
    struct mn_parent_ref ref;
    rc = mn_api_query_parent(req, &has_parent, &ref, res);
    if (rc == 0 && has_parent)
      CHECK(ref.function_name != NULL && ref.invocation_id != NULL);
  }
  /* list_invocations reads its offset; get_execution_logs hands its own to
   * the provider untouched */
  const char *text = mn_api_query(req, "initial_offset");
  if (rc == 0 && offset && text && strcmp(r->operation_id, "list_invocations") == 0) {
    struct mn_page_offset o;
    rc = mn_page_offset_parse(text, &o);
    check_offset(text);
  }
  return rc;
}

/* The body of a route that takes one, decoded as its handler decodes it. */
static int parse_body(const struct mn_route *r, const char *body, size_t len,
                      struct mn_api_response *res) {
  json_t *json = NULL;
  struct mn_error err = {0};
  int rc = mn_api_parse_body(body, len, &json, res);
  if (rc)
    return rc;
  const char *schema = r->request_schema;
  if (strcmp(schema, "VersionDefinition") == 0) {
    struct mn_version_definition d;
    if ((rc = mn_json_parse_version_definition(json, &d, &err)) == 0)
      mn_version_definition_release(&d);
  } else if (strcmp(schema, "InvocationDefinition") == 0) {
    struct mn_invocation_definition d;
    if ((rc = mn_json_parse_invocation_definition(json, &d, &err)) == 0)
      mn_invocation_definition_release(&d);
  } else if (strcmp(schema, "ExecutionTemporaryResultPayload") == 0) {
    char *out;
    if ((rc = mn_json_parse_temporary_result(json, &out, &err)) == 0)
      free(out);
  } else if (strcmp(schema, "ExecutionFinalResultPayload") == 0) {
    struct mn_final_result f;
    if ((rc = mn_json_parse_final_result(json, &f, &err)) == 0)
      mn_final_result_release(&f);
  } else {
    CHECK(!"a request schema without a decoder");
  }
  json_decref(json);
  if (rc == MN_EINVAL)
    rc = mn_api_reply_invalid(res, &err);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  const char *nl = memchr(text, '\n', size);
  size_t line_len = nl ? (size_t)(nl - text) : size;
  const char *body = nl ? nl + 1 : NULL;
  size_t body_len = nl ? size - line_len - 1 : 0;

  /* the request line, as a C string (a NUL byte ends it, as in HTTP parsers) */
  char *line = malloc(line_len + 1);
  CHECK(line != NULL);
  memcpy(line, text, line_len);
  line[line_len] = '\0';
  size_t n = strlen(line);
  if (n > 0 && line[n - 1] == '\r')
    line[n - 1] = '\0';
  char *target = strchr(line, ' ');
  if (target) {
    *target++ = '\0';
    char *end = strchr(target, ' ');
    if (end)
      *end = '\0';
  } else {
    target = line + strlen(line);
  }
  struct mn_api_response res = {0};
  int rc = mn_api_check_target(target, &res);
  if (rc != 0) { /* answered 422 before routing */
    CHECK(rc == MN_EINVAL && res.status == 422);
    output_response(&res, rc);
    free(line);
    return 0;
  }
  char *qs = strchr(target, '?');
  if (qs)
    *qs++ = '\0';
  size_t decoded_len = 0; /* what decoding must leave when no NUL cuts it */
  for (const char *c = target; *c; decoded_len++)
    c += *c == '%' && hex(c[1]) >= 0 && hex(c[2]) >= 0 ? 3 : 1;
  unescape(target, false);
  CHECK(strlen(target) == decoded_len);
  for (const unsigned char *c = (const unsigned char *)target; *c; c++)
    CHECK(*c >= 0x20 && *c != 0x7f);

  enum mn_http_method method = mn_http_method_parse(line);
  CHECK((unsigned)method <= MN_HTTP_OTHER);
  (void)mn_http_method_lower(method);

  char *path = strdup(target); /* the router cuts it into parameters */
  CHECK(path != NULL);
  struct query q;
  query_parse(qs, &q);
  struct mn_api_request req = {.query = query_lookup, .header = no_header, .query_cls = &q};
  rc = mn_route_match(method, path, &req);
  if (rc == 0) {
    check_match(&req, target, method);
    if (req.n_params >= 3) {
      struct mn_function_key fk = mn_api_function_key(&req);
      CHECK(fk.project_name && fk.version_ref && fk.function_name);
    }
    rc = mn_api_check_params(&req, &res);
    for (size_t k = 0; rc == 0 && k < req.n_params; k++)
      CHECK(mn_name_problem(req.params[k], strlen(req.params[k])) == NULL);
    if (rc == 0)
      rc = parse_query(&req, &res);
    if (rc == 0 && req.route->request_schema)
      rc = parse_body(req.route, body, body_len, &res);
    if (rc == 0 && !res.body) /* the handler would run here; a stand-in reply */
      rc = mn_api_reply(&res, mn_json_error(req.route->operation_id));
  } else {
    CHECK(rc == MN_ENOTFOUND_ROUTE || rc == MN_EMETHOD);
  }
  output_response(&res, rc);
  free(path);
  free(line);
  return 0;
}
