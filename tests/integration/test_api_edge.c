/* The HTTP edge against a real server and Postgres: JSON for the errors
 * libmicrohttpd answers itself, request framing (duplicate Content-Length),
 * names (control characters, %00, ".", ".."), providers checked at deploy,
 * the health and readiness endpoints answered from memory, the request
 * deadline and the room kept for trusted connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/readiness.h"
#include "api_assert.h"
#include "api_fixture.h"
#include "util/clock.h"
#include "util/log.h"

static struct api_fixture fx;

static int providers_fn(void *ctx, json_t **out, struct mn_error *err) {
  *out = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "default", "local", "providers", "name",
                   "local", "type", "local", "name", "docker", "type", "docker");
  return 0;
}

static int setup(void **state) {
  struct mn_api_options opt = {.providers = providers_fn};
  return api_fixture_start(&fx, "edge", &opt);
}

static int teardown(void **state) {
  api_fixture_stop(&fx);
  return 0;
}

static long long now_ms(void) { return mn_monotonic_us() / 1000; }

/* A blocking TCP connection to 127.0.0.1:port from source address src. */
static int raw_connect(const char *src, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
  inet_pton(AF_INET, src, &from.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  to.sin_port = htons((uint16_t)port);
  assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof from), 0);
  assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
  return fd;
}

/* Whether the server closes fd within ms (whatever it sends first is read
 * and dropped). */
static bool closed_within(int fd, int ms) {
  long long deadline = now_ms() + ms;
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0)
      return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)left) <= 0)
      continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
      return true;
  }
}

/* The JSON body at the end of a raw response (after the last blank line). */
static json_t *raw_body(const char *resp) {
  const char *body = NULL;
  for (const char *p = resp; (p = strstr(p, "\r\n\r\n")) != NULL; p += 4)
    body = p + 4;
  return body ? json_loads(body, 0, NULL) : NULL;
}

static void expect_raw(const char *request, size_t len, const char *status_line,
                       const char *detail) {
  char *resp = NULL;
  assert_int_equal(http_raw_exchange(fx.port, request, len, 5000, &resp), 0);
  if (strncmp(resp, status_line, strlen(status_line)) != 0)
    fail_msg("expected \"%s\", got \"%.120s\"", status_line, resp);
  assert_non_null(strstr(resp, "Content-Type: application/json\r\n"));
  assert_null(strstr(resp, "<html>"));
  json_t *json = raw_body(resp);
  if (!json)
    fail_msg("no JSON body in \"%.300s\"", resp);
  assert_string_equal(json_string_value(json_object_get(json, "detail")), detail);
  json_decref(json);
  free(resp);
}

/* The pages libmicrohttpd makes by itself come out as {"detail": ...}. */
static void test_library_errors_are_json(void **state) {
  const char *bad_length = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n";
  expect_raw(bad_length, strlen(bad_length), "HTTP/1.1 400 ",
             "The Content-Length header is invalid");
  const char *huge_length =
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n";
  expect_raw(huge_length, strlen(huge_length), "HTTP/1.1 413 ",
             "The request body is too large");
  const char *version = "GET / HTTP/3.0\r\nHost: x\r\n\r\n";
  expect_raw(version, strlen(version), "HTTP/1.1 505 ", "This HTTP version is not supported");
  const char *chunk = "POST /projects/p/versions HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer " API_TEST_KEY "\r\n"
                      "Transfer-Encoding: chunked\r\n\r\nZZZ\r\n";
  expect_raw(chunk, strlen(chunk), "HTTP/1.1 400 ",
             "The chunked encoding of the body is malformed");

  size_t big = 40000;
  char *req = malloc(big + 256);
  int n = snprintf(req, 256, "GET /");
  memset(req + n, 'a', big);
  n += (int)big;
  n += sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_raw(req, (size_t)n, "HTTP/1.1 414 ", "The request line or its headers are too large");
  n = sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(req + n, 'a', big);
  n += (int)big;
  n += sprintf(req + n, "\r\n\r\n");
  expect_raw(req, (size_t)n, "HTTP/1.1 431 ", "The request line or its headers are too large");
  free(req);
  /* and the server is fine afterwards */
  json_decref(api_expect(&fx, "GET", "/projects", NULL, 200));
}

