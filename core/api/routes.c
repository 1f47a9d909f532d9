/* The route table (docs/compatibility.md §2.4) and the router that walks it. */
#include "api/routes.h"

#include <string.h>

#define P "/projects/{project_name}"
#define BASE P "/versions/{version_ref}/functions/{function_name}"
#define INV BASE "/invocations/{invocation_id}"
#define EXE INV "/executions/{execution_id}"

#define PVF MN_EPROJECT_NOT_FOUND, MN_EVERSION_NOT_FOUND, MN_EFUNCTION_NOT_FOUND
#define PVFI PVF, MN_EINVOCATION_NOT_FOUND
#define PVFIE PVFI, MN_EEXECUTION_NOT_FOUND

static const int no_errors[] = {0};
static const int create_project_errors[] = {MN_EPROJECT_NAME_TOO_LONG, MN_EPROJECT_EXISTS, 0};
static const int project_errors[] = {MN_EPROJECT_NOT_FOUND, 0};
static const int create_version_errors[] = {MN_EPROJECT_NOT_FOUND, MN_EPROJECT_BEING_DELETED, 0};
static const int version_errors[] = {MN_EPROJECT_NOT_FOUND, MN_EVERSION_NOT_FOUND, 0};
static const int create_invocation_errors[] = {PVF, MN_EPARENT_NOT_FOUND, 0};
static const int cancel_errors[] = {PVFI, MN_EINVOCATION_TERMINATED, 0};
static const int invocation_errors[] = {PVFI, 0};
static const int list_invocations_errors[] = {PVF, MN_EOFFSET_INVALID,
                                              MN_EPARENT_FUNCTION_MISSING,
                                              MN_EPARENT_INVOCATION_MISSING, 0};
static const int start_errors[] = {PVFIE, MN_EEXECUTION_STARTED, MN_EEXECUTION_TERMINATED, 0};
static const int progress_errors[] = {PVFIE, MN_EEXECUTION_NOT_STARTED, MN_EEXECUTION_FINISHED,
                                      MN_EEXECUTION_TERMINATED, 0};
static const int execution_errors[] = {PVFIE, 0};
static const int progress_history_errors[] = {PVFIE, MN_EOFFSET_INVALID, 0};
static const int invocation_by_id_errors[] = {MN_EINVOCATION_NOT_FOUND, 0};
static const int execution_by_id_errors[] = {MN_EEXECUTION_NOT_FOUND, 0};

static const struct mn_query_param list_invocations_query[] = {
    {"max_results", MN_QUERY_INTEGER, "Page size, 1 or more; values of 50 or more mean 50."},
    {"initial_offset", MN_QUERY_STRING, "The next_offset of the previous page."},
    {"status", MN_QUERY_INVOCATION_STATUS, "Only invocations with this status."},
    {"parent_function_name", MN_QUERY_STRING,
     "Only children of this parent (with parent_invocation_id)."},
    {"parent_invocation_id", MN_QUERY_STRING,
     "Only children of this parent (with parent_function_name)."},
    {NULL, MN_QUERY_STRING, NULL},
};

static const struct mn_query_param logs_query[] = {
    {"max_lines", MN_QUERY_INTEGER, "Lines per page, 1 or more; at most 250 are returned."},
    {"initial_offset", MN_QUERY_STRING, "The next_offset of the previous page."},
    {NULL, MN_QUERY_STRING, NULL},
};

static const struct mn_query_param get_invocation_query[] = {
    {"wait_seconds", MN_QUERY_INTEGER,
     "Wait up to this many seconds (0 to 60) for the invocation to finish before answering."},
    {NULL, MN_QUERY_STRING, NULL},
};

static const struct mn_query_param progress_query[] = {
    {"max_results", MN_QUERY_INTEGER, "Updates per page, 1 or more; at most 1000 are returned."},
    {"initial_offset", MN_QUERY_STRING, "The next_offset of the previous page."},
    {NULL, MN_QUERY_STRING, NULL},
};

static const struct mn_query_param events_query[] = {
    {"last_event_id", MN_QUERY_INTEGER,
     "Resume after this event id (as the Last-Event-ID header, which wins)."},
    {NULL, MN_QUERY_STRING, NULL},
};

