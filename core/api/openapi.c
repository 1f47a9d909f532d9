/* OpenAPI 3.0.3 from the route table plus a small table of shapes. */
#include "api/openapi.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/routes.h"

#ifndef MN_VERSION_STRING
#define MN_VERSION_STRING "0.0.0"
#endif

enum field_type {
  F_STRING,
  F_INTEGER,
  F_NUMBER,
  F_OBJECT,    /* a free-form object */
  F_REF,       /* another shape */
  F_STRINGS,   /* array of strings */
  F_REFS,      /* array of another shape */
  F_STRING_MAP, /* object of strings */
  F_LOC,       /* array of strings and integers (a validation error's loc) */
  F_BOOLEAN,
};

struct field {
  const char *name;
  enum field_type type;
  const char *ref;
  unsigned flags;
};
#define OPT 1u  /* may be absent (request bodies) */
#define NUL 2u  /* may be null */

struct shape {
  const char *name;
  const struct field *fields;    /* terminated by a NULL name; NULL for enums */
  const char *const *enum_values; /* NULL-terminated */
};

/* A time: whole seconds plus the precise microseconds alongside. */
#define TIME(n) {n, F_INTEGER, NULL, 0}, {n "_us", F_INTEGER, NULL, 0}
#define TIME_NUL(n) {n, F_INTEGER, NULL, NUL}, {n "_us", F_INTEGER, NULL, NUL}
#define STR(n) {n, F_STRING, NULL, 0}
#define STR_NUL(n) {n, F_STRING, NULL, NUL}
#define REF(n, r) {n, F_REF, r, 0}
#define END {NULL, F_STRING, NULL, 0}

#define FUNCTION_FIELDS                                                                      \
  REF("resource_spec", "ResourceSpec"), REF("execution_spec", "ExecutionSpec"),              \
      REF("function_status", "FunctionStatus"), {"prepared_function_details", F_OBJECT, NULL, NUL}
#define EXECUTION_FIELDS                                                                     \
  REF("worker_status", "WorkerStatus"), {"worker_details", F_OBJECT, NULL, NUL},             \
      TIME_NUL("termination_signal_time"), {"outcome", F_REF, "ExecutionOutcome", NUL},      \
      STR_NUL("output"), STR_NUL("error_message"), TIME("creation_time"),                    \
      TIME("last_update_time"), TIME_NUL("execution_start_time"),                            \
      TIME_NUL("execution_finish_time")
#define INVOCATION_KEYS                                                                      \
  STR("project_name"), STR("version_id"), STR("function_name"), STR("invocation_id")

static const struct field health_status[] = {STR("status"), END};
static const struct field error_response[] = {STR("detail"), END};
static const struct field validation_error[] = {
    {"loc", F_LOC, NULL, 0}, STR("msg"), STR("type"), {"ctx", F_OBJECT, NULL, OPT}, END};
static const struct field http_validation_error[] = {
    {"detail", F_REFS, "ValidationError", 0}, END};
static const struct field project_info[] = {
    STR("project_name"), TIME_NUL("deletion_request_time"), TIME("creation_time"), END};
static const struct field projects_list[] = {{"projects", F_REFS, "ProjectInfo", 0}, END};
static const struct field resource_spec[] = {{"virtual_cpus", F_NUMBER, NULL, 0},
                                             {"memory_gbs", F_NUMBER, NULL, 0},
                                             {"max_concurrency", F_INTEGER, NULL, 0},
                                             /* additive (docs/compatibility.md, "Task
                                              * semantics"): absent when not set */
                                             {"max_concurrency_per_key", F_INTEGER, NULL, OPT | NUL},
                                             END};
static const struct field execution_spec[] = {
    {"max_retries", F_INTEGER, NULL, 0},
    {"timeout_seconds", F_INTEGER, NULL, 0},
    {"retry_delay_seconds", F_NUMBER, NULL, OPT | NUL},
    {"retry_backoff_factor", F_NUMBER, NULL, OPT | NUL},
    {"retry_max_delay_seconds", F_NUMBER, NULL, OPT | NUL},
    {"attempt_timeout_seconds", F_INTEGER, NULL, OPT | NUL},
    {"queue_timeout_seconds", F_INTEGER, NULL, OPT | NUL},
    {"heartbeat_timeout_seconds", F_INTEGER, NULL, OPT | NUL},
    END};
