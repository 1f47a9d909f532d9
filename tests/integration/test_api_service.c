/* The REST server itself: health, OpenAPI, auth, routing errors, body
 * limits, malformed bodies, keep-alive, credentials, request logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "api/openapi.h"
#include "api_assert.h"
#include "api_fixture.h"
#include "util/log.h"

static struct api_fixture fx;

static int setup(void **state) { return api_fixture_start(&fx, "service", NULL); }
static int teardown(void **state) {
  api_fixture_stop(&fx);
  return 0;
}

/* A request with explicit headers and no Authorization from the client. */
static void expect_with_headers(const char *method, const char *path, const char *const *headers,
                                long status, const char *detail) {
  long got;
  json_t *json = NULL;
  assert_int_equal(http_request_ex(fx.http, method, path, NULL, 0, headers, false, &got, &json,
                                   NULL),
                   0);
  assert_int_equal(got, status);
  assert_non_null(json);
  if (detail)
    assert_string_equal(json_string_value(json_object_get(json, "detail")), detail);
  json_decref(json);
}

static void test_health_needs_no_auth(void **state) {
  const char *const wrong[] = {"Authorization: Bearer nope", NULL};
  long status;
  json_t *json;
  assert_int_equal(http_request_ex(fx.http, "GET", "/", NULL, 0, NULL, false, &status, &json,
                                   NULL),
                   0);
  assert_int_equal(status, 200);
  assert_string_equal(json_string_value(json_object_get(json, "status")), "healthy");
  assert_int_equal(json_object_size(json), 1);
  json_decref(json);
  expect_with_headers("GET", "/", wrong, 200, NULL);
}

static void test_openapi_is_served_from_the_table(void **state) {
  long status;
  json_t *json;
  assert_int_equal(http_request_ex(fx.http, "GET", "/openapi.json", NULL, 0, NULL, false,
                                   &status, &json, NULL),
                   0);
  assert_int_equal(status, 200);
  json_t *doc = mn_openapi_document();
  assert_true(json_equal(json, doc));
  json_decref(doc);
  const char *ops[] = {"health_check", "create_project", "delete_project", "get_project",
                       "list_projects", "create_project_version", "get_project_version",
                       "list_project_versions", "create_invocation", "cancel_invocation",
                       "get_invocation", "list_invocations", "start_execution",
                       "update_execution", "finish_execution", "get_execution",
                       "get_execution_logs", "get_container_repository_credentials"};
  char *text = json_dumps(json, 0);
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    char quoted[96];
    snprintf(quoted, sizeof quoted, "\"operationId\": \"%s\"", ops[i]);
    assert_non_null(strstr(text, quoted));
  }
  free(text);
  json_decref(json);
  expect_with_headers("POST", "/openapi.json", NULL, 405, "Method Not Allowed");
}

static void test_auth(void **state) {
  const char *const none[] = {NULL};
  const char *const bare[] = {"Authorization: Bearer", NULL};
  const char *const empty[] = {"Authorization:", NULL};
  const char *const basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
  const char *const wrong[] = {"Authorization: Bearer not-the-key", NULL};
  const char *const longer[] = {"Authorization: Bearer " API_TEST_KEY "x", NULL};
  const char *const shorter[] = {"Authorization: Bearer test-key", NULL};
  const char *const lower[] = {"Authorization: bearer " API_TEST_KEY, NULL};
  const char *const right[] = {"Authorization: Bearer " API_TEST_KEY, NULL};
  expect_with_headers("GET", "/projects", none, 403, "Not authenticated");
  expect_with_headers("GET", "/projects", bare, 403, "Not authenticated");
  expect_with_headers("GET", "/projects", empty, 403, "Not authenticated");
  expect_with_headers("GET", "/projects", basic, 403, "Invalid authentication credentials");
  expect_with_headers("GET", "/projects", wrong, 403, "The API key is invalid");
  expect_with_headers("GET", "/projects", longer, 403, "The API key is invalid");
  expect_with_headers("GET", "/projects", shorter, 403, "The API key is invalid");
  expect_with_headers("GET", "/projects", lower, 200, NULL);
  expect_with_headers("GET", "/projects", right, 200, NULL);
  /* every endpoint but the health check needs it */
  expect_with_headers("GET", "/container_repository_credentials", none, 403,
                      "Not authenticated");
  expect_with_headers("PUT", "/projects/x", wrong, 403, "The API key is invalid");
  expect_with_headers("GET", "/projects/p/versions/latest/functions/f/invocations/i", none, 403,
                      "Not authenticated");
  /* a body is not read before the key is checked */
  long status;
  json_t *json;
  assert_int_equal(http_request_ex(fx.http, "POST", "/projects/p/versions", "{bad", 4, NULL,
                                   false, &status, &json, NULL),
                   0);
  assert_int_equal(status, 403);
  assert_string_equal(json_string_value(json_object_get(json, "detail")), "Not authenticated");
  json_decref(json);
}

