/* Decoders: request bodies to the model, validated as the original server's
 * pydantic models validate them (docs/compatibility.md §1.2, §1.5-§1.7), with pydantic's
 * wording and dotted locations ("body.functions.1.resource_spec.virtual_cpus").
 * Unknown fields are ignored; the first failure is reported. */
#include "api/codec.h"
#include "api/names.h"
#include "util/clock.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOC_MAX 128 /* locations hold only our own field names and indexes */

/* MN_EINVAL with "<loc>[.<key>]: <message>". */
static int invalid(struct mn_error *err, const char *loc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int invalid(struct mn_error *err, const char *loc, const char *key, const char *fmt, ...) {
  char text[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  return mn_fail(err, MN_EINVAL, "%s%s%s: %s", loc, key ? "." : "", key ? key : "", text);
}

/* dst = "<loc>.<key>" (dst holds LOC_MAX bytes; our locations always fit). */
static void loc_join(char *dst, const char *loc, const char *key) {
  int n = snprintf(dst, LOC_MAX, "%s.%s", loc, key);
  if (n < 0 || n >= LOC_MAX)
    dst[LOC_MAX - 1] = '\0';
}

static int no_memory(struct mn_error *err) {
  return mn_fail(err, MN_ENOMEM, "out of memory while decoding the request body");
}

/* The value of obj[key]: 0 with *out set, or *out NULL when the field is
 * absent or null and not required. */
static int field(const json_t *obj, const char *loc, const char *key, bool required,
                 const json_t **out, struct mn_error *err) {
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v)
    return required ? invalid(err, loc, key, "field required") : 0;
  if (json_is_null(v))
    return required ? invalid(err, loc, key, "none is not an allowed value") : 0;
  *out = v;
  return 0;
}

/* Checks a string value: type, no NUL, min_len <= length < limit (code
 * points; limit 0: none). */
static int check_str(const json_t *v, const char *loc, const char *key, size_t min_len,
                     size_t limit, struct mn_error *err) {
  if (!json_is_string(v))
    return invalid(err, loc, key, "str type expected");
  const char *s = json_string_value(v);
  size_t nbytes = json_string_length(v);
  if (strlen(s) != nbytes)
    return invalid(err, loc, key, "string must not contain NUL characters");
  size_t n = mn_utf8_length(s, nbytes);
  if (n < min_len)
    return invalid(err, loc, key, "ensure this value has at least %zu characters", min_len);
  if (limit && n >= limit)
    return invalid(err, loc, key, "ensure this value has at most %zu characters", limit - 1);
  return 0;
}

/* A string field; *out is a heap copy, or NULL when optional and absent/null. */
static int get_str(const json_t *obj, const char *loc, const char *key, bool required,
                   size_t min_len, size_t limit, char **out, struct mn_error *err) {
  const json_t *v;
  int rc = field(obj, loc, key, required, &v, err);
  if (rc || !v)
    return rc;
  rc = check_str(v, loc, key, min_len, limit, err);
  if (rc)
    return rc;
  *out = strdup(json_string_value(v));
  return *out ? 0 : no_memory(err);
}

/* A string field that names something (a function, an invocation): also
 * no control characters, not "." or ".." (api/names.h). */
static int get_name(const json_t *obj, const char *loc, const char *key, size_t min_len,
                    size_t limit, char **out, struct mn_error *err) {
  int rc = get_str(obj, loc, key, true, min_len, limit, out, err);
  const char *problem = rc == 0 ? mn_name_problem(*out, strlen(*out)) : NULL;
  if (!problem)
    return rc;
  free(*out);
  *out = NULL;
  return invalid(err, loc, key, "%s", problem);
}

/* A required integer field with lo <= value <= hi (JSON reals are refused). */
static int get_int(const json_t *obj, const char *loc, const char *key, long long lo,
                   long long hi, int *out, struct mn_error *err) {
  const json_t *v;
  int rc = field(obj, loc, key, true, &v, err);
  if (rc)
    return rc;
  if (!json_is_integer(v))
    return invalid(err, loc, key, "value is not a valid integer");
  long long x = json_integer_value(v);
  if (x < lo)
    return invalid(err, loc, key, "ensure this value is greater than or equal to %lld", lo);
  if (x > hi)
    return invalid(err, loc, key, "ensure this value is less than or equal to %lld", hi);
  *out = (int)x;
  return 0;
}

/* An optional integer field (absent or null: *out untouched). */
static int get_opt_int(const json_t *obj, const char *loc, const char *key, long long lo,
                       long long hi, int *out, struct mn_error *err) {
  if (!json_object_get(obj, key) || json_is_null(json_object_get(obj, key)))
    return 0;
  return get_int(obj, loc, key, lo, hi, out, err);
}

/* An optional number field (integer or real) with lo <= value <= hi
 * (absent or null: *out untouched). */
static int get_opt_number(const json_t *obj, const char *loc, const char *key, double lo,
                          double hi, double *out, struct mn_error *err) {
  const json_t *v;
  int rc = field(obj, loc, key, false, &v, err);
  if (rc || !v)
    return rc;
  if (!json_is_number(v))
    return invalid(err, loc, key, "value is not a valid float");
  double x = json_number_value(v);
  if (!isfinite(x))
    return invalid(err, loc, key, "ensure this value is a finite number");
  if (x < lo)
    return invalid(err, loc, key, "ensure this value is greater than or equal to %g", lo);
  if (x > hi)
    return invalid(err, loc, key, "ensure this value is less than or equal to %g", hi);
  *out = x;
  return 0;
}

/* A required number field (integer or real) with 0 < value <= hi. */
static int get_positive(const json_t *obj, const char *loc, const char *key, double hi,
                        double *out, struct mn_error *err) {
  const json_t *v;
  int rc = field(obj, loc, key, true, &v, err);
  if (rc)
    return rc;
  if (!json_is_number(v))
    return invalid(err, loc, key, "value is not a valid float");
  double x = json_number_value(v);
  if (!isfinite(x))
    return invalid(err, loc, key, "ensure this value is a finite number");
  if (!(x > 0))
    return invalid(err, loc, key, "ensure this value is greater than 0");
  if (x > hi)
    return invalid(err, loc, key, "ensure this value is less than or equal to %g", hi);
  *out = x;
  return 0;
}

/* An object field; *sub_loc receives its location for nested errors. */
static int get_object(const json_t *obj, const char *loc, const char *key, bool required,
                      const json_t **out, char *sub_loc, struct mn_error *err) {
  int rc = field(obj, loc, key, required, out, err);
  if (rc || !*out)
    return rc;
  if (!json_is_object(*out))
    return invalid(err, loc, key, "value is not a valid dict");
  loc_join(sub_loc, loc, key);
  return 0;
}

static int parse_resource_spec(const json_t *obj, const char *loc,
                               struct mn_resource_spec *out, struct mn_error *err) {
  int rc = get_positive(obj, loc, "virtual_cpus", MN_VIRTUAL_CPUS_LIMIT, &out->virtual_cpus,
                        err);
  if (!rc)
    rc = get_positive(obj, loc, "memory_gbs", MN_MEMORY_GBS_LIMIT, &out->memory_gbs, err);
  if (!rc)
    rc = get_int(obj, loc, "max_concurrency", 1, MN_MAX_CONCURRENCY_LIMIT,
                 &out->max_concurrency, err);
  if (!rc)
    rc = get_opt_int(obj, loc, "max_concurrency_per_key", 1, MN_MAX_CONCURRENCY_LIMIT,
                     &out->max_concurrency_per_key, err);
  return rc;
}

static int parse_execution_spec(const json_t *obj, const char *loc,
                                struct mn_execution_spec *out, struct mn_error *err) {
  int rc = get_int(obj, loc, "max_retries", 0, MN_MAX_RETRIES_LIMIT, &out->max_retries, err);
  if (!rc)
    rc = get_int(obj, loc, "timeout_seconds", 1, MN_TIMEOUT_SECONDS_LIMIT,
                 &out->timeout_seconds, err);
  /* the additive fields (docs/compatibility.md, "Task semantics") */
  out->retry_backoff_factor = MN_RETRY_BACKOFF_FACTOR_DEFAULT;
  out->retry_max_delay_seconds = MN_RETRY_MAX_DELAY_DEFAULT;
  if (!rc)
    rc = get_opt_number(obj, loc, "retry_delay_seconds", 0, MN_RETRY_DELAY_LIMIT,
                        &out->retry_delay_seconds, err);
  if (!rc)
    rc = get_opt_number(obj, loc, "retry_backoff_factor", 1, MN_BACKOFF_FACTOR_LIMIT,
                        &out->retry_backoff_factor, err);
  if (!rc)
    rc = get_opt_number(obj, loc, "retry_max_delay_seconds", 0, MN_RETRY_DELAY_LIMIT,
                        &out->retry_max_delay_seconds, err);
  if (!rc)
    rc = get_opt_int(obj, loc, "attempt_timeout_seconds", 1, MN_TIMEOUT_SECONDS_LIMIT,
                     &out->attempt_timeout_seconds, err);
  if (!rc)
    rc = get_opt_int(obj, loc, "queue_timeout_seconds", 1, MN_TIMEOUT_SECONDS_LIMIT,
                     &out->queue_timeout_seconds, err);
  if (!rc)
    rc = get_opt_int(obj, loc, "heartbeat_timeout_seconds", 1, MN_TIMEOUT_SECONDS_LIMIT,
                     &out->heartbeat_timeout_seconds, err);
  return rc;
}

/* command: a non-empty list of strings, or absent/null. */
static int parse_command(const json_t *obj, const char *loc, json_t **out,
                         struct mn_error *err) {
  const json_t *v;
  char sub_loc[LOC_MAX];
  int rc = field(obj, loc, "command", false, &v, err);
  if (rc || !v)
    return rc;
  if (!json_is_array(v))
    return invalid(err, loc, "command", "value is not a valid list");
  if (json_array_size(v) == 0)
    return invalid(err, loc, "command", "ensure this value has at least 1 items");
  loc_join(sub_loc, loc, "command");
  for (size_t i = 0; i < json_array_size(v); i++) {
    char key[24];
    snprintf(key, sizeof key, "%zu", i);
    rc = check_str(json_array_get(v, i), sub_loc, key, 0, 0, err);
    if (rc)
      return rc;
  }
  *out = json_deep_copy(v);
  return *out ? 0 : no_memory(err);
}

/* env: an object of strings, or absent/null. Names are user text, so they
 * stay out of the location. */
static int parse_env(const json_t *obj, const char *loc, json_t **out, struct mn_error *err) {
  const json_t *v;
  int rc = field(obj, loc, "env", false, &v, err);
  if (rc || !v)
    return rc;
  if (!json_is_object(v))
    return invalid(err, loc, "env", "value is not a valid dict");
  for (void *it = json_object_iter((json_t *)v); it;
       it = json_object_iter_next((json_t *)v, it)) {
    const char *name = json_object_iter_key(it);
    const json_t *value = json_object_iter_value(it);
    if (name[0] == '\0' || strchr(name, '=') || strlen(name) != json_object_iter_key_len(it))
      return invalid(err, loc, "env",
                     "variable names must be non-empty and hold no '=' or NUL characters");
    if (!json_is_string(value) || strlen(json_string_value(value)) != json_string_length(value))
      return invalid(err, loc, "env", "every value must be a string without NUL characters");
  }
  *out = json_deep_copy(v);
  return *out ? 0 : no_memory(err);
}

static int parse_function_spec(const json_t *obj, const char *loc, struct mn_function_spec *out,
                               struct mn_error *err) {
  const json_t *v;
  char sub_loc[LOC_MAX];
  int rc;
  if (!json_is_object(obj))
    return invalid(err, loc, NULL, "value is not a valid dict");
  rc = get_name(obj, loc, "function_name", 1, MN_FUNCTION_NAME_LENGTH_LIMIT,
                &out->function_name, err);
  if (!rc)
    rc = get_str(obj, loc, "docker_image_override", false, 0, MN_DOCKER_IMAGE_LENGTH_LIMIT,
                 &out->docker_image_override, err);
  if (!rc)
    rc = get_object(obj, loc, "resource_spec", true, &v, sub_loc, err);
  if (!rc)
    rc = parse_resource_spec(v, sub_loc, &out->resource_spec, err);
  if (!rc)
    rc = get_object(obj, loc, "execution_spec", true, &v, sub_loc, err);
  if (!rc)
    rc = parse_execution_spec(v, sub_loc, &out->execution_spec, err);
  if (!rc)
    rc = parse_command(obj, loc, &out->command, err);
  if (!rc)
    rc = get_str(obj, loc, "provider", false, 1, 0, &out->provider, err);
  if (!rc)
    rc = parse_env(obj, loc, &out->env, err);
  return rc;
}

struct name_ref {
  const char *name;
  size_t index;
};

static int name_ref_cmp(const void *a, const void *b) {
  const struct name_ref *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Function names must be distinct; reports the earliest repeat. */
static int check_distinct(const struct mn_version_definition *d, struct mn_error *err) {
  size_t n = d->n_functions, dup = SIZE_MAX, first = 0;
  if (n < 2)
    return 0;
  struct name_ref *refs = calloc(n, sizeof *refs);
  if (!refs)
    return no_memory(err);
  for (size_t i = 0; i < n; i++)
    refs[i] = (struct name_ref){d->functions[i].function_name, i};
  qsort(refs, n, sizeof *refs, name_ref_cmp);
  for (size_t i = 1; i < n; i++) {
    bool starts_group = i < 2 || strcmp(refs[i - 2].name, refs[i].name) != 0;
    if (strcmp(refs[i - 1].name, refs[i].name) == 0 && starts_group && refs[i].index < dup) {
      dup = refs[i].index;
      first = refs[i - 1].index;
    }
  }
  free(refs);
  if (dup == SIZE_MAX)
    return 0;
  char loc[LOC_MAX];
  snprintf(loc, sizeof loc, "body.functions.%zu", dup);
  return invalid(err, loc, "function_name",
                 "function_name values must be distinct (same as functions.%zu)", first);
}

static int check_body(const json_t *body, struct mn_error *err) {
  if (!body || json_is_null(body))
    return invalid(err, "body", NULL, "field required");
  if (!json_is_object(body))
    return invalid(err, "body", NULL, "value is not a valid dict");
  return 0;
}

int mn_json_parse_version_definition(const json_t *body, struct mn_version_definition *out,
                                     struct mn_error *err) {
  struct mn_version_definition d = {0};
  const json_t *fns;
  int rc = check_body(body, err);
  memset(out, 0, sizeof *out);
  if (rc)
    goto fail;
  rc = get_str(body, "body", "default_docker_image", true, 0, MN_DOCKER_IMAGE_LENGTH_LIMIT,
               &d.default_docker_image, err);
  if (rc)
    goto fail;
  rc = field(body, "body", "functions", true, &fns, err);
  if (rc)
    goto fail;
  if (!json_is_array(fns)) {
    rc = invalid(err, "body", "functions", "value is not a valid list");
    goto fail;
  }
  size_t n = json_array_size(fns);
  d.functions = calloc(n ? n : 1, sizeof *d.functions);
  if (!d.functions) {
    rc = no_memory(err);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    char loc[LOC_MAX];
    snprintf(loc, sizeof loc, "body.functions.%zu", i);
    d.n_functions = i + 1;
    rc = parse_function_spec(json_array_get(fns, i), loc, &d.functions[i], err);
    if (rc)
      goto fail;
  }
  rc = check_distinct(&d, err);
  if (rc)
    goto fail;
  *out = d;
  return 0;
fail:
  mn_version_definition_release(&d);
  return rc;
}

void mn_invocation_definition_release(struct mn_invocation_definition *d) {
  if (!d)
    return;
  free(d->parent_function_name);
  free(d->parent_invocation_id);
  free(d->input);
  free(d->concurrency_key);
  free(d->idempotency_key);
  memset(d, 0, sizeof *d);
}

int mn_json_parse_invocation_definition(const json_t *body,
                                        struct mn_invocation_definition *out,
                                        struct mn_error *err) {
  struct mn_invocation_definition d = {0};
  const json_t *parent;
  char loc[LOC_MAX];
  int rc = check_body(body, err);
  memset(out, 0, sizeof *out);
  if (!rc)
    rc = get_object(body, "body", "parent_invocation", false, &parent, loc, err);
  if (!rc && parent) {
    rc = get_name(parent, loc, "function_name", 0, 0, &d.parent_function_name, err);
    if (!rc)
      rc = get_name(parent, loc, "invocation_id", 0, 0, &d.parent_invocation_id, err);
  }
  if (!rc)
    rc = get_str(body, "body", "input", true, 0, MN_INPUT_LENGTH_LIMIT, &d.input, err);
  /* the additive fields (docs/compatibility.md, "Task semantics") */
  d.start_at = MN_TIME_NULL;
  double start_at = -1;
  if (!rc)
    rc = get_opt_int(body, "body", "priority", -MN_PRIORITY_LIMIT, MN_PRIORITY_LIMIT,
                     &d.priority, err);
  if (!rc)
    rc = get_opt_number(body, "body", "start_at", 0, 1e11, &start_at, err);
  if (!rc && start_at >= 0)
    d.start_at = (int64_t)(start_at * 1e6);
  if (!rc)
    rc = get_str(body, "body", "concurrency_key", false, 1, MN_KEY_LENGTH_LIMIT + 1,
                 &d.concurrency_key, err);
  if (!rc)
    rc = get_str(body, "body", "idempotency_key", false, 1, MN_KEY_LENGTH_LIMIT + 1,
                 &d.idempotency_key, err);
  if (rc) {
    mn_invocation_definition_release(&d);
    return rc;
  }
  *out = d;
  return 0;
}

int mn_json_parse_temporary_result(const json_t *body, char **latest_output_out,
                                   struct mn_error *err) {
  int rc = check_body(body, err);
  *latest_output_out = NULL;
  if (!rc)
    rc = get_str(body, "body", "latest_output", true, 0, MN_OUTPUT_LENGTH_LIMIT,
                 latest_output_out, err);
  return rc;
}

void mn_final_result_release(struct mn_final_result *r) {
  if (!r)
    return;
  free(r->final_output);
  free(r->error_message);
  memset(r, 0, sizeof *r);
}

int mn_json_parse_final_result(const json_t *body, struct mn_final_result *out,
                               struct mn_error *err) {
  struct mn_final_result r = {0};
  const json_t *v;
  int rc = check_body(body, err);
  memset(out, 0, sizeof *out);
  if (!rc)
    rc = field(body, "body", "outcome", true, &v, err);
  if (!rc && (!json_is_string(v) || mn_outcome_parse(json_string_value(v), &r.outcome) != 0))
    rc = invalid(err, "body", "outcome",
                 "value is not a valid enumeration member; permitted: "
                 "'SUCCEEDED', 'FAILED', 'ABORTED'");
  if (!rc)
    rc = get_str(body, "body", "final_output", false, 0, MN_OUTPUT_LENGTH_LIMIT,
                 &r.final_output, err);
  if (!rc)
    rc = get_str(body, "body", "error_message", false, 0, MN_ERROR_MESSAGE_LENGTH_LIMIT,
                 &r.error_message, err);
  if (!rc && r.outcome == MN_OUTCOME_FAILED && !r.error_message)
    rc = invalid(err, "body", "error_message", "field required when outcome is FAILED");
  if (!rc && r.outcome != MN_OUTCOME_FAILED && r.error_message)
    rc = invalid(err, "body", "error_message",
                 "must be absent or null unless outcome is FAILED");
  if (rc) {
    mn_final_result_release(&r);
    return rc;
  }
  *out = r;
  return 0;
}
