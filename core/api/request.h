/* One API request as the handlers see it (path parameters, query lookup,
 * parsed body) and the response they fill, plus the parsers of the query
 * parameters and of the JSON body, which answer 422 the way FastAPI does:
 *   {"detail": [{"loc": ["query", "max_results"], "msg": "...", "type": "..."}]}
 * A parser that answers 422 fills `res` and returns MN_EINVAL; handlers pass
 * that on. These are independent of libmicrohttpd so unit tests drive them. */
#ifndef MN_API_REQUEST_H
#define MN_API_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/model.h"
#include "store/store.h"
#include "multinode/common/utf8.h"
#include "util/error.h"

enum mn_http_method {
  MN_HTTP_GET = 0,
  MN_HTTP_PUT,
  MN_HTTP_POST,
  MN_HTTP_DELETE,
  MN_HTTP_OTHER
};

enum mn_http_method mn_http_method_parse(const char *name); /* "GET" -> MN_HTTP_GET */
const char *mn_http_method_lower(enum mn_http_method m);    /* "get", as OpenAPI keys */

/* Path parameters, in the order every route's pattern names them. */
enum mn_api_param {
  MN_PARAM_PROJECT = 0,
  MN_PARAM_VERSION,
  MN_PARAM_FUNCTION,
  MN_PARAM_INVOCATION,
  MN_PARAM_EXECUTION,
  MN_API_MAX_PARAMS
};

/* Looks up a (decoded) query argument; NULL when absent. */
typedef const char *mn_api_query_fn(void *cls, const char *key);

struct mn_route;

/* The header a worker names itself with on /start (see handlers). */
#define MN_API_CLAIM_TOKEN_HEADER "X-Multinode-Claim-Token"

/* Who sent the request (docs/security.md): the daemon's operator key, or
 * an execution's own key (util/token.h), whose hash the dispatcher looks up
 * and whose scope it checks before the handler runs (api/authorize.h). */
enum mn_principal_kind {
  MN_PRINCIPAL_NONE = 0, /* a route without auth */
  MN_PRINCIPAL_ADMIN,    /* an operator key with the admin role */
  MN_PRINCIPAL_OPERATOR, /* an operator key with another role (api/api_keys.h) */
  MN_PRINCIPAL_EXECUTION
};

struct mn_api_keys;
struct mn_api_key_entry;

struct mn_principal {
  enum mn_principal_kind kind;
  char key_hash[65]; /* MN_PRINCIPAL_EXECUTION: SHA-256 hex of the key */
  /* MN_PRINCIPAL_EXECUTION on a worker call (/start, /update, /heartbeat,
   * /finish): the store checks the key with the write (api/dispatch.c) */
  bool key_in_store;
  /* operator keys: the entry matched, in the table it belongs to (one
   * reference, released with the request) */
  const struct mn_api_key_entry *key;
  struct mn_api_keys *keys;
};

struct mn_api_request {
  const struct mn_route *route;
  struct mn_principal principal;
  const char *params[MN_API_MAX_PARAMS]; /* borrowed, NUL-terminated */
  size_t n_params;
  const json_t *body; /* NULL when the request had no body */
  mn_api_query_fn *query;
  mn_api_query_fn *header; /* request headers, through the same cls */
  void *query_cls;
  bool waited; /* a ?wait_seconds GET run again after its wait: answer now */
};

/* What a handler produces. When body is NULL after a handler failed, the
 * server answers {"detail": mn_strerror(rc)} with mn_error_http_status(rc). */
struct mn_event_stream;
struct mn_events_wait;

struct mn_api_response {
  int status;   /* 0: 200 on success, else the status of the code */
  json_t *body; /* owned */
  /* Instead of a body: an event stream to send (api/events.h). */
  struct mn_event_stream *stream;
  /* With the body: the request waits for this (api/events.h) and is then
   * run again with req->waited set; the body is not sent. */
  struct mn_events_wait *wait;
};

const char *mn_api_query(const struct mn_api_request *req, const char *key);
/* A request header (case-insensitive name), or NULL. */
const char *mn_api_header(const struct mn_api_request *req, const char *name);
/* The function a {base} route names (borrowed from req's parameters). */
struct mn_function_key mn_api_function_key(const struct mn_api_request *req);
void mn_api_response_release(struct mn_api_response *res);

/* 200 with body (stolen); MN_ENOMEM when body is NULL. */
int mn_api_reply(struct mn_api_response *res, json_t *body);
/* 422 from a codec validation failure (err->msg names field and rule). */
int mn_api_reply_invalid(struct mn_api_response *res, const struct mn_error *err);
/* 403 {"detail": the formatted text}: a key refused something outside what
 * it may do. Returns MN_EAPI_KEY_INVALID (res holds the answer). */
int mn_api_reply_forbidden(struct mn_api_response *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Strict base-10 integer (optional sign, digits only). Values beyond the
 * range of long long saturate. 0 or MN_EINVAL. */
int mn_api_parse_integer(const char *text, long long *out);

/* list_invocations: absent or >= 50 -> 50; < 1 or not an integer -> 422. */
int mn_api_query_max_results(const struct mn_api_request *req, int *out,
                             struct mn_api_response *res);
/* Any page size: absent -> limit; min(value, limit); < 1 or not an
 * integer -> 422. */
int mn_api_query_page_size(const struct mn_api_request *req, const char *name, int limit,
                           int *out, struct mn_api_response *res);
/* get_execution_logs: absent -> 250; min(value, 250); < 1 or not an integer -> 422. */
int mn_api_query_max_lines(const struct mn_api_request *req, int *out,
                           struct mn_api_response *res);
/* status: absent -> *present false; RUNNING / TERMINATED; else 422. */
int mn_api_query_status(const struct mn_api_request *req, bool *present,
                        enum mn_invocation_status *out, struct mn_api_response *res);
/* A string query parameter (*out NULL when absent); 422 when it is not
 * well-formed UTF-8. */
int mn_api_query_text(const struct mn_api_request *req, const char *name, const char **out,
                      struct mn_api_response *res);
/* parent_function_name + parent_invocation_id: both or neither; one alone
 * gives MN_EPARENT_FUNCTION_MISSING / MN_EPARENT_INVOCATION_MISSING.
 * *has_parent tells whether out was filled (borrowed strings). */
int mn_api_query_parent(const struct mn_api_request *req, bool *has_parent,
                        struct mn_parent_ref *out, struct mn_api_response *res);

/* 422 unless every path parameter is well-formed UTF-8 and a valid name
 * (api/names.h: no control character, not "." or ".."); loc names come
 * from the route's pattern. */
int mn_api_check_params(const struct mn_api_request *req, struct mn_api_response *res);

/* 422 when the raw request target (path and query, before decoding) holds
 * a control character anywhere, %00 included; loc is ["path", <parameter>]
 * (or ["path"]) or ["query", <name>]. */
int mn_api_check_target(const char *target, struct mn_api_response *res);

/* The body of a request that requires one: empty -> 422 "field required",
 * malformed -> 422 value_error.jsondecode at the byte position. */
int mn_api_parse_body(const char *buf, size_t len, json_t **out, struct mn_api_response *res);

#endif
