/* The one route table of the REST API. The router matches requests against
 * it and the OpenAPI document is generated from it, so the two cannot drift. */
#ifndef MN_API_ROUTES_H
#define MN_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "api/request.h"
#include "api/server.h"

struct mn_readiness;

/* What handlers reach: the store and the daemon's optional callbacks. */
struct mn_api_ctx {
  struct mn_store *store;
  mn_api_logs_fn *logs;
  void *logs_ctx;
  mn_api_credentials_fn *credentials;
  void *credentials_ctx;
  mn_api_providers_fn *providers;
  void *providers_ctx;
  struct mn_readiness *readiness; /* NULL: GET /readyz says not ready */
  struct mn_events *events;       /* live events; NULL: none (streams answer 503) */
};

/* Returns 0 with res filled, or a negative MN_E* code (see mn_api_response). */
typedef int mn_api_handler_fn(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                              struct mn_api_response *res);

enum mn_query_type { MN_QUERY_INTEGER, MN_QUERY_STRING, MN_QUERY_INVOCATION_STATUS };

struct mn_query_param {
  const char *name;
  enum mn_query_type type;
  const char *description;
};

/* The response_schema of a route that answers with Server-Sent Events. */
#define MN_ROUTE_EVENT_STREAM "text/event-stream"

struct mn_route {
  enum mn_http_method method;
  const char *pattern; /* "/projects/{project_name}/versions"; {x} is one segment */
  const char *operation_id;
  const char *summary;
  mn_api_handler_fn *handler;
  bool no_auth;                       /* no Authorization needed */
  const char *request_schema;         /* components.schemas name, NULL: no body */
  const char *response_schema;        /* components.schemas name of the 200 body */
  const struct mn_query_param *query; /* terminated by a NULL name; NULL: none */
  const int *errors;                  /* documented MN_E* codes, terminated by 0 */
  bool from_memory; /* answered on the network thread at once: the handler
                       touches no database and never blocks */
  const char *unavailable_schema; /* components.schemas name of the 503 body
                                     (NULL: no 503 documented) */
};

extern const struct mn_route mn_api_routes[];
extern const size_t mn_api_n_routes;

/* Finds the route of METHOD PATH. On success fills req->route and the path
 * parameters, which point into `path` (modified in place: segment ends become
 * NUL). MN_ENOTFOUND_ROUTE when no pattern matches the path, MN_EMETHOD when
 * one does but not with this method. */
int mn_route_match(enum mn_http_method method, char *path, struct mn_api_request *req);

/* The name of the {parameter} a path's segment-th segment (0-based after
 * the leading slash) stands for, in the first route whose literal segments
 * before it equal the path's; NULL when none. target is the raw request
 * target (a ?query is ignored). */
const char *mn_route_param_of_segment(const char *target, size_t segment, char *buf,
                                      size_t size);

/* The handlers, one per operation id. */
mn_api_handler_fn mn_api_health_check;
mn_api_handler_fn mn_api_liveness;
mn_api_handler_fn mn_api_readiness;
mn_api_handler_fn mn_api_create_project;
mn_api_handler_fn mn_api_delete_project;
mn_api_handler_fn mn_api_get_project;
mn_api_handler_fn mn_api_list_projects;
mn_api_handler_fn mn_api_create_project_version;
mn_api_handler_fn mn_api_get_project_version;
mn_api_handler_fn mn_api_list_project_versions;
mn_api_handler_fn mn_api_create_invocation;
mn_api_handler_fn mn_api_cancel_invocation;
mn_api_handler_fn mn_api_get_invocation;
mn_api_handler_fn mn_api_get_invocation_by_id;
mn_api_handler_fn mn_api_get_execution_by_id;
/* Whether route's one parameter is an id, not a project: its handler
 * authorizes the full path it finds (handlers_by_id.c). */
bool mn_route_by_id(const struct mn_route *route);
mn_api_handler_fn mn_api_list_invocations;
mn_api_handler_fn mn_api_start_execution;
mn_api_handler_fn mn_api_update_execution;
mn_api_handler_fn mn_api_finish_execution;
mn_api_handler_fn mn_api_heartbeat_execution;
mn_api_handler_fn mn_api_get_execution;
mn_api_handler_fn mn_api_get_execution_logs;
mn_api_handler_fn mn_api_get_container_repository_credentials;
mn_api_handler_fn mn_api_list_providers;
mn_api_handler_fn mn_api_get_invocation_events;
mn_api_handler_fn mn_api_get_project_events;
mn_api_handler_fn mn_api_get_events;
mn_api_handler_fn mn_api_get_execution_progress;

#endif