static void test_unknown_paths_and_methods(void **state) {
  api_expect_detail(&fx, "GET", "/nope", NULL, 404, "Not Found");
  api_expect_detail(&fx, "GET", "/projects/", NULL, 404, "Not Found");
  api_expect_detail(&fx, "GET", "/projects/a/versions/b/functions", NULL, 404, "Not Found");
  api_expect_detail(&fx, "POST", "/", NULL, 405, "Method Not Allowed");
  api_expect_detail(&fx, "PATCH", "/projects/x", NULL, 405, "Method Not Allowed");
  api_expect_detail(&fx, "DELETE", "/projects", NULL, 405, "Method Not Allowed");
  api_expect_detail(&fx, "POST", "/projects/p/versions/v/functions/f/invocations/i", "{}", 405,
                    "Method Not Allowed");
  /* routing comes before auth */
  expect_with_headers("GET", "/nope", NULL, 404, "Not Found");
}

static void test_credentials_default(void **state) {
  json_t *c = api_expect(&fx, "GET", "/container_repository_credentials", NULL, 200);
  json_t *want = json_pack("{s:s, s:s, s:s, s:s}", "repository_name", "multinode-local",
                           "username", "", "password", "", "endpoint_url", "");
  assert_true(json_equal(c, want));
  json_decref(want);
  json_decref(c);
}

static void test_malformed_and_missing_bodies(void **state) {
  const char *m = api_expect_422(&fx, "POST", "/projects/p/versions", "{\"a\": tru}");
  assert_string_equal(m, "body.9: invalid token near 'tru' at line 1 column 9");
  m = api_expect_422(&fx, "POST", "/projects/p/versions", "{\"a\": 1,\n\"b\" 2}");
  assert_string_equal(m, "body.14: ':' expected near '2' at line 2 column 5");
  m = api_expect_422(&fx, "POST", "/projects/p/versions", "");
  assert_string_equal(m, "body: field required");
  m = api_expect_422(&fx, "POST", "/projects/p/versions/latest/functions/f/invocations", "[1]");
  assert_string_equal(m, "body: value is not a valid dict");
  m = api_expect_422(&fx, "PUT",
                     "/projects/p/versions/v/functions/f/invocations/i/executions/e/update",
                     "{\"latest_output\": 5}");
  assert_string_equal(m, "body.latest_output: str type expected");
}

/* A second server on the same store with a small body limit. */
static int credentials_fn(void *ctx, json_t **out, struct mn_error *err) {
  (*(int *)ctx)++;
  *out = json_pack("{s:s, s:s, s:s, s:s}", "repository_name", "repo.example/x", "username",
                   "AWS", "password", "secret", "endpoint_url", "https://repo.example");
  return 0;
}

static void test_small_limit_and_credentials_callback(void **state) {
  int calls = 0;
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 1, .max_body_bytes = 100,
                               .credentials = credentials_fn, .credentials_ctx = &calls};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  struct http_client *c = second.http;
  long status;
  json_t *json;
  char body[128];
  memset(body, ' ', sizeof body);
  /* exactly the limit is read (and then judged), one byte more is refused */
  assert_int_equal(http_request_ex(c, "POST", "/projects/p/versions", body, 100, NULL, true,
                                   &status, &json, NULL),
                   0);
  assert_int_equal(status, 422);
  json_decref(json);
  assert_int_equal(http_request_ex(c, "POST", "/projects/p/versions", body, 101, NULL, true,
                                   &status, &json, NULL),
                   0);
  assert_int_equal(status, 413);
  assert_string_equal(json_string_value(json_object_get(json, "detail")),
                      "The request body is too large");
  json_decref(json);
  assert_int_equal(http_request(c, "GET", "/container_repository_credentials", NULL, &status,
                                &json),
                   0);
  assert_int_equal(status, 200);
  assert_string_equal(json_string_value(json_object_get(json, "password")), "secret");
  assert_int_equal(calls, 1);
  json_decref(json);
  api_fixture_stop_second(&second);
}

