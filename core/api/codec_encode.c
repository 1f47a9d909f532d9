/* Encoders: the store's model to the API's JSON shapes (docs/compatibility.md §1).
 *
 * Each builder accumulates failures in one flag: jansson's *_set_new steals
 * its value even when it fails, and a NULL value (allocation failure) makes
 * it fail, so one check at the end covers every allocation. */
#include "api/codec.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "multinode/common/utf8.h"

/* A JSON string of s with every invalid byte replaced by U+FFFD. */
static json_t *lossy_string(const char *s) {
  json_t *j = json_string(s);
  if (j)
    return j;
  char *clean = mn_utf8_sanitize(s, strlen(s));
  j = clean ? json_string(clean) : NULL;
  free(clean);
  return j;
}

static json_t *str_or_null(const char *s) { return s ? lossy_string(s) : json_null(); }

static json_t *copy_or_null(const json_t *j) {
  return j ? json_deep_copy(j) : json_null();
}

static json_t *time_s(int64_t us) {
  return us == MN_TIME_NULL ? json_null() : json_integer(mn_us_to_s(us));
}

static json_t *time_us(int64_t us) {
  return us == MN_TIME_NULL ? json_null() : json_integer(us);
}

/* Sets `key` (whole seconds) and `key_us` (microseconds); -1 on failure. */
static int set_time(json_t *o, const char *key, int64_t us) {
  char key_us[64];
  snprintf(key_us, sizeof key_us, "%s_us", key);
  int bad = json_object_set_new(o, key, time_s(us));
  bad |= json_object_set_new(o, key_us, time_us(us));
  return bad;
}