const struct mn_route mn_api_routes[] = {
    {MN_HTTP_GET, "/", "health_check", "Health Check", mn_api_health_check, true, NULL,
     "HealthStatus", NULL, no_errors, true, NULL},
    {MN_HTTP_PUT, P, "create_project", "Create Project", mn_api_create_project, false, NULL,
     "ProjectInfo", NULL, create_project_errors, false, NULL},
    {MN_HTTP_DELETE, P, "delete_project", "Delete Project", mn_api_delete_project, false, NULL,
     "ProjectInfo", NULL, project_errors, false, NULL},
    {MN_HTTP_GET, P, "get_project", "Get Project", mn_api_get_project, false, NULL,
     "ProjectInfo", NULL, project_errors, false, NULL},
    {MN_HTTP_GET, "/projects", "list_projects", "List Projects", mn_api_list_projects, false,
     NULL, "ProjectsList", NULL, no_errors, false, NULL},
    {MN_HTTP_POST, P "/versions", "create_project_version", "Create Project Version",
     mn_api_create_project_version, false, "VersionDefinition", "VersionInfo", NULL,
     create_version_errors, false, NULL},
    {MN_HTTP_GET, P "/versions/{version_ref}", "get_project_version", "Get Project Version",
     mn_api_get_project_version, false, NULL, "VersionInfo", NULL, version_errors, false, NULL},
    {MN_HTTP_GET, P "/versions", "list_project_versions", "List Project Versions",
     mn_api_list_project_versions, false, NULL, "VersionsListForProject", NULL,
     project_errors, false, NULL},
    {MN_HTTP_POST, BASE "/invocations", "create_invocation", "Create Invocation",
     mn_api_create_invocation, false, "InvocationDefinition", "InvocationInfo", NULL,
     create_invocation_errors, false, NULL},
    {MN_HTTP_PUT, INV "/cancel", "cancel_invocation", "Cancel Invocation",
     mn_api_cancel_invocation, false, NULL, "InvocationInfo", NULL, cancel_errors, false, NULL},
    {MN_HTTP_GET, INV, "get_invocation", "Get Invocation", mn_api_get_invocation, false, NULL,
     "InvocationInfo", get_invocation_query, invocation_errors, false, NULL},
    {MN_HTTP_GET, BASE "/invocations", "list_invocations", "List Invocations",
     mn_api_list_invocations, false, NULL, "InvocationsListForFunction",
     list_invocations_query, list_invocations_errors, false, NULL},
    {MN_HTTP_PUT, EXE "/start", "start_execution", "Start Execution", mn_api_start_execution,
     false, NULL, "ExecutionInfo", NULL, start_errors, false, NULL},
    {MN_HTTP_PUT, EXE "/update", "update_execution", "Update Execution",
     mn_api_update_execution, false, "ExecutionTemporaryResultPayload", "ExecutionInfo", NULL,
     progress_errors, false, NULL},
    /* additive: the worker is alive (heartbeat_timeout_seconds) */
    {MN_HTTP_PUT, EXE "/heartbeat", "heartbeat_execution", "Heartbeat Execution",
     mn_api_heartbeat_execution, false, NULL, "ExecutionInfo", NULL, progress_errors, false,
     NULL},
    {MN_HTTP_PUT, EXE "/finish", "finish_execution", "Finish Execution",
     mn_api_finish_execution, false, "ExecutionFinalResultPayload", "ExecutionInfo", NULL,
     progress_errors, false, NULL},
    {MN_HTTP_GET, EXE, "get_execution", "Get Execution", mn_api_get_execution, false, NULL,
     "ExecutionInfo", NULL, execution_errors, false, NULL},
    {MN_HTTP_GET, EXE "/logs", "get_execution_logs", "Get Execution Logs",
     mn_api_get_execution_logs, false, NULL, "ExecutionLogs", logs_query, execution_errors,
     false, NULL},
    {MN_HTTP_GET, "/container_repository_credentials", "get_container_repository_credentials",
     "Get Container Repository Credentials", mn_api_get_container_repository_credentials,
     false, NULL, "ContainerRepositoryCredentials", NULL, no_errors, false, NULL},
    /* additive (issue 19): an id is enough; the answer names where it lives */
    {MN_HTTP_GET, "/invocations/{invocation_id}", "get_invocation_by_id", "Get Invocation By Id",
     mn_api_get_invocation_by_id, false, NULL, "InvocationInfo", NULL, invocation_by_id_errors,
     false, NULL},
    {MN_HTTP_GET, "/executions/{execution_id}", "get_execution_by_id", "Get Execution By Id",
     mn_api_get_execution_by_id, false, NULL, "ExecutionInfo", NULL, execution_by_id_errors,
     false, NULL},
    /* additive: which providers this daemon runs, so that `multinode deploy`
     * knows whether to build an image */
    {MN_HTTP_GET, "/providers", "list_providers", "List Providers", mn_api_list_providers,
     false, NULL, "ProvidersList", NULL, no_errors, false, NULL},
    /* additive: live events (docs/events.md) and progress history */
    {MN_HTTP_GET, INV "/events", "get_invocation_events", "Invocation Events",
     mn_api_get_invocation_events, false, NULL, MN_ROUTE_EVENT_STREAM, events_query,
     invocation_errors, false, NULL},
    {MN_HTTP_GET, P "/events", "get_project_events", "Project Events", mn_api_get_project_events,
     false, NULL, MN_ROUTE_EVENT_STREAM, events_query, project_errors, false, NULL},
    {MN_HTTP_GET, "/events", "get_events", "All Events", mn_api_get_events, false, NULL,
     MN_ROUTE_EVENT_STREAM, events_query, no_errors, false, NULL},
    {MN_HTTP_GET, EXE "/progress", "get_execution_progress", "Get Execution Progress",
     mn_api_get_execution_progress, false, NULL, "ProgressHistory", progress_query,
     progress_history_errors, false, NULL},
    /* additive: for load balancers and orchestrators, answered from memory */
    {MN_HTTP_GET, "/healthz", "get_liveness", "Liveness", mn_api_liveness, true, NULL,
     "HealthStatus", NULL, no_errors, true, NULL},
    {MN_HTTP_GET, "/readyz", "get_readiness", "Readiness", mn_api_readiness, true, NULL,
     "Readiness", NULL, no_errors, true, "Readiness"},
};