/* Where a body ends must be beyond doubt: two Content-Length headers, or
 * one beside Transfer-Encoding, get 400 and the connection is closed, so
 * what follows is never read as a request of its own. */
static void test_ambiguous_framing(void **state) {
  const char *smuggle = "GET /projects HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " API_TEST_KEY "\r\n"
                        "Content-Length: 0\r\nContent-Length: 45\r\n\r\n"
                        "GET /projects/hidden HTTP/1.1\r\nHost: x\r\n\r\n";
  char *resp = NULL;
  assert_int_equal(http_raw_exchange(fx.port, smuggle, strlen(smuggle), 5000, &resp), 0);
  assert_int_equal(strncmp(resp, "HTTP/1.1 400 ", 13), 0);
  assert_non_null(strstr(resp, "Connection: close\r\n"));
  assert_non_null(strstr(resp, "{\"detail\":\"The request has more than one Content-Length "
                               "header\"}"));
  assert_null(strstr(resp + 13, "HTTP/1.1 ")); /* one answer only */
  free(resp);

  const char *same = "POST /projects/p/versions HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 2\r\ncontent-length: 2\r\n\r\n{}";
  expect_raw(same, strlen(same), "HTTP/1.1 400 ",
             "The request has more than one Content-Length header");
  const char *both = "POST /projects/p/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  expect_raw(both, strlen(both), "HTTP/1.1 400 ",
             "The request has both Content-Length and Transfer-Encoding headers");
}

static const char *loc_and_msg(json_t *json) {
  static char text[512];
  json_t *item = json_array_get(json_object_get(json, "detail"), 0);
  json_t *loc = json_object_get(item, "loc"), *part;
  size_t i, n = 0;
  text[0] = '\0';
  json_array_foreach(loc, i, part) {
    if (json_is_string(part))
      n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", i ? "." : "",
                            json_string_value(part));
    else
      n += (size_t)snprintf(text + n, sizeof text - n, "%s%lld", i ? "." : "",
                            (long long)json_integer_value(part));
  }
  snprintf(text + n, sizeof text - n, ": %s",
           json_string_value(json_object_get(item, "msg")));
  return text;
}

/* A raw request (no client-side normalisation of the path). */
static const char *raw_422(const char *method, const char *target) {
  char req[1024], *resp = NULL;
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " API_TEST_KEY
                   "\r\nConnection: close\r\n\r\n",
                   method, target);
  assert_int_equal(http_raw_exchange(fx.port, req, (size_t)n, 5000, &resp), 0);
  if (strncmp(resp, "HTTP/1.1 422 ", 13) != 0)
    fail_msg("%s %s: expected 422, got \"%.100s\"", method, target, resp);
  json_t *json = raw_body(resp);
  assert_non_null(json);
  api_assert_schema(json, "HTTPValidationError");
  const char *text = loc_and_msg(json);
  json_decref(json);
  free(resp);
  return text;
}

static void test_names_in_paths(void **state) {
  /* %00 would have cut the name short: a%00b was created as "a" */
  assert_string_equal(raw_422("PUT", "/projects/a%00b"),
                      "path.project_name: string must not contain control characters");
  api_expect_detail(&fx, "GET", "/projects/a", NULL, 404, "A project with this name does not exist");
  assert_string_equal(raw_422("PUT", "/projects/a%0Ab"),
                      "path.project_name: string must not contain control characters");
  assert_string_equal(raw_422("PUT", "/projects/x%1b[31m"),
                      "path.project_name: string must not contain control characters");
  assert_string_equal(raw_422("PUT", "/projects/.."),
                      "path.project_name: string must not be \".\" or \"..\"");
  assert_string_equal(raw_422("PUT", "/projects/."),
                      "path.project_name: string must not be \".\" or \"..\"");
  assert_string_equal(raw_422("PUT", "/projects/%2e%2e"),
                      "path.project_name: string must not be \".\" or \"..\"");
  assert_string_equal(raw_422("GET", "/projects/p/versions/v/functions/f%7f/invocations"),
                      "path.function_name: string must not contain control characters");
  assert_string_equal(raw_422("GET", "/projects/p/versions/v/functions/f/invocations/.."),
                      "path.invocation_id: string must not be \".\" or \"..\"");
  assert_string_equal(
      raw_422("PUT", "/projects/p/versions/v/functions/f/invocations/i/executions/e%00/finish"),
      "path.execution_id: string must not contain control characters");
  assert_string_equal(raw_422("GET", "/projects/p/versions/v/functions/f/invocations"
                                     "?parent_function_name=f%0A&parent_invocation_id=i"),
                      "query.parent_function_name: string must not contain control characters");
  assert_string_equal(raw_422("GET", "/proj%00ects"),
                      "path: string must not contain control characters");
  /* nothing was created on the way */
  json_t *list = api_expect(&fx, "GET", "/projects", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "projects")), 0);
  json_decref(list);
}

