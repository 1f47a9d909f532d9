/* Fuzzes the request-body decoders: the input is a JSON text. It goes
 * through the server's own body parser (mn_api_parse_body, whose 422 answer
 * is built and serialised), then, parsed with \u0000 allowed so the
 * decoders' NUL checks are reached too, through every decoder of
 * api/codec.h; each failure becomes the 422 body of mn_json_validation_error.
 * The promises of codec.h are checked: a failure is MN_EINVAL with a
 * "<loc>: <message>" whose loc starts with "body" and holds no space, and
 * leaves *out zeroed; a success respects the documented bounds. Accepted
 * functions are encoded back as the API would show them. A broken promise
 * aborts. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "api/request.h"

#include "fuzz_check.h"

static int all_zero(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return 0;
  return 1;
}

static void dump(json_t *body /* stolen */) {
  char *text = json_dumps(body, JSON_COMPACT);
  CHECK(text != NULL);
  free(text);
  json_decref(body);
}

/* A decoder failed with RC: check the message, build and serialise the 422. */
static void on_failure(int rc, const struct mn_error *err) {
  if (rc == MN_ENOMEM)
    return;
  CHECK(rc == MN_EINVAL && err->code == MN_EINVAL);
  const char *sep = strstr(err->msg, ": ");
  CHECK(sep != NULL);
  CHECK(strncmp(err->msg, "body", 4) == 0);
  CHECK(memchr(err->msg, ' ', (size_t)(sep - err->msg)) == NULL);
  json_t *body = mn_json_validation_error(err);
  CHECK(body != NULL);
  json_t *loc = json_object_get(json_array_get(json_object_get(body, "detail"), 0), "loc");
  CHECK(json_is_array(loc) && json_is_string(json_array_get(loc, 0)));
  CHECK(strcmp(json_string_value(json_array_get(loc, 0)), "body") == 0);
  dump(body);
}

static void check_string(const char *s, size_t limit) {
  CHECK(s != NULL);
  if (limit)
    CHECK(mn_utf8_length(s, strlen(s)) < limit);
}

static void version_definition(const json_t *json) {
  struct mn_version_definition d;
  struct mn_error err = {0};
  int rc = mn_json_parse_version_definition(json, &d, &err);
  if (rc) {
    CHECK(all_zero(&d, sizeof d));
    on_failure(rc, &err);
    return;
  }
  check_string(d.default_docker_image, MN_DOCKER_IMAGE_LENGTH_LIMIT);
  CHECK(d.n_functions == json_array_size(json_object_get(json, "functions")));
  for (size_t i = 0; i < d.n_functions; i++) {
    const struct mn_function_spec *s = &d.functions[i];
    check_string(s->function_name, MN_FUNCTION_NAME_LENGTH_LIMIT);
    CHECK(s->function_name[0] != '\0');
    for (size_t k = 0; k < i; k++)
      CHECK(strcmp(d.functions[k].function_name, s->function_name) != 0);
    CHECK(isfinite(s->resource_spec.virtual_cpus) && s->resource_spec.virtual_cpus > 0 &&
          s->resource_spec.virtual_cpus <= MN_VIRTUAL_CPUS_LIMIT);
    CHECK(isfinite(s->resource_spec.memory_gbs) && s->resource_spec.memory_gbs > 0 &&
          s->resource_spec.memory_gbs <= MN_MEMORY_GBS_LIMIT);
    CHECK(s->resource_spec.max_concurrency >= 1 &&
          s->resource_spec.max_concurrency <= MN_MAX_CONCURRENCY_LIMIT);
    CHECK(s->execution_spec.max_retries >= 0 &&
          s->execution_spec.max_retries <= MN_MAX_RETRIES_LIMIT);
    CHECK(s->execution_spec.timeout_seconds >= 1 &&
          s->execution_spec.timeout_seconds <= MN_TIMEOUT_SECONDS_LIMIT);
    CHECK(!s->command || (json_is_array(s->command) && json_array_size(s->command) > 0));
    CHECK(!s->env || json_is_object(s->env));
    /* shown back as get_project_version would show it */
    struct mn_function f = {
        .project_name = "fuzz",
        .version_id = "v",
        .function_name = s->function_name,
        .docker_image =
            s->docker_image_override ? s->docker_image_override : d.default_docker_image,
        .resource_spec = s->resource_spec,
        .execution_spec = s->execution_spec,
        .command = s->command,
        .env = s->env,
        .provider = s->provider,
    };
    json_t *shown = mn_json_function_for_version(&f);
    CHECK(shown != NULL);
    dump(shown);
  }
  mn_version_definition_release(&d);
}

static void invocation_definition(const json_t *json) {
  struct mn_invocation_definition d;
  struct mn_error err = {0};
  int rc = mn_json_parse_invocation_definition(json, &d, &err);
  if (rc) {
    CHECK(all_zero(&d, sizeof d));
    on_failure(rc, &err);
    return;
  }
  check_string(d.input, MN_INPUT_LENGTH_LIMIT);
  CHECK((d.parent_function_name == NULL) == (d.parent_invocation_id == NULL));
  mn_invocation_definition_release(&d);
  mn_invocation_definition_release(&d);
}

static void temporary_result(const json_t *json) {
  char *out = (char *)"unset";
  struct mn_error err = {0};
  int rc = mn_json_parse_temporary_result(json, &out, &err);
  if (rc) {
    CHECK(out == NULL);
    on_failure(rc, &err);
    return;
  }
  check_string(out, MN_OUTPUT_LENGTH_LIMIT);
  free(out);
}

static void final_result(const json_t *json) {
  struct mn_final_result r;
  struct mn_error err = {0};
  int rc = mn_json_parse_final_result(json, &r, &err);
  if (rc) {
    CHECK(all_zero(&r, sizeof r));
    on_failure(rc, &err);
    return;
  }
  CHECK((r.outcome == MN_OUTCOME_FAILED) == (r.error_message != NULL));
  if (r.final_output)
    check_string(r.final_output, MN_OUTPUT_LENGTH_LIMIT);
  if (r.error_message)
    check_string(r.error_message, MN_ERROR_MESSAGE_LENGTH_LIMIT);
  mn_final_result_release(&r);
  mn_final_result_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the server's path: its parser and its 422 for a malformed body */
  struct mn_api_response res = {0};
  json_t *served = NULL;
  int served_rc = mn_api_parse_body((const char *)data, size, &served, &res);
  if (served_rc == 0)
    CHECK(served != NULL && res.body == NULL);
  else
    CHECK(served == NULL && res.status == 422 && res.body != NULL);
  if (res.body)
    dump(json_incref(res.body));
  mn_api_response_release(&res);

  json_error_t jerr;
  json_t *json = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (served)
    CHECK(json != NULL); /* allowing NUL only widens what parses */
  json_decref(served);
  /* json NULL (unparsable): the decoders answer "body: field required" */
  version_definition(json);
  invocation_definition(json);
  temporary_result(json);
  final_result(json);
  json_decref(json);
  return 0;
}
