#include "store/model.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static const char *const function_status_names[] = {"PENDING", "READY"};
static const char *const invocation_status_names[] = {"RUNNING", "TERMINATED"};
static const char *const worker_status_names[] = {"PENDING", "PROVISIONING", "RUNNING",
                                                  "TERMINATED"};
static const char *const outcome_names[] = {NULL, "SUCCEEDED", "FAILED", "ABORTED"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int parse_enum(const char *const *names, size_t n, const char *s, int *out) {
  for (size_t i = 0; i < n; i++) {
    if (names[i] && s && strcmp(names[i], s) == 0) {
      *out = (int)i;
      return 0;
    }
  }
  return MN_EINVAL;
}

const char *mn_function_status_str(enum mn_function_status s) {
  return (size_t)s < N_OF(function_status_names) ? function_status_names[s] : "PENDING";
}
const char *mn_invocation_status_str(enum mn_invocation_status s) {
  return (size_t)s < N_OF(invocation_status_names) ? invocation_status_names[s] : "RUNNING";
}
const char *mn_worker_status_str(enum mn_worker_status s) {
  return (size_t)s < N_OF(worker_status_names) ? worker_status_names[s] : "PENDING";
}
const char *mn_outcome_str(enum mn_outcome o) {
  return (size_t)o < N_OF(outcome_names) ? outcome_names[o] : NULL;
}

int mn_function_status_parse(const char *s, enum mn_function_status *out) {
  int v, rc = parse_enum(function_status_names, N_OF(function_status_names), s, &v);
  if (rc == 0)
    *out = (enum mn_function_status)v;
  return rc;
}
int mn_invocation_status_parse(const char *s, enum mn_invocation_status *out) {
  int v, rc = parse_enum(invocation_status_names, N_OF(invocation_status_names), s, &v);
  if (rc == 0)
    *out = (enum mn_invocation_status)v;
  return rc;
}
int mn_worker_status_parse(const char *s, enum mn_worker_status *out) {
  int v, rc = parse_enum(worker_status_names, N_OF(worker_status_names), s, &v);
  if (rc == 0)
    *out = (enum mn_worker_status)v;
  return rc;
}
int mn_outcome_parse(const char *s, enum mn_outcome *out) {
  int v, rc = parse_enum(outcome_names, N_OF(outcome_names), s, &v);
  if (rc == 0)
    *out = (enum mn_outcome)v;
  return rc;
}

void mn_project_release(struct mn_project *p) {
  if (!p)
    return;
  free(p->project_name);
  memset(p, 0, sizeof *p);
}

/* NULL stays NULL; false when out of memory. */
static bool dup_text(char **dst, const char *src) {
  *dst = src ? strdup(src) : NULL;
  return !src || *dst;
}

static bool dup_json(json_t **dst, const json_t *src) {
  *dst = src ? json_deep_copy(src) : NULL;
  return !src || *dst;
}

int mn_function_copy(struct mn_function *dst, const struct mn_function *src) {
  *dst = (struct mn_function){.resource_spec = src->resource_spec,
                              .execution_spec = src->execution_spec,
                              .function_status = src->function_status};
  bool ok = dup_text(&dst->project_name, src->project_name);
  ok = dup_text(&dst->version_id, src->version_id) && ok;
  ok = dup_text(&dst->function_name, src->function_name) && ok;
  ok = dup_text(&dst->docker_image, src->docker_image) && ok;
  ok = dup_json(&dst->prepared_function_details, src->prepared_function_details) && ok;
  ok = dup_json(&dst->command, src->command) && ok;
  ok = dup_json(&dst->env, src->env) && ok;
  ok = dup_text(&dst->provider, src->provider) && ok;
  ok = dup_text(&dst->preparation_error, src->preparation_error) && ok;
  if (ok)
    return 0;
  mn_function_release(dst);
  return MN_ENOMEM;
}

void mn_function_release(struct mn_function *f) {
  if (!f)
    return;
  free(f->project_name);
  free(f->version_id);
  free(f->function_name);
  free(f->docker_image);
  json_decref(f->prepared_function_details);
  json_decref(f->command);
  json_decref(f->env);
  free(f->provider);
  free(f->preparation_error);
  memset(f, 0, sizeof *f);
}

void mn_function_spec_release(struct mn_function_spec *s) {
  if (!s)
    return;
  free(s->function_name);
  free(s->docker_image_override);
  json_decref(s->command);
  json_decref(s->env);
  free(s->provider);
  memset(s, 0, sizeof *s);
}

void mn_version_definition_release(struct mn_version_definition *d) {
  if (!d)
    return;
  free(d->default_docker_image);
  for (size_t i = 0; i < d->n_functions; i++)
    mn_function_spec_release(&d->functions[i]);
  free(d->functions);
  memset(d, 0, sizeof *d);
}

void mn_version_release(struct mn_version *v) {
  if (!v)
    return;
  free(v->project_name);
  free(v->version_id);
  for (size_t i = 0; i < v->n_functions; i++)
    mn_function_release(&v->functions[i]);
  free(v->functions);
  memset(v, 0, sizeof *v);
}

void mn_execution_release(struct mn_execution *e) {
  if (!e)
    return;
  free(e->execution_id);
  json_decref(e->worker_details);
  free(e->output);
  free(e->error_message);
  memset(e, 0, sizeof *e);
}

void mn_parent_info_release(struct mn_parent_info *p) {
  if (!p)
    return;
  free(p->function_name);
  free(p->invocation_id);
  memset(p, 0, sizeof *p);
}

void mn_invocation_release(struct mn_invocation *inv) {
  if (!inv)
    return;
  mn_function_release(&inv->function);
  free(inv->invocation_id);
  mn_parent_info_release(&inv->parent);
  free(inv->input);
  free(inv->concurrency_key);
  free(inv->idempotency_key);
  free(inv->termination_reason);
  for (size_t i = 0; i < inv->n_executions; i++)
    mn_execution_release(&inv->executions[i]);
  free(inv->executions);
  memset(inv, 0, sizeof *inv);
}

void mn_invocation_brief_release(struct mn_invocation_brief *b) {
  if (!b)
    return;
  free(b->invocation_id);
  free(b->parent_function_name);
  free(b->parent_invocation_id);
  memset(b, 0, sizeof *b);
}

void mn_invocation_page_release(struct mn_invocation_page *page) {
  if (!page)
    return;
  for (size_t i = 0; i < page->n_items; i++)
    mn_invocation_brief_release(&page->items[i]);
  free(page->items);
  free(page->next_offset);
  memset(page, 0, sizeof *page);
}

void mn_project_list_free(struct mn_project *items, size_t n) {
  for (size_t i = 0; items && i < n; i++)
    mn_project_release(&items[i]);
  free(items);
}

void mn_version_brief_list_free(struct mn_version_brief *items, size_t n) {
  for (size_t i = 0; items && i < n; i++)
    free(items[i].version_id);
  free(items);
}