static const char *function_body(const char *name_json, const char *provider) {
  static char body[1024];
  snprintf(body, sizeof body,
           "{\"default_docker_image\":\"img:1\",\"functions\":[{\"function_name\":%s,"
           "\"resource_spec\":{\"virtual_cpus\":1,\"memory_gbs\":1,\"max_concurrency\":1},"
           "\"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":30}%s%s%s}]}",
           name_json, provider ? ",\"provider\":\"" : "", provider ? provider : "",
           provider ? "\"" : "");
  return body;
}

static void test_names_in_bodies(void **state) {
  api_make_project(&fx, "names");
  assert_string_equal(
      api_expect_422(&fx, "POST", "/projects/names/versions", function_body("\"a\\nb\"", NULL)),
      "body.functions.0.function_name: string must not contain control characters");
  assert_string_equal(
      api_expect_422(&fx, "POST", "/projects/names/versions", function_body("\"..\"", NULL)),
      "body.functions.0.function_name: string must not be \".\" or \"..\"");
  assert_string_equal(
      api_expect_422(&fx, "POST", "/projects/names/versions", function_body("\".\"", NULL)),
      "body.functions.0.function_name: string must not be \".\" or \"..\"");
  /* \u0000 does not even get past the JSON parser */
  const char *nul =
      api_expect_422(&fx, "POST", "/projects/names/versions", function_body("\"a\\u0000\"", NULL));
  assert_non_null(strstr(nul, "is not allowed without JSON_ALLOW_NUL"));
  assert_string_equal(api_expect_422(&fx, "POST", "/projects/names/versions",
                                     function_body("\"x\\u009b\"", NULL)),
                      "body.functions.0.function_name: string must not contain control "
                      "characters");
  json_t *v = api_expect(&fx, "POST", "/projects/names/versions", function_body("\"f.1\"", NULL),
                         200);
  json_decref(v);
  /* parent references */
  const char *path = "/projects/names/versions/latest/functions/f.1/invocations";
  assert_string_equal(
      api_expect_422(&fx, "POST", path,
                     "{\"parent_invocation\":{\"function_name\":\"f\\r\","
                     "\"invocation_id\":\"i\"},\"input\":\"x\"}"),
      "body.parent_invocation.function_name: string must not contain control characters");
  assert_string_equal(
      api_expect_422(&fx, "POST", path,
                     "{\"parent_invocation\":{\"function_name\":\"f.1\","
                     "\"invocation_id\":\"..\"},\"input\":\"x\"}"),
      "body.parent_invocation.invocation_id: string must not be \".\" or \"..\"");
  /* control characters stay fine where they are data */
  json_decref(api_expect(&fx, "POST", path, "{\"input\":\"line 1\\nline 2\\t\\u0007\"}", 200));
}

static void test_unknown_provider_at_deploy(void **state) {
  api_make_project(&fx, "prov");
  const char *m =
      api_expect_422(&fx, "POST", "/projects/prov/versions", function_body("\"f\"", "nope"));
  assert_string_equal(m, "body.functions.0.provider: unknown provider; this daemon has \"local\", "
                         "\"docker\", not \"nope\"");
  json_t *list = api_expect(&fx, "GET", "/projects/prov/versions", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(list, "versions")), 0);
  json_decref(list);
  json_decref(
      api_expect(&fx, "POST", "/projects/prov/versions", function_body("\"f\"", "docker"), 200));
  json_decref(api_expect(&fx, "POST", "/projects/prov/versions", function_body("\"f\"", NULL),
                         200));
}

/* A credentials callback that holds the only API worker until released. */
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool entered, open;
};

