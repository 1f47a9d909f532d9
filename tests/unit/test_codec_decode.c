/* Decoders of core/api/codec: every rule of the tables in tests/data/codec, every
 * length bound at, below and above its limit (code points, not bytes), the
 * decoded values, and the 422 body built from a failure. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/codec.h"

enum kind { VERSION, INVOCATION, TEMPORARY, FINAL };

static bool all_zero(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return false;
  return true;
}

/* Runs the decoder of `kind` on body; on success releases what it decoded,
 * on failure checks that nothing was left to release. */
static int decode(enum kind kind, const json_t *body, struct mn_error *err) {
  int rc = 0;
  mn_error_clear(err);
  switch (kind) {
  case VERSION: {
    struct mn_version_definition d;
    memset(&d, 0xAB, sizeof d);
    rc = mn_json_parse_version_definition(body, &d, err);
    if (rc)
      assert_true(all_zero(&d, sizeof d));
    mn_version_definition_release(&d);
    break;
  }
  case INVOCATION: {
    struct mn_invocation_definition d;
    memset(&d, 0xAB, sizeof d);
    rc = mn_json_parse_invocation_definition(body, &d, err);
    if (rc)
      assert_true(all_zero(&d, sizeof d));
    mn_invocation_definition_release(&d);
    break;
  }
  case TEMPORARY: {
    char *out = (char *)"garbage";
    rc = mn_json_parse_temporary_result(body, &out, err);
    if (rc)
      assert_null(out);
    free(out);
    break;
  }
  case FINAL: {
    struct mn_final_result r;
    memset(&r, 0xAB, sizeof r);
    rc = mn_json_parse_final_result(body, &r, err);
    if (rc)
      assert_true(all_zero(&r, sizeof r));
    mn_final_result_release(&r);
    break;
  }
  }
  return rc;
}

static void data_path(char *buf, size_t size, const char *name) {
  const char *dir = getenv("MN_TEST_DATA");
  if (dir) {
    snprintf(buf, size, "%s/codec/%s", dir, name);
    return;
  }
  const char *unit = strstr(__FILE__, "/unit/");
  snprintf(buf, size, "%.*s/data/codec/%s", unit ? (int)(unit - __FILE__) : 1,
           unit ? __FILE__ : ".", name);
}

/* Every line of a table is [body, expected]; returns the number of cases. */
static size_t run_table(const char *name, enum kind kind) {
  char path[1024];
  data_path(path, sizeof path, name);
  FILE *f = fopen(path, "r");
  if (!f)
    fail_msg("cannot open \"%s\"", path);
  char *line = NULL;
  size_t cap = 0, n_cases = 0, lineno = 0;
  while (getline(&line, &cap, f) > 0) {
    lineno++;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    json_error_t jerr;
    json_t *c = json_loads(line, 0, &jerr);
    if (!json_is_array(c) || json_array_size(c) != 2)
      fail_msg("%s:%zu: not a [body, expected] line: %s", name, lineno, jerr.text);
    json_t *body = json_array_get(c, 0), *want = json_array_get(c, 1);
    struct mn_error err;
    int rc = decode(kind, json_is_null(body) ? NULL : body, &err);
    if (json_is_null(want)) {
      if (rc != 0)
        fail_msg("%s:%zu: rejected (%s), expected accepted", name, lineno, err.msg);
    } else {
      if (rc != MN_EINVAL || err.code != MN_EINVAL)
        fail_msg("%s:%zu: rc %d, expected MN_EINVAL \"%s\"", name, lineno, rc,
                 json_string_value(want));
      if (strcmp(err.msg, json_string_value(want)) != 0)
        fail_msg("%s:%zu:\n  got      \"%s\"\n  expected \"%s\"", name, lineno, err.msg,
                 json_string_value(want));
    }
    json_decref(c);
    n_cases++;
  }
  free(line);
  fclose(f);
  return n_cases;
}