static const struct field function_spec[] = {
    STR("function_name"), {"docker_image_override", F_STRING, NULL, OPT | NUL},
    REF("resource_spec", "ResourceSpec"), REF("execution_spec", "ExecutionSpec"),
    {"command", F_STRINGS, NULL, OPT | NUL}, {"env", F_STRING_MAP, NULL, OPT | NUL},
    {"provider", F_STRING, NULL, OPT | NUL}, END};
static const struct field version_definition[] = {
    STR("default_docker_image"), {"functions", F_REFS, "FunctionSpec", 0}, END};
static const struct field function_for_version[] = {
    STR("function_name"), STR("docker_image"), FUNCTION_FIELDS,
    {"command", F_STRINGS, NULL, NUL}, {"env", F_STRING_MAP, NULL, NUL},
    STR_NUL("provider"), STR_NUL("preparation_error"), END};
static const struct field version_info[] = {
    STR("project_name"), STR("version_id"), TIME("creation_time"),
    {"functions", F_REFS, "FunctionInfoForVersion", 0}, END};
static const struct field version_for_project[] = {STR("version_id"), TIME("creation_time"),
                                                   END};
static const struct field versions_list[] = {
    STR("project_name"), {"versions", F_REFS, "VersionInfoForProject", 0}, END};
static const struct field parent_definition[] = {STR("function_name"), STR("invocation_id"),
                                                 END};
static const struct field invocation_definition[] = {
    {"parent_invocation", F_REF, "ParentInvocationDefinition", OPT | NUL}, STR("input"),
    {"priority", F_INTEGER, NULL, OPT | NUL}, {"start_at", F_NUMBER, NULL, OPT | NUL},
    {"concurrency_key", F_STRING, NULL, OPT | NUL},
    {"idempotency_key", F_STRING, NULL, OPT | NUL}, END};
static const struct field parent_info[] = {
    STR("function_name"), STR("invocation_id"), TIME_NUL("cancellation_request_time"),
    REF("invocation_status", "InvocationStatus"), TIME("creation_time"),
    TIME("last_update_time"), END};
static const struct field execution_summary[] = {STR("execution_id"), EXECUTION_FIELDS, END};
static const struct field invocation_info[] = {
    INVOCATION_KEYS, {"parent_invocation", F_REF, "ParentInvocationInfo", NUL}, FUNCTION_FIELDS,
    STR("input"), TIME_NUL("cancellation_request_time"),
    REF("invocation_status", "InvocationStatus"), TIME("creation_time"),
    TIME("last_update_time"), {"executions", F_REFS, "ExecutionSummary", 0},
    {"priority", F_INTEGER, NULL, OPT}, {"start_at", F_NUMBER, NULL, OPT},
    {"concurrency_key", F_STRING, NULL, OPT}, {"idempotency_key", F_STRING, NULL, OPT},
    {"termination_reason", F_STRING, NULL, OPT}, END};
static const struct field invocation_for_function[] = {
    STR("invocation_id"), {"parent_invocation", F_REF, "ParentInvocationDefinition", NUL},
    TIME_NUL("cancellation_request_time"), REF("invocation_status", "InvocationStatus"),
    TIME("creation_time"), TIME("last_update_time"), END};
static const struct field invocations_list[] = {
    STR("project_name"), STR("version_id"), STR("function_name"),
    {"invocations", F_REFS, "InvocationInfoForFunction", 0}, STR_NUL("next_offset"), END};
static const struct field execution_info[] = {
    INVOCATION_KEYS, STR("execution_id"), STR("input"), TIME_NUL("cancellation_request_time"),
    FUNCTION_FIELDS, EXECUTION_FIELDS, TIME("invocation_creation_time"), END};
static const struct field temporary_result[] = {STR("latest_output"), END};
static const struct field final_result[] = {
    REF("outcome", "ExecutionOutcome"), {"final_output", F_STRING, NULL, OPT | NUL},
    {"error_message", F_STRING, NULL, OPT | NUL}, END};