static int blocking_credentials(void *ctx, json_t **out, struct mn_error *err) {
  struct gate *g = ctx;
  pthread_mutex_lock(&g->mu);
  g->entered = true;
  pthread_cond_broadcast(&g->cv);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
  *out = json_pack("{s:s, s:s, s:s, s:s}", "repository_name", "r", "username", "",
                   "password", "", "endpoint_url", "");
  return 0;
}

struct call {
  const char *base_url, *path;
  long status;
  long long done_ms;
};

static void *call_thread(void *arg) {
  struct call *c = arg;
  struct http_client *h = http_client_new(c->base_url, API_TEST_KEY);
  json_t *json = NULL;
  http_request(h, "GET", c->path, NULL, &c->status, &json);
  c->done_ms = now_ms();
  json_decref(json);
  http_client_free(h);
  return NULL;
}

/* GET /, /healthz and /readyz answer at once while every worker is held by
 * a handler that blocks (as one does on a hung database); a database-bound
 * request waits behind it. */
static void test_health_answers_from_memory(void **state) {
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 2, .workers = 1,
                               .credentials = blocking_credentials, .credentials_ctx = &g};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  struct call held = {second.base_url, "/container_repository_credentials", 0, 0};
  struct call queued = {second.base_url, "/projects", 0, 0};
  pthread_t t1, t2;
  pthread_create(&t1, NULL, call_thread, &held);
  pthread_mutex_lock(&g.mu);
  while (!g.entered)
    pthread_cond_wait(&g.cv, &g.mu);
  pthread_mutex_unlock(&g.mu);
  pthread_create(&t2, NULL, call_thread, &queued);

  struct http_client *h = http_client_new(second.base_url, NULL);
  static const char *const paths[] = {"/", "/healthz", "/readyz"};
  static const long want[] = {200, 200, 503}; /* no readiness object: not ready */
  for (int round = 0; round < 5; round++) {
    for (size_t i = 0; i < 3; i++) {
      long status;
      json_t *json = NULL;
      long long t0 = now_ms();
      assert_int_equal(http_request(h, "GET", paths[i], NULL, &status, &json), 0);
      long long took = now_ms() - t0;
      assert_int_equal(status, want[i]);
      if (took > 200)
        fail_msg("GET %s took %lld ms behind a held worker", paths[i], took);
      json_decref(json);
    }
  }
  usleep(300 * 1000);
  assert_int_equal(queued.done_ms, 0); /* still behind the held worker */
  long long opened = now_ms();
  pthread_mutex_lock(&g.mu);
  g.open = true;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  assert_int_equal(held.status, 200);
  assert_int_equal(queued.status, 200);
  assert_true(queued.done_ms >= opened);
  http_client_free(h);
  api_fixture_stop_second(&second);
}

/* A server on fx's store whose /readyz reports r, once r has probed. */
static json_t *readyz_with(struct mn_readiness *r, long want_status, long long *took_ms) {
  long long until = now_ms() + 10000;
  for (;;) { /* the first probe runs at once; its verdict is what is asked about */
    bool ready;
    json_t *report = mn_readiness_report(r, &ready);
    bool probed = !json_is_null(json_object_get(json_object_get(report, "database"),
                                                "checked_ms_ago")) &&
                  !json_is_null(json_object_get(json_object_get(report, "disk"), "free_bytes"));
    json_decref(report);
    if (probed)
      break;
    assert_true(now_ms() < until);
    usleep(20 * 1000);
  }
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 1, .readiness = r, .providers = providers_fn};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  struct http_client *h = http_client_new(second.base_url, NULL);
  long status = 0;
  json_t *json = NULL;
  /* the first probe runs at once; wait for its verdict (bounded) */
  long long deadline = now_ms() + 10000;
  for (;;) {
    long long t0 = now_ms();
    json_decref(json);
    json = NULL;
    assert_int_equal(http_request(h, "GET", "/readyz", NULL, &status, &json), 0);
    *took_ms = now_ms() - t0;
    if (status == want_status || now_ms() > deadline)
      break;
    usleep(50 * 1000);
  }
  assert_int_equal(status, want_status);
  assert_non_null(json);
  api_assert_schema(json, "Readiness");
  http_client_free(h);
  api_fixture_stop_second(&second);
  return json;
}

static bool has_reason(json_t *json, const char *prefix) {
  json_t *reasons = json_object_get(json, "reasons");
  for (size_t i = 0; i < json_array_size(reasons); i++)
    if (strncmp(json_string_value(json_array_get(reasons, i)), prefix, strlen(prefix)) == 0)
      return true;
  return false;
}