static void test_table_version_definition(void **state) {
  assert_true(run_table("version_definition.jsonl", VERSION) >= 100);
}
static void test_table_invocation_definition(void **state) {
  assert_true(run_table("invocation_definition.jsonl", INVOCATION) >= 20);
}
static void test_table_temporary_result(void **state) {
  assert_true(run_table("temporary_result.jsonl", TEMPORARY) >= 8);
}
static void test_table_final_result(void **state) {
  assert_true(run_table("final_result.jsonl", FINAL) >= 30);
}

/* A JSON null body and a missing body are the same. */
static void test_null_body(void **state) {
  struct mn_error err;
  json_t *null = json_null();
  assert_int_equal(decode(VERSION, null, &err), MN_EINVAL);
  assert_string_equal(err.msg, "body: field required");
  assert_int_equal(decode(FINAL, null, &err), MN_EINVAL);
  assert_string_equal(err.msg, "body: field required");
}

static char *repeat(const char *unit, size_t n) {
  size_t len = strlen(unit);
  char *s = malloc(len * n + 1);
  assert_non_null(s);
  for (size_t i = 0; i < n; i++)
    memcpy(s + i * len, unit, len);
  s[len * n] = '\0';
  return s;
}

static json_t *version_with(const char *image, const char *name, const char *override) {
  return json_pack("{s:s,s:[{s:s,s:s?,s:{s:f,s:f,s:i},s:{s:i,s:i}}]}", "default_docker_image",
                   image, "functions", "function_name", name, "docker_image_override", override,
                   "resource_spec", "virtual_cpus", 1.0, "memory_gbs", 2.0, "max_concurrency", 1,
                   "execution_spec", "max_retries", 0, "timeout_seconds", 1);
}

static json_t *body_with(enum kind kind, const char *field, const char *s) {
  switch (kind) {
  case INVOCATION:
    return json_pack("{s:s}", "input", s);
  case TEMPORARY:
    return json_pack("{s:s}", "latest_output", s);
  case FINAL:
    return strcmp(field, "final_output") == 0
               ? json_pack("{s:s,s:s}", "outcome", "SUCCEEDED", "final_output", s)
               : json_pack("{s:s,s:s}", "outcome", "FAILED", "error_message", s);
  case VERSION:
    if (strcmp(field, "default_docker_image") == 0)
      return version_with(s, "f", NULL);
    if (strcmp(field, "function_name") == 0)
      return version_with("img", s, NULL);
    return version_with("img", "f", s);
  }
  return NULL;
}

#define E2 "\xc3\xa9"         /* é: 2 bytes, 1 code point */
#define E4 "\xf0\x9f\x98\x80" /* 😀: 4 bytes, 1 code point */
#define AT_MOST(n) "ensure this value has at most " #n " characters"