static const struct field execution_logs[] = {
    INVOCATION_KEYS, STR("execution_id"), {"log_lines", F_STRINGS, NULL, 0},
    STR_NUL("next_offset"), END};
static const struct field credentials[] = {STR("repository_name"), STR("username"),
                                           STR("password"), STR("endpoint_url"), END};
static const struct field provider_info[] = {STR("name"), STR("type"), END};
static const struct field providers_list[] = {
    STR("default"), {"providers", F_REFS, "ProviderInfo", 0}, END};

static const struct field progress_update[] = {STR("output"), TIME("time"),
                                              {"offset", F_INTEGER, NULL, 0}, END};
static const struct field progress_history[] = {
    {"updates", F_REFS, "ProgressUpdate", 0}, STR_NUL("next_offset"), END};

static const struct field database_readiness[] = {
    {"ok", F_BOOLEAN, NULL, 0}, {"latency_us", F_INTEGER, NULL, NUL},
    {"checked_ms_ago", F_INTEGER, NULL, NUL}, STR_NUL("error"), END};
static const struct field migrations_readiness[] = {
    {"ok", F_BOOLEAN, NULL, 0}, {"applied", F_INTEGER, NULL, NUL}, {"known", F_INTEGER, NULL, 0},
    END};
static const struct field disk_readiness[] = {
    {"ok", F_BOOLEAN, NULL, 0}, STR("path"), {"free_bytes", F_INTEGER, NULL, NUL},
    {"min_free_bytes", F_INTEGER, NULL, 0}, STR_NUL("error"), END};
static const struct field readiness[] = {
    {"ready", F_BOOLEAN, NULL, 0}, {"reasons", F_STRINGS, NULL, 0},
    REF("database", "DatabaseReadiness"), REF("migrations", "MigrationsReadiness"),
    REF("scheduler", "SchedulerRole"), {"providers", F_REFS, "ProviderInfo", 0},
    REF("disk", "DiskReadiness"), END};

static const char *const scheduler_role[] = {"active", "standby", "off", NULL};
static const char *const function_status[] = {"PENDING", "READY", NULL};
static const char *const invocation_status[] = {"RUNNING", "TERMINATED", NULL};
static const char *const worker_status[] = {"PENDING", "PROVISIONING", "RUNNING", "TERMINATED",
                                            NULL};
static const char *const outcome[] = {"SUCCEEDED", "FAILED", "ABORTED", NULL};

static const struct shape shapes[] = {
    {"HealthStatus", health_status, NULL},
    {"ErrorResponse", error_response, NULL},
    {"ValidationError", validation_error, NULL},
    {"HTTPValidationError", http_validation_error, NULL},
    {"ProjectInfo", project_info, NULL},
    {"ProjectsList", projects_list, NULL},
    {"ResourceSpec", resource_spec, NULL},
    {"ExecutionSpec", execution_spec, NULL},
    {"FunctionSpec", function_spec, NULL},
    {"VersionDefinition", version_definition, NULL},
    {"FunctionInfoForVersion", function_for_version, NULL},
    {"VersionInfo", version_info, NULL},
    {"VersionInfoForProject", version_for_project, NULL},
    {"VersionsListForProject", versions_list, NULL},
    {"ParentInvocationDefinition", parent_definition, NULL},
    {"InvocationDefinition", invocation_definition, NULL},
    {"ParentInvocationInfo", parent_info, NULL},
    {"ExecutionSummary", execution_summary, NULL},
    {"InvocationInfo", invocation_info, NULL},
    {"InvocationInfoForFunction", invocation_for_function, NULL},
    {"InvocationsListForFunction", invocations_list, NULL},
    {"ExecutionInfo", execution_info, NULL},
    {"ExecutionTemporaryResultPayload", temporary_result, NULL},
    {"ExecutionFinalResultPayload", final_result, NULL},
    {"ExecutionLogs", execution_logs, NULL},
    {"ContainerRepositoryCredentials", credentials, NULL},
    {"ProviderInfo", provider_info, NULL},
    {"ProvidersList", providers_list, NULL},
    {"ProgressUpdate", progress_update, NULL},
    {"ProgressHistory", progress_history, NULL},
    {"DatabaseReadiness", database_readiness, NULL},
    {"MigrationsReadiness", migrations_readiness, NULL},
    {"DiskReadiness", disk_readiness, NULL},
    {"Readiness", readiness, NULL},
    {"SchedulerRole", NULL, scheduler_role},
    {"FunctionStatus", NULL, function_status},
    {"InvocationStatus", NULL, invocation_status},
    {"WorkerStatus", NULL, worker_status},
    {"ExecutionOutcome", NULL, outcome},
};