static void test_readiness(void **state) {
  struct mn_readiness *r;
  struct mn_error err = {0};
  long long took;
  /* the real database, and the disk of /tmp */
  struct mn_readiness_options ok = {.dsn = fx.dsn, .data_dir = "/tmp", .min_free_bytes = 1,
                                    .interval_ms = 100, .scheduler_enabled = false,
                                    .providers = providers_fn};
  assert_int_equal(mn_readiness_start(&ok, &r, &err), 0);
  json_t *json = readyz_with(r, 200, &took);
  assert_true(json_is_true(json_object_get(json, "ready")));
  assert_int_equal(json_array_size(json_object_get(json, "reasons")), 0);
  assert_true(json_is_true(json_object_get(json_object_get(json, "database"), "ok")));
  json_t *mig = json_object_get(json, "migrations");
  assert_true(json_is_true(json_object_get(mig, "ok")));
  assert_int_equal(json_integer_value(json_object_get(mig, "applied")),
                   json_integer_value(json_object_get(mig, "known")));
  assert_string_equal(json_string_value(json_object_get(json, "scheduler")), "off");
  assert_int_equal(json_array_size(json_object_get(json, "providers")), 2);
  assert_true(json_integer_value(json_object_get(json_object_get(json, "disk"), "free_bytes")) >
              0);
  json_decref(json);
  mn_readiness_stop(r);

  /* more free space asked for than any disk has: not ready, and why */
  struct mn_readiness_options full = ok;
  full.min_free_bytes = INT64_MAX / 2;
  assert_int_equal(mn_readiness_start(&full, &r, &err), 0);
  json = readyz_with(r, 503, &took);
  assert_true(json_is_false(json_object_get(json, "ready")));
  assert_true(has_reason(json, "disk: "));
  assert_true(json_is_false(json_object_get(json_object_get(json, "disk"), "ok")));
  assert_true(json_is_true(json_object_get(json_object_get(json, "database"), "ok")));
  json_decref(json);
  mn_readiness_stop(r);

  /* a database that is not there: not ready, answered at once */
  struct mn_readiness_options gone = ok;
  gone.dsn = "host=/nonexistent-mn-socket-dir port=1 dbname=x user=x";
  assert_int_equal(mn_readiness_start(&gone, &r, &err), 0);
  json = readyz_with(r, 503, &took);
  assert_true(took < 1000);
  assert_true(has_reason(json, "database: "));
  assert_true(json_is_false(json_object_get(json_object_get(json, "database"), "ok")));
  assert_true(json_is_false(json_object_get(json_object_get(json, "migrations"), "ok")));
  json_decref(json);
  mn_readiness_stop(r);
}

/* A connection that does not deliver a whole request within the deadline is
 * closed, however it trickles: nothing, one header byte at a time, or a
 * body. One that answers in time is served. */
static void test_request_deadline(void **state) {
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 2, .request_timeout_ms = 1000};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  long long t0 = now_ms();
  int idle = raw_connect("127.0.0.1", second.port);
  int headers = raw_connect("127.0.0.1", second.port);
  int body = raw_connect("127.0.0.1", second.port);
  const char *head = "GET /projects HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  const char *post = "POST /projects/p/versions HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer " API_TEST_KEY "\r\nContent-Length: 100\r\n\r\n{";
  assert_true(send(headers, head, strlen(head), 0) > 0);
  assert_true(send(body, post, strlen(post), 0) > 0);
  int fds[] = {idle, headers, body};
  bool closed[3] = {false, false, false};
  long long closed_at[3] = {0, 0, 0};
  /* trickle a byte every 100 ms on both slow ones until each is closed */
  while (now_ms() - t0 < 4000 && !(closed[0] && closed[1] && closed[2])) {
    for (int i = 0; i < 3; i++) {
      if (closed[i])
        continue;
      if (i > 0)
        send(fds[i], "a", 1, MSG_NOSIGNAL);
      if (closed_within(fds[i], 30)) {
        closed[i] = true;
        closed_at[i] = now_ms() - t0;
      }
    }
  }
  for (int i = 0; i < 3; i++) {
    if (!closed[i])
      fail_msg("connection %d still open after 4 s with a 1 s deadline", i);
    if (closed_at[i] < 900 || closed_at[i] > 2000)
      fail_msg("connection %d closed after %lld ms, not about 1000", i, closed_at[i]);
    close(fds[i]);
  }
  /* a request made in time is answered */
  long status;
  json_t *json = NULL;
  assert_int_equal(http_request(second.http, "GET", "/projects", NULL, &status, &json), 0);
  assert_int_equal(status, 200);
  json_decref(json);
  api_fixture_stop_second(&second);
}