const size_t mn_api_n_routes = sizeof mn_api_routes / sizeof mn_api_routes[0];

/* Walks pattern and path together: literal text must be equal, a {name}
 * takes one non-empty segment. Records where each parameter starts and ends. */
static bool match_pattern(const char *pat, char *path, char **starts, char **ends,
                          size_t *n) {
  *n = 0;
  while (*pat && *path) {
    if (*pat == '{') {
      char *end = strchr(path, '/');
      if (!end)
        end = path + strlen(path);
      if (end == path || *n == MN_API_MAX_PARAMS)
        return false;
      starts[*n] = path;
      ends[(*n)++] = end;
      pat = strchr(pat, '}') + 1;
      path = end;
    } else if (*pat++ != *path++) {
      return false;
    }
  }
  return *pat == '\0' && *path == '\0';
}

/* The segment-th '/'-separated segment of s (after the leading slash) up
 * to end: its start, and its length in *len; NULL when there is none. */
static const char *segment_at(const char *s, const char *end, size_t segment, size_t *len) {
  if (s < end && *s == '/')
    s++;
  for (size_t i = 0;; i++) {
    const char *slash = memchr(s, '/', (size_t)(end - s));
    const char *seg_end = slash ? slash : end;
    if (i == segment) {
      *len = (size_t)(seg_end - s);
      return s;
    }
    if (!slash)
      return NULL;
    s = slash + 1;
  }
}

const char *mn_route_param_of_segment(const char *target, size_t segment, char *buf,
                                      size_t size) {
  const char *query = strchr(target, '?');
  const char *end = query ? query : target + strlen(target);
  for (size_t i = 0; i < mn_api_n_routes; i++) {
    const char *pat = mn_api_routes[i].pattern, *pat_end = pat + strlen(pat);
    size_t len, plen;
    bool literals_match = true;
    for (size_t k = 0; k < segment && literals_match; k++) {
      const char *ps = segment_at(pat, pat_end, k, &plen);
      const char *ts = segment_at(target, end, k, &len);
      literals_match = ps && ts && (ps[0] == '{' || (plen == len && memcmp(ps, ts, len) == 0));
    }
    const char *ps = literals_match ? segment_at(pat, pat_end, segment, &plen) : NULL;
    if (!ps || ps[0] != '{' || plen < 2 || plen - 2 >= size)
      continue;
    memcpy(buf, ps + 1, plen - 2);
    buf[plen - 2] = '\0';
    return buf;
  }
  return NULL;
}

int mn_route_match(enum mn_http_method method, char *path, struct mn_api_request *req) {
  char *starts[MN_API_MAX_PARAMS], *ends[MN_API_MAX_PARAMS];
  size_t n;
  bool path_known = false;
  for (size_t i = 0; i < mn_api_n_routes; i++) {
    const struct mn_route *r = &mn_api_routes[i];
    if (!match_pattern(r->pattern, path, starts, ends, &n))
      continue;
    if (r->method != method) {
      path_known = true;
      continue;
    }
    req->route = r;
    req->n_params = n;
    for (size_t k = 0; k < n; k++) {
      *ends[k] = '\0';
      req->params[k] = starts[k];
    }
    return 0;
  }
  return path_known ? MN_EMETHOD : MN_ENOTFOUND_ROUTE;
}

bool mn_route_by_id(const struct mn_route *route) {
  return route->handler == mn_api_get_invocation_by_id ||
         route->handler == mn_api_get_execution_by_id;
}