static json_t *ref_to(const char *name) {
  char ref[128];
  snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
  return json_pack("{s:s}", "$ref", ref);
}

/* "project_name" -> "Project Name", as FastAPI titles things. */
static void title_of(const char *name, char *out, size_t size) {
  size_t i = 0;
  bool start = true;
  for (const char *p = name; *p && i + 1 < size; p++) {
    char c = *p == '_' ? ' ' : *p;
    out[i++] = start ? (char)toupper((unsigned char)c) : c;
    start = *p == '_';
  }
  out[i] = '\0';
}

static json_t *field_schema(const struct field *f) {
  json_t *s = NULL;
  switch (f->type) {
  case F_STRING: s = json_pack("{s:s}", "type", "string"); break;
  case F_INTEGER: s = json_pack("{s:s}", "type", "integer"); break;
  case F_NUMBER: s = json_pack("{s:s}", "type", "number"); break;
  case F_BOOLEAN: s = json_pack("{s:s}", "type", "boolean"); break;
  case F_OBJECT: s = json_pack("{s:s}", "type", "object"); break;
  case F_STRINGS: s = json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string"); break;
  case F_REFS: s = json_pack("{s:s, s:o}", "type", "array", "items", ref_to(f->ref)); break;
  case F_STRING_MAP:
    s = json_pack("{s:s, s:{s:s}}", "type", "object", "additionalProperties", "type", "string");
    break;
  case F_LOC:
    s = json_pack("{s:s, s:{s:[{s:s},{s:s}]}}", "type", "array", "items", "anyOf", "type",
                  "string", "type", "integer");
    break;
  case F_REF:
    /* OpenAPI 3.0 ignores siblings of $ref, so a nullable ref goes in allOf */
    s = f->flags & NUL ? json_pack("{s:[o]}", "allOf", ref_to(f->ref)) : ref_to(f->ref);
    break;
  }
  if (s && (f->flags & NUL))
    json_object_set_new(s, "nullable", json_true());
  if (s && f->type != F_REF) {
    char title[128];
    title_of(f->name, title, sizeof title);
    json_object_set_new(s, "title", json_string(title));
  }
  return s;
}

static json_t *shape_schema(const struct shape *sh) {
  if (sh->enum_values) {
    json_t *values = json_array();
    for (const char *const *v = sh->enum_values; *v; v++)
      json_array_append_new(values, json_string(*v));
    return json_pack("{s:s, s:s, s:o}", "title", sh->name, "type", "string", "enum", values);
  }
  json_t *props = json_object(), *required = json_array();
  for (const struct field *f = sh->fields; f->name; f++) {
    json_object_set_new(props, f->name, field_schema(f));
    if (!(f->flags & OPT))
      json_array_append_new(required, json_string(f->name));
  }
  return json_pack("{s:s, s:s, s:o, s:o}", "title", sh->name, "type", "object", "properties",
                   props, "required", required);
}

json_t *mn_openapi_schema(const char *name) {
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    if (strcmp(shapes[i].name, name) == 0)
      return shape_schema(&shapes[i]);
  return NULL;
}

static json_t *json_content(const char *schema) {
  if (strcmp(schema, MN_ROUTE_EVENT_STREAM) == 0)
    return json_pack("{s:{s:{s:s}}}", MN_ROUTE_EVENT_STREAM, "schema", "type", "string");
  return json_pack("{s:{s:o}}", "application/json", "schema", ref_to(schema));
}