/* Connections without a key from one address are limited; past the limit
 * the oldest of them makes room. A connection that made an authenticated
 * request is never closed to make room: its keep-alive survives. */
static void test_room_for_trusted_connections(void **state) {
  /* one network thread: connections are accepted in the order they came */
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 1, .max_unauthenticated_per_client = 4};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  long status;
  json_t *json = NULL;
  assert_int_equal(http_request(second.http, "GET", "/projects", NULL, &status, &json), 0);
  assert_int_equal(status, 200);
  json_decref(json);
  assert_int_equal(http_client_connects(second.http), 1);

  int fds[10];
  for (int i = 0; i < 10; i++)
    fds[i] = raw_connect("127.0.0.1", second.port);
  /* the 6 oldest are closed, the 4 newest stay */
  for (int i = 0; i < 6; i++)
    if (!closed_within(fds[i], 2000))
      fail_msg("idle connection %d was not closed to make room", i);
  for (int i = 6; i < 10; i++)
    assert_false(closed_within(fds[i], 100));
  /* another address has a limit of its own */
  int other = raw_connect("127.0.0.2", second.port);
  assert_false(closed_within(other, 100));
  assert_false(closed_within(fds[6], 100));
  close(other);

  /* the trusted keep-alive connection is still the same one */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(http_request(second.http, "GET", "/projects", NULL, &status, &json), 0);
    assert_int_equal(status, 200);
    json_decref(json);
  }
  assert_int_equal(http_client_connects(second.http), 1);
  for (int i = 0; i < 10; i++)
    close(fds[i]);
  api_fixture_stop_second(&second);
}

/* Near max_connections the oldest untrusted connection of any address makes
 * room, so a new client always gets in. */
static void test_room_at_the_limit(void **state) {
  struct mn_api_options opt = {.listen_host = "127.0.0.1", .api_key = API_TEST_KEY,
                               .threads = 1, .max_connections = 32};
  struct api_fixture second;
  assert_int_equal(api_fixture_start_second(&fx, &opt, &second), 0);
  int fds[60];
  char src[32];
  for (int i = 0; i < 60; i++) {
    snprintf(src, sizeof src, "127.0.0.%d", 10 + i % 20); /* 3 per address */
    fds[i] = raw_connect(src, second.port);
  }
  /* the 30 oldest went to make room: 32 - 32/16 = 30 stay */
  for (int i = 0; i < 30; i++)
    if (!closed_within(fds[i], 2000))
      fail_msg("connection %d was not closed to make room", i);
  for (int i = 30; i < 60; i++)
    assert_false(closed_within(fds[i], 20));
  for (int i = 0; i < 10; i++) {
    long status;
    json_t *json = NULL;
    long long t0 = now_ms();
    struct http_client *h = http_client_new(second.base_url, API_TEST_KEY);
    assert_int_equal(http_request(h, "GET", "/projects", NULL, &status, &json), 0);
    assert_int_equal(status, 200);
    assert_true(now_ms() - t0 < 1000);
    json_decref(json);
    http_client_free(h);
  }
  for (int i = 0; i < 60; i++)
    close(fds[i]);
  api_fixture_stop_second(&second);
}

int main(void) {
  mn_log_set_level(MN_LOG_WARN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_library_errors_are_json),
      cmocka_unit_test(test_ambiguous_framing),
      cmocka_unit_test(test_names_in_paths),
      cmocka_unit_test(test_names_in_bodies),
      cmocka_unit_test(test_unknown_provider_at_deploy),
      cmocka_unit_test(test_health_answers_from_memory),
      cmocka_unit_test(test_readiness),
      cmocka_unit_test(test_request_deadline),
      cmocka_unit_test(test_room_for_trusted_connections),
      cmocka_unit_test(test_room_at_the_limit),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