static json_t *finish(json_t *o, int bad) {
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* A whole number as an integer, anything else as a real. */
static json_t *number(double x) {
  return x == (double)(long long)x ? json_integer((long long)x) : json_real(x);
}

static json_t *resource_spec_json(const struct mn_resource_spec *r) {
  json_t *o = json_object();
  int bad = json_object_set_new(o, "virtual_cpus", json_real(r->virtual_cpus));
  bad |= json_object_set_new(o, "memory_gbs", json_real(r->memory_gbs));
  bad |= json_object_set_new(o, "max_concurrency", json_integer(r->max_concurrency));
  /* additive fields, shown when set (docs/compatibility.md, "Task semantics") */
  if (r->max_concurrency_per_key > 0)
    bad |= json_object_set_new(o, "max_concurrency_per_key",
                               json_integer(r->max_concurrency_per_key));
  return finish(o, bad);
}

static json_t *execution_spec_json(const struct mn_execution_spec *e) {
  json_t *o = json_object();
  int bad = json_object_set_new(o, "max_retries", json_integer(e->max_retries));
  bad |= json_object_set_new(o, "timeout_seconds", json_integer(e->timeout_seconds));
  /* additive fields, shown when set (docs/compatibility.md, "Task semantics") */
  if (e->retry_delay_seconds > 0) {
    bad |= json_object_set_new(o, "retry_delay_seconds", number(e->retry_delay_seconds));
    bad |= json_object_set_new(o, "retry_backoff_factor", number(e->retry_backoff_factor));
    bad |= json_object_set_new(o, "retry_max_delay_seconds",
                               number(e->retry_max_delay_seconds));
  }
  if (e->attempt_timeout_seconds > 0)
    bad |= json_object_set_new(o, "attempt_timeout_seconds",
                               json_integer(e->attempt_timeout_seconds));
  if (e->queue_timeout_seconds > 0)
    bad |= json_object_set_new(o, "queue_timeout_seconds",
                               json_integer(e->queue_timeout_seconds));
  if (e->heartbeat_timeout_seconds > 0)
    bad |= json_object_set_new(o, "heartbeat_timeout_seconds",
                               json_integer(e->heartbeat_timeout_seconds));
  return finish(o, bad);
}

/* resource_spec, execution_spec, function_status, prepared_function_details */
static int add_function_fields(json_t *o, const struct mn_function *f) {
  int bad = json_object_set_new(o, "resource_spec", resource_spec_json(&f->resource_spec));
  bad |= json_object_set_new(o, "execution_spec", execution_spec_json(&f->execution_spec));
  bad |= json_object_set_new(o, "function_status",
                             json_string(mn_function_status_str(f->function_status)));
  bad |= json_object_set_new(o, "prepared_function_details",
                             copy_or_null(f->prepared_function_details));
  return bad;
}

/* Everything of an ExecutionSummary after execution_id. */
static int add_execution_fields(json_t *o, const struct mn_execution *e) {
  int bad = json_object_set_new(o, "worker_status",
                                json_string(mn_worker_status_str(e->worker_status)));
  bad |= json_object_set_new(o, "worker_details", copy_or_null(e->worker_details));
  bad |= set_time(o, "termination_signal_time", e->termination_signal_time);
  bad |= json_object_set_new(o, "outcome", str_or_null(mn_outcome_str(e->outcome)));
  bad |= json_object_set_new(o, "output", str_or_null(e->output));
  bad |= json_object_set_new(o, "error_message", str_or_null(e->error_message));
  bad |= set_time(o, "creation_time", e->creation_time);
  bad |= set_time(o, "last_update_time", e->last_update_time);
  bad |= set_time(o, "execution_start_time", e->execution_start_time);
  bad |= set_time(o, "execution_finish_time", e->execution_finish_time);
  return bad;
}

/* project_name, version_id, function_name, invocation_id */
static int add_invocation_keys(json_t *o, const struct mn_invocation *inv) {
  int bad = json_object_set_new(o, "project_name", str_or_null(inv->function.project_name));
  bad |= json_object_set_new(o, "version_id", str_or_null(inv->function.version_id));
  bad |= json_object_set_new(o, "function_name", str_or_null(inv->function.function_name));
  bad |= json_object_set_new(o, "invocation_id", str_or_null(inv->invocation_id));
  return bad;
}

json_t *mn_json_health(void) { return json_pack("{s:s}", "status", "healthy"); }

json_t *mn_json_error(const char *detail) {
  json_t *o = json_object();
  return finish(o, json_object_set_new(o, "detail", str_or_null(detail)));
}

json_t *mn_json_project_info(const struct mn_project *p) {
  json_t *o = json_object();
  int bad = json_object_set_new(o, "project_name", str_or_null(p->project_name));
  bad |= set_time(o, "deletion_request_time", p->deletion_request_time);
  bad |= set_time(o, "creation_time", p->creation_time);
  return finish(o, bad);
}

json_t *mn_json_projects_list(const struct mn_project *items, size_t n) {
  json_t *o = json_object(), *arr = json_array();
  int bad = json_object_set_new(o, "projects", arr);
  for (size_t i = 0; !bad && i < n; i++)
    bad |= json_array_append_new(arr, mn_json_project_info(&items[i]));
  return finish(o, bad);
}

json_t *mn_json_function_for_version(const struct mn_function *f) {
  json_t *o = json_object();
  int bad = json_object_set_new(o, "function_name", str_or_null(f->function_name));
  bad |= json_object_set_new(o, "docker_image", str_or_null(f->docker_image));
  bad |= add_function_fields(o, f);
  bad |= json_object_set_new(o, "command", copy_or_null(f->command));
  bad |= json_object_set_new(o, "env", copy_or_null(f->env));
  bad |= json_object_set_new(o, "provider", str_or_null(f->provider));
  bad |= json_object_set_new(o, "preparation_error", str_or_null(f->preparation_error));
  return finish(o, bad);
}

json_t *mn_json_version_info(const struct mn_version *v) {
  json_t *o = json_object(), *arr = json_array();
  int bad = json_object_set_new(o, "project_name", str_or_null(v->project_name));
  bad |= json_object_set_new(o, "version_id", str_or_null(v->version_id));
  bad |= set_time(o, "creation_time", v->creation_time);
  bad |= json_object_set_new(o, "functions", arr);
  for (size_t i = 0; !bad && i < v->n_functions; i++)
    bad |= json_array_append_new(arr, mn_json_function_for_version(&v->functions[i]));
  return finish(o, bad);
}

json_t *mn_json_versions_list(const char *project_name, const struct mn_version_brief *items,
                              size_t n) {
  json_t *o = json_object(), *arr = json_array();
  int bad = json_object_set_new(o, "project_name", str_or_null(project_name));
  bad |= json_object_set_new(o, "versions", arr);
  for (size_t i = 0; !bad && i < n; i++) {
    json_t *b = json_object();
    int b_bad = json_object_set_new(b, "version_id", str_or_null(items[i].version_id));
    b_bad |= set_time(b, "creation_time", items[i].creation_time);
    bad |= json_array_append_new(arr, finish(b, b_bad));
  }
  return finish(o, bad);
}

json_t *mn_json_execution_summary(const struct mn_execution *e) {
  json_t *o = json_object();
  int bad = json_object_set_new(o, "execution_id", str_or_null(e->execution_id));
  bad |= add_execution_fields(o, e);
  return finish(o, bad);
}

static json_t *parent_info_json(const struct mn_parent_info *p) {
  json_t *o = json_object();
  int bad = json_object_set_new(o, "function_name", str_or_null(p->function_name));
  bad |= json_object_set_new(o, "invocation_id", str_or_null(p->invocation_id));
  bad |= set_time(o, "cancellation_request_time", p->cancellation_request_time);
  bad |= json_object_set_new(o, "invocation_status",
                             json_string(mn_invocation_status_str(p->invocation_status)));
  bad |= set_time(o, "creation_time", p->creation_time);
  bad |= set_time(o, "last_update_time", p->last_update_time);
  return finish(o, bad);
}

json_t *mn_json_invocation_info(const struct mn_invocation *inv) {
  json_t *o = json_object(), *arr = json_array();
  int bad = add_invocation_keys(o, inv);
  bad |= json_object_set_new(o, "parent_invocation",
                             inv->has_parent ? parent_info_json(&inv->parent) : json_null());
  bad |= add_function_fields(o, &inv->function);
  bad |= json_object_set_new(o, "input", str_or_null(inv->input));
  bad |= set_time(o, "cancellation_request_time", inv->cancellation_request_time);
  bad |= json_object_set_new(o, "invocation_status",
                             json_string(mn_invocation_status_str(inv->invocation_status)));
  bad |= set_time(o, "creation_time", inv->creation_time);
  bad |= set_time(o, "last_update_time", inv->last_update_time);
  /* additive fields, shown when set (docs/compatibility.md, "Task semantics") */
  if (inv->priority != 0)
    bad |= json_object_set_new(o, "priority", json_integer(inv->priority));
  if (inv->start_at != MN_TIME_NULL && inv->start_at > 0)
    bad |= json_object_set_new(o, "start_at", number((double)inv->start_at / 1e6));
  if (inv->concurrency_key)
    bad |= json_object_set_new(o, "concurrency_key", str_or_null(inv->concurrency_key));
  if (inv->idempotency_key)
    bad |= json_object_set_new(o, "idempotency_key", str_or_null(inv->idempotency_key));
  if (inv->termination_reason)
    bad |= json_object_set_new(o, "termination_reason", str_or_null(inv->termination_reason));
  bad |= json_object_set_new(o, "executions", arr);
  for (size_t i = 0; !bad && i < inv->n_executions; i++)
    bad |= json_array_append_new(arr, mn_json_execution_summary(&inv->executions[i]));
  return finish(o, bad);
}

static json_t *invocation_brief_json(const struct mn_invocation_brief *b) {
  json_t *o = json_object(), *parent = json_null();
  int bad = json_object_set_new(o, "invocation_id", str_or_null(b->invocation_id));
  if (b->parent_function_name || b->parent_invocation_id) {
    parent = json_object();
    int p_bad = json_object_set_new(parent, "function_name",
                                    str_or_null(b->parent_function_name));
    p_bad |= json_object_set_new(parent, "invocation_id", str_or_null(b->parent_invocation_id));
    parent = finish(parent, p_bad);
  }
  bad |= json_object_set_new(o, "parent_invocation", parent);
  bad |= set_time(o, "cancellation_request_time", b->cancellation_request_time);
  bad |= json_object_set_new(o, "invocation_status",
                             json_string(mn_invocation_status_str(b->invocation_status)));
  bad |= set_time(o, "creation_time", b->creation_time);
  bad |= set_time(o, "last_update_time", b->last_update_time);
  return finish(o, bad);
}

json_t *mn_json_invocations_list(const char *project_name, const char *version_id,
                                 const char *function_name,
                                 const struct mn_invocation_page *page) {
  json_t *o = json_object(), *arr = json_array();
  int bad = json_object_set_new(o, "project_name", str_or_null(project_name));
  bad |= json_object_set_new(o, "version_id", str_or_null(version_id));
  bad |= json_object_set_new(o, "function_name", str_or_null(function_name));
  bad |= json_object_set_new(o, "invocations", arr);
  for (size_t i = 0; !bad && i < page->n_items; i++)
    bad |= json_array_append_new(arr, invocation_brief_json(&page->items[i]));
  bad |= json_object_set_new(o, "next_offset", str_or_null(page->next_offset));
  return finish(o, bad);
}

json_t *mn_json_execution_info(const struct mn_invocation *inv) {
  if (inv->n_executions < 1)
    return NULL;
  const struct mn_execution *e = &inv->executions[0];
  json_t *o = json_object();
  int bad = add_invocation_keys(o, inv);
  bad |= json_object_set_new(o, "execution_id", str_or_null(e->execution_id));
  bad |= json_object_set_new(o, "input", str_or_null(inv->input));
  bad |= set_time(o, "cancellation_request_time", inv->cancellation_request_time);
  bad |= add_function_fields(o, &inv->function);
  bad |= add_execution_fields(o, e);
  bad |= set_time(o, "invocation_creation_time", inv->creation_time);
  return finish(o, bad);
}

json_t *mn_json_execution_logs(const struct mn_invocation *inv, json_t *lines,
                               const char *next_offset) {
  json_t *o = json_object();
  const char *execution_id = inv->n_executions > 0 ? inv->executions[0].execution_id : NULL;
  int bad = add_invocation_keys(o, inv);
  bad |= json_object_set_new(o, "execution_id", str_or_null(execution_id));
  bad |= json_object_set_new(o, "log_lines", lines ? json_incref(lines) : json_array());
  bad |= json_object_set_new(o, "next_offset", str_or_null(next_offset));
  return finish(o, bad);
}

/* One element of a dotted location: all-digit segments are list indexes. */
static json_t *loc_element(const char *seg, size_t len) {
  bool digits = len > 0 && len < 19;
  for (size_t i = 0; digits && i < len; i++)
    digits = seg[i] >= '0' && seg[i] <= '9';
  return digits ? json_integer(strtoll(seg, NULL, 10)) : json_stringn(seg, len);
}

json_t *mn_json_validation_error(const struct mn_error *err) {
  const char *msg = err && err->msg[0] ? err->msg : "invalid request body";
  const char *sep = strstr(msg, ": ");
  const char *loc = "body", *text = msg;
  size_t loc_len = 4;
  /* A decoder location starts with "body" and holds no spaces. */
  if (sep && strncmp(msg, "body", 4) == 0 && memchr(msg, ' ', (size_t)(sep - msg)) == NULL) {
    loc = msg;
    loc_len = (size_t)(sep - msg);
    text = sep + 2;
  }
  json_t *path = json_array();
  int bad = path == NULL;
  for (size_t start = 0; !bad && start <= loc_len;) {
    const char *dot = memchr(loc + start, '.', loc_len - start);
    size_t end = dot ? (size_t)(dot - loc) : loc_len;
    bad |= json_array_append_new(path, loc_element(loc + start, end - start));
    start = end + 1;
  }
  if (bad) {
    json_decref(path);
    return NULL;
  }
  return json_pack("{s:[{s:o,s:s,s:s}]}", "detail", "loc", path, "msg", text, "type",
                   "value_error");
}