static void test_too_large_by_content_length(void **state) {
  const char *tmpl = "POST /projects/p/versions HTTP/1.1\r\nHost: localhost\r\n"
                     "Authorization: Bearer " API_TEST_KEY "\r\n"
                     "Content-Type: application/json\r\n%s"
                     "Content-Length: 2097152\r\n\r\n{\"default_docker_image\":";
  const char *expects[] = {"", "Expect: 100-continue\r\n"};
  for (size_t i = 0; i < 2; i++) {
    char req[512], *resp = NULL;
    int len = snprintf(req, sizeof req, tmpl, expects[i]);
    /* the server must answer and close at once: it cannot wait for 2 MiB */
    assert_int_equal(http_raw_exchange(fx.port, req, (size_t)len, 3000, &resp), 0);
    assert_int_equal(strncmp(resp, "HTTP/1.1 413 ", 13), 0);
    assert_null(strstr(resp, "100 Continue"));
    assert_non_null(strstr(resp, "{\"detail\":\"The request body is too large\"}"));
    free(resp);
  }
}

struct chunk_source {
  size_t sent, total;
};

static size_t read_chunk(char *buf, size_t size, size_t nitems, void *userdata) {
  struct chunk_source *s = userdata;
  size_t n = size * nitems;
  if (n > s->total - s->sent)
    n = s->total - s->sent;
  memset(buf, ' ', n);
  s->sent += n;
  return n;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata) {
  strncat(userdata, ptr, size * nmemb < 200 ? size * nmemb : 200);
  return size * nmemb;
}

/* POSTs a chunked body of `total` bytes; returns the status (0: none) and
 * the bytes curl got to send. */
static long post_chunked(size_t total, size_t *sent, char *got) {
  char url[128];
  struct chunk_source src = {0, total};
  snprintf(url, sizeof url, "%s/projects/p/versions", fx.base_url);
  CURL *h = curl_easy_init();
  struct curl_slist *hd = curl_slist_append(NULL, "Transfer-Encoding: chunked");
  hd = curl_slist_append(hd, "Authorization: Bearer " API_TEST_KEY);
  hd = curl_slist_append(hd, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_chunk);
  curl_easy_setopt(h, CURLOPT_READDATA, &src);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, got);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  if (cc == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hd);
  curl_easy_cleanup(h);
  *sent = src.sent;
  return status;
}

static void test_too_large_when_chunked(void **state) {
  char got[4096] = "";
  size_t sent;
  /* past the limit: the rest is dropped and the answer is 413 */
  assert_int_equal(post_chunked((size_t)3 << 20, &sent, got), 413);
  assert_non_null(strstr(got, "The request body is too large"));
  /* a stream that goes on and on is cut off long before its end */
  got[0] = '\0';
  assert_int_equal(post_chunked((size_t)256 << 20, &sent, got), 0);
  assert_true(sent < ((size_t)256 << 20));
  /* and the server is fine afterwards */
  json_decref(api_expect(&fx, "GET", "/projects", NULL, 200));
}

static void test_keep_alive(void **state) {
  struct http_client *c = http_client_new(fx.base_url, API_TEST_KEY);
  long status;
  json_t *json;
  for (int i = 0; i < 30; i++) {
    const char *path = i % 3 == 0 ? "/projects" : i % 3 == 1 ? "/nope" : "/projects/none";
    assert_int_equal(http_request(c, "GET", path, NULL, &status, &json), 0);
    assert_int_equal(status, i % 3 == 0 ? 200 : 404);
    json_decref(json);
  }
  assert_int_equal(http_client_connects(c), 1);
  http_client_free(c);
}

static void test_one_log_line_per_request(void **state) {
  char path[] = "/tmp/mn-api-log-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  json_decref(api_expect(&fx, "GET", "/projects", NULL, 200));
  api_expect_detail(&fx, "GET", "/projects/no-such-project", NULL, 404,
                    "A project with this name does not exist");
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  char buf[4096] = "";
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  unlink(path);
  assert_true(n > 0);
  int lines = 0;
  for (char *p = buf; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, 2);
  assert_non_null(strstr(buf, "api: GET /projects 200 "));
  assert_non_null(strstr(buf, "api: GET /projects/no-such-project 404 "));
  assert_non_null(strstr(buf, "us\n"));
}

int main(void) {
  mn_log_set_level(MN_LOG_INFO);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_health_needs_no_auth),
      cmocka_unit_test(test_openapi_is_served_from_the_table),
      cmocka_unit_test(test_auth),
      cmocka_unit_test(test_unknown_paths_and_methods),
      cmocka_unit_test(test_credentials_default),
      cmocka_unit_test(test_malformed_and_missing_bodies),
      cmocka_unit_test(test_small_limit_and_credentials_callback),
      cmocka_unit_test(test_too_large_by_content_length),
      cmocka_unit_test(test_too_large_when_chunked),
      cmocka_unit_test(test_keep_alive),
      cmocka_unit_test(test_one_log_line_per_request),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