static json_t *parameters(const struct mn_route *r) {
  json_t *list = json_array();
  char title[128];
  for (const char *open = strchr(r->pattern, '{'); open; open = strchr(open + 1, '{')) {
    char name[64];
    const char *close = strchr(open, '}');
    snprintf(name, sizeof name, "%.*s", (int)(close - open - 1), open + 1);
    title_of(name, title, sizeof title);
    json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "name", name, "in",
                                          "path", "required", 1, "schema", "type", "string",
                                          "title", title));
  }
  if (strcmp(r->response_schema, MN_ROUTE_EVENT_STREAM) == 0)
    json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name",
                                          "Last-Event-ID", "in", "header", "required", 0,
                                          "description", "Resume after this event id.",
                                          "schema", "type", "integer"));
  for (const struct mn_query_param *q = r->query; q && q->name; q++) {
    json_t *schema = q->type == MN_QUERY_INVOCATION_STATUS ? ref_to("InvocationStatus")
                     : json_pack("{s:s}", "type",
                                 q->type == MN_QUERY_INTEGER ? "integer" : "string");
    json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", q->name, "in",
                                          "query", "required", 0, "description",
                                          q->description, "schema", schema));
  }
  return list;
}

/* Adds an error response, joining the details of errors that share a status. */
static void add_error(json_t *responses, int code) {
  char status[8];
  snprintf(status, sizeof status, "%d", mn_error_http_status(code));
  json_t *existing = json_object_get(responses, status);
  if (existing) {
    const char *old = json_string_value(json_object_get(existing, "description"));
    json_t *joined = json_sprintf("%s; %s", old ? old : "", mn_strerror(code));
    json_object_set_new(existing, "description", joined);
    return;
  }
  json_object_set_new(responses, status,
                      json_pack("{s:s, s:o}", "description", mn_strerror(code), "content",
                                json_content("ErrorResponse")));
}

static json_t *operation(const struct mn_route *r) {
  json_t *responses = json_pack("{s:{s:s, s:o}}", "200", "description", "Successful Response",
                                "content", json_content(r->response_schema));
  for (const int *e = r->errors; *e; e++)
    add_error(responses, *e);
  if (!r->no_auth) {
    add_error(responses, MN_ENOT_AUTHENTICATED);
    add_error(responses, MN_EBAD_CREDENTIALS);
    add_error(responses, MN_EAPI_KEY_INVALID);
  }
  if (r->request_schema)
    add_error(responses, MN_ETOOLARGE);
  if (r->unavailable_schema)
    json_object_set_new(responses, "503",
                        json_pack("{s:s, s:o}", "description", "Not ready", "content",
                                  json_content(r->unavailable_schema)));
  if (r->request_schema || r->query || strchr(r->pattern, '{'))
    json_object_set_new(responses, "422",
                        json_pack("{s:s, s:o}", "description", "Validation Error", "content",
                                  json_content("HTTPValidationError")));
  json_t *op = json_pack("{s:s, s:s, s:o, s:o}", "summary", r->summary, "operationId",
                         r->operation_id, "parameters", parameters(r), "responses", responses);
  if (r->request_schema)
    json_object_set_new(op, "requestBody",
                        json_pack("{s:o, s:b}", "content", json_content(r->request_schema),
                                  "required", 1));
  if (!r->no_auth)
    json_object_set_new(op, "security", json_pack("[{s:[]}]", "HTTPBearer"));
  return op;
}

json_t *mn_openapi_document(void) {
  json_t *paths = json_object(), *schemas = json_object();
  for (size_t i = 0; i < mn_api_n_routes; i++) {
    const struct mn_route *r = &mn_api_routes[i];
    json_t *item = json_object_get(paths, r->pattern);
    if (!item) {
      item = json_object();
      json_object_set_new(paths, r->pattern, item);
    }
    json_object_set_new(item, mn_http_method_lower(r->method), operation(r));
  }
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    json_object_set_new(schemas, shapes[i].name, shape_schema(&shapes[i]));
  return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s}}}}", "openapi", "3.0.3",
                   "info", "title", "Multinode", "version", MN_VERSION_STRING, "paths", paths,
                   "components", "schemas", schemas, "securitySchemes", "HTTPBearer", "type",
                   "http", "scheme", "bearer");
}