/* Each bound at its limit (rejected), one below (accepted), one above. */
static void test_length_bounds(void **state) {
  static const struct {
    enum kind kind;
    const char *field, *unit;
    size_t n;
    const char *want; /* NULL: accepted */
  } cases[] = {
      {INVOCATION, "input", "a", 249999, NULL},
      {INVOCATION, "input", "a", 250000, "body.input: " AT_MOST(249999)},
      {INVOCATION, "input", "a", 250001, "body.input: " AT_MOST(249999)},
      {INVOCATION, "input", E2, 249999, NULL}, /* 499998 bytes */
      {INVOCATION, "input", E4, 249999, NULL}, /* 999996 bytes */
      {INVOCATION, "input", E4, 250000, "body.input: " AT_MOST(249999)},
      {TEMPORARY, "latest_output", "a", 249999, NULL},
      {TEMPORARY, "latest_output", E2, 249999, NULL},
      {TEMPORARY, "latest_output", "a", 250000, "body.latest_output: " AT_MOST(249999)},
      {TEMPORARY, "latest_output", E2, 250000, "body.latest_output: " AT_MOST(249999)},
      {FINAL, "final_output", "a", 249999, NULL},
      {FINAL, "final_output", E4, 249999, NULL},
      {FINAL, "final_output", "a", 250000, "body.final_output: " AT_MOST(249999)},
      {FINAL, "error_message", "a", 16383, NULL},
      {FINAL, "error_message", E2, 16383, NULL},
      {FINAL, "error_message", "a", 16384, "body.error_message: " AT_MOST(16383)},
      {FINAL, "error_message", E4, 16384, "body.error_message: " AT_MOST(16383)},
      {VERSION, "function_name", "a", 1, NULL},
      {VERSION, "function_name", "a", 1023, NULL},
      {VERSION, "function_name", E4, 1023, NULL},
      {VERSION, "function_name", "a", 1024, "body.functions.0.function_name: " AT_MOST(1023)},
      {VERSION, "function_name", E2, 1025, "body.functions.0.function_name: " AT_MOST(1023)},
      {VERSION, "default_docker_image", "a", 1023, NULL},
      {VERSION, "default_docker_image", E2, 1023, NULL},
      {VERSION, "default_docker_image", "a", 1024, "body.default_docker_image: " AT_MOST(1023)},
      {VERSION, "docker_image_override", "a", 1023, NULL},
      {VERSION, "docker_image_override", E4, 1023, NULL},
      {VERSION, "docker_image_override", "a", 1024,
       "body.functions.0.docker_image_override: " AT_MOST(1023)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *s = repeat(cases[i].unit, cases[i].n);
    json_t *body = body_with(cases[i].kind, cases[i].field, s);
    assert_non_null(body);
    struct mn_error err;
    int rc = decode(cases[i].kind, body, &err);
    if (cases[i].want == NULL && rc != 0)
      fail_msg("case %zu (%s x%zu): rejected: %s", i, cases[i].field, cases[i].n, err.msg);
    if (cases[i].want) {
      if (rc != MN_EINVAL)
        fail_msg("case %zu (%s x%zu): accepted", i, cases[i].field, cases[i].n);
      assert_string_equal(err.msg, cases[i].want);
    }
    json_decref(body);
    free(s);
  }
}

static void test_utf8_length(void **state) {
  assert_int_equal(mn_utf8_length("", 0), 0);
  assert_int_equal(mn_utf8_length("abc", 3), 3);
  assert_int_equal(mn_utf8_length(E2, 2), 1);
  assert_int_equal(mn_utf8_length(E4 "a" E2, 7), 3);
  assert_int_equal(mn_utf8_length("\xe2\x82\xac", 3), 1); /* € */
  assert_int_equal(mn_utf8_length("e\xcc\x81", 3), 2);    /* e + combining accent */
}

static void test_version_values(void **state) {
  const char *text =
      "{\"default_docker_image\":\"img:1\",\"ignored\":true,\"functions\":["
      "{\"function_name\":\"a\",\"resource_spec\":{\"virtual_cpus\":0.25,\"memory_gbs\":16,"
      "\"max_concurrency\":100},\"execution_spec\":{\"max_retries\":50,\"timeout_seconds\":86400}},"
      "{\"function_name\":\"b\",\"docker_image_override\":\"other:2\",\"resource_spec\":"
      "{\"virtual_cpus\":16,\"memory_gbs\":0.5,\"max_concurrency\":1},\"execution_spec\":"
      "{\"max_retries\":0,\"timeout_seconds\":1},\"command\":[\"python\",\"-c\",\"print(1)\"],"
      "\"provider\":\"docker\",\"env\":{\"A\":\"1\",\"B\":\"\"}}]}";
  json_t *body = json_loads(text, 0, NULL);
  assert_non_null(body);
  struct mn_version_definition d;
  struct mn_error err;
  assert_int_equal(mn_json_parse_version_definition(body, &d, &err), 0);
  json_t *command = json_deep_copy(json_object_get(json_array_get(json_object_get(body,
                                   "functions"), 1), "command"));
  json_decref(body); /* the decoded struct owns copies */
  assert_string_equal(d.default_docker_image, "img:1");
  assert_int_equal(d.n_functions, 2);
  struct mn_function_spec *a = &d.functions[0], *b = &d.functions[1];
  assert_string_equal(a->function_name, "a");
  assert_null(a->docker_image_override);
  assert_true(a->resource_spec.virtual_cpus == 0.25);
  assert_true(a->resource_spec.memory_gbs == 16.0);
  assert_int_equal(a->resource_spec.max_concurrency, 100);
  assert_int_equal(a->execution_spec.max_retries, 50);
  assert_int_equal(a->execution_spec.timeout_seconds, 86400);
  assert_null(a->command);
  assert_null(a->env);
  assert_null(a->provider);
  assert_string_equal(b->function_name, "b");
  assert_string_equal(b->docker_image_override, "other:2");
  assert_true(b->resource_spec.virtual_cpus == 16.0);
  assert_true(b->resource_spec.memory_gbs == 0.5);
  assert_int_equal(b->resource_spec.max_concurrency, 1);
  assert_int_equal(b->execution_spec.max_retries, 0);
  assert_int_equal(b->execution_spec.timeout_seconds, 1);
  assert_true(json_equal(b->command, command));
  assert_int_equal(b->command->refcount, 1);
  assert_string_equal(json_string_value(json_object_get(b->env, "A")), "1");
  assert_string_equal(json_string_value(json_object_get(b->env, "B")), "");
  assert_int_equal(json_object_size(b->env), 2);
  assert_string_equal(b->provider, "docker");
  json_decref(command);
  mn_version_definition_release(&d);
}

static void test_invocation_values(void **state) {
  struct mn_invocation_definition d;
  struct mn_error err;
  json_t *body = json_pack("{s:{s:s,s:s},s:s}", "parent_invocation", "function_name", "pf",
                           "invocation_id", "inv-0", "input", "[[1], {}]");
  assert_int_equal(mn_json_parse_invocation_definition(body, &d, &err), 0);
  json_decref(body);
  assert_string_equal(d.parent_function_name, "pf");
  assert_string_equal(d.parent_invocation_id, "inv-0");
  assert_string_equal(d.input, "[[1], {}]");
  mn_invocation_definition_release(&d);
  assert_null(d.input);

  body = json_pack("{s:n,s:s}", "parent_invocation", "input", "");
  assert_int_equal(mn_json_parse_invocation_definition(body, &d, &err), 0);
  json_decref(body);
  assert_null(d.parent_function_name);
  assert_null(d.parent_invocation_id);
  assert_string_equal(d.input, "");
  mn_invocation_definition_release(&d);
}

static void test_payload_values(void **state) {
  struct mn_error err;
  char *latest = NULL;
  json_t *body = json_pack("{s:s}", "latest_output", "50%");
  assert_int_equal(mn_json_parse_temporary_result(body, &latest, &err), 0);
  json_decref(body);
  assert_string_equal(latest, "50%");
  free(latest);

  static const struct {
    const char *text;
    enum mn_outcome outcome;
    const char *final_output, *error_message;
  } cases[] = {
      {"{\"outcome\":\"SUCCEEDED\",\"final_output\":\"42\"}", MN_OUTCOME_SUCCEEDED, "42", NULL},
      {"{\"outcome\":\"SUCCEEDED\",\"final_output\":null}", MN_OUTCOME_SUCCEEDED, NULL, NULL},
      {"{\"outcome\":\"ABORTED\"}", MN_OUTCOME_ABORTED, NULL, NULL},
      {"{\"outcome\":\"FAILED\",\"error_message\":\"E: x\",\"final_output\":\"p\"}",
       MN_OUTCOME_FAILED, "p", "E: x"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct mn_final_result r;
    body = json_loads(cases[i].text, 0, NULL);
    assert_int_equal(mn_json_parse_final_result(body, &r, &err), 0);
    json_decref(body);
    assert_int_equal(r.outcome, cases[i].outcome);
    if (cases[i].final_output)
      assert_string_equal(r.final_output, cases[i].final_output);
    else
      assert_null(r.final_output);
    if (cases[i].error_message)
      assert_string_equal(r.error_message, cases[i].error_message);
    else
      assert_null(r.error_message);
    mn_final_result_release(&r);
  }
}

/* NaN, Infinity and overflowing numbers never reach a decoder: the JSON
 * parser and json_real refuse them, so the finite check is a last guard. */
static void test_non_finite_numbers_are_refused(void **state) {
  static const char *const texts[] = {"{\"virtual_cpus\":NaN}", "{\"virtual_cpus\":Infinity}",
                                      "{\"virtual_cpus\":-Infinity}", "{\"virtual_cpus\":1e400}",
                                      "{\"max_concurrency\":99999999999999999999}"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    assert_null(json_loads(texts[i], 0, NULL));
  assert_null(json_real(NAN));
  assert_null(json_real(INFINITY));
}

static void assert_validation_body(const struct mn_error *err, const char *want_text) {
  json_t *got = mn_json_validation_error(err), *want = json_loads(want_text, 0, NULL);
  assert_non_null(got);
  assert_non_null(want);
  if (!json_equal(got, want)) {
    char *s = json_dumps(got, JSON_SORT_KEYS);
    fail_msg("got %s\nexpected %s", s, want_text);
  }
  /* list indexes are JSON integers, not strings */
  json_decref(got);
  json_decref(want);
}

static void test_validation_error_body(void **state) {
  struct mn_error err;
  json_t *body = json_loads(
      "{\"default_docker_image\":\"i\",\"functions\":[{\"function_name\":\"a\",\"resource_spec\":"
      "{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":1},\"execution_spec\":"
      "{\"max_retries\":0,\"timeout_seconds\":1}},{\"function_name\":\"b\",\"resource_spec\":"
      "{\"virtual_cpus\":17,\"memory_gbs\":1,\"max_concurrency\":1},\"execution_spec\":"
      "{\"max_retries\":0,\"timeout_seconds\":1}}]}",
      0, NULL);
  assert_int_equal(decode(VERSION, body, &err), MN_EINVAL);
  json_decref(body);
  assert_validation_body(&err, "{\"detail\":[{\"loc\":[\"body\",\"functions\",1,"
                               "\"resource_spec\",\"virtual_cpus\"],\"msg\":\"ensure this value"
                               " is less than or equal to 16\",\"type\":\"value_error\"}]}");

  mn_fail(&err, MN_EINVAL, "body: field required");
  assert_validation_body(&err, "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"field required\","
                               "\"type\":\"value_error\"}]}");
  mn_fail(&err, MN_EINVAL, "body.functions.10.command.0: str type expected");
  assert_validation_body(&err, "{\"detail\":[{\"loc\":[\"body\",\"functions\",10,\"command\",0],"
                               "\"msg\":\"str type expected\",\"type\":\"value_error\"}]}");
  mn_fail(&err, MN_EINVAL, "body.outcome: value is not a valid enumeration member; "
                           "permitted: 'SUCCEEDED', 'FAILED', 'ABORTED'");
  assert_validation_body(&err, "{\"detail\":[{\"loc\":[\"body\",\"outcome\"],\"msg\":\"value is "
                               "not a valid enumeration member; permitted: 'SUCCEEDED', "
                               "'FAILED', 'ABORTED'\",\"type\":\"value_error\"}]}");
  /* a message without a location is reported against the whole body */
  mn_fail(&err, MN_ENOMEM, "out of memory: decoding");
  assert_validation_body(&err, "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"out of memory: "
                               "decoding\",\"type\":\"value_error\"}]}");
  assert_validation_body(NULL, "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"invalid request "
                               "body\",\"type\":\"value_error\"}]}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_version_definition),
      cmocka_unit_test(test_table_invocation_definition),
      cmocka_unit_test(test_table_temporary_result),
      cmocka_unit_test(test_table_final_result),
      cmocka_unit_test(test_null_body),
      cmocka_unit_test(test_length_bounds),
      cmocka_unit_test(test_utf8_length),
      cmocka_unit_test(test_version_values),
      cmocka_unit_test(test_invocation_values),
      cmocka_unit_test(test_payload_values),
      cmocka_unit_test(test_non_finite_numbers_are_refused),
      cmocka_unit_test(test_validation_error_body),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
