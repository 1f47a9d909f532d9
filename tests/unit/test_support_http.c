/* test_support_http.c — the provider toolkit's HTTP client
 * (plugins/support/http.h) against a real HTTP/1.1 server
 * (tests/sims/http/http_sim.py): connections kept from call to call,
 * Retry-After in seconds and as a date, a captured header, bounded bodies,
 * time-outs, streaming, an unreachable server, and the one status table. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <multinode/provider.h>

#include "http.h"

static pid_t sim_pid;
static char sim_url[64];

static int start_sim(void **state) {
  const char *data = getenv("MN_TEST_DATA");
  char script[1024], line[128] = "";
  size_t len = 0;
  int fds[2], port = 0;
  (void)state;
  if (!data)
    return fprintf(stderr, "MN_TEST_DATA is not set\n"), -1;
  snprintf(script, sizeof script, "%s/../sims/http/http_sim.py", data);
  if (access(script, R_OK) != 0 || pipe(fds) != 0)
    return fprintf(stderr, "cannot use %s: %s\n", script, strerror(errno)), -1;
  if ((sim_pid = fork()) == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl("/usr/bin/python3", "python3", script, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 15 || poll(&p, 1, 500) < 0)
      break;
    if (!(p.revents & (POLLIN | POLLHUP)))
      continue;
    ssize_t n = read(fds[0], line + len, sizeof line - 1 - len);
    if (n <= 0)
      break;
    len += (size_t)n;
    line[len] = '\0';
  }
  close(fds[0]);
  if (sscanf(line, "PORT %d", &port) != 1) {
    fprintf(stderr, "the http simulator did not start (said \"%s\")\n", line);
    kill(sim_pid, SIGKILL);
    waitpid(sim_pid, NULL, 0);
    return -1;
  }
  snprintf(sim_url, sizeof sim_url, "http://127.0.0.1:%d", port);
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int stop_sim(void **state) {
  (void)state;
  kill(sim_pid, SIGTERM);
  waitpid(sim_pid, NULL, 0);
  curl_global_cleanup();
  return 0;
}

/* GET path; asserts an answer came. */
static void get(struct mn_http *h, const char *path, size_t max_body,
                struct mn_http_response *r) {
  char url[256], why[512];
  snprintf(url, sizeof url, "%s%s", sim_url, path);
  struct mn_http_request rq = {.method = "GET", .url = url, .timeout_ms = 5000,
                               .max_body = max_body, .capture = "x-amzn-ErrorType"};
  if (mn_http_call(h, &rq, r, why, sizeof why) != 0)
    fail_msg("GET %s: %s", path, why);
}

static void test_connection_reuse(void **state) {
  struct mn_http h;
  struct mn_http_config cfg = {.name = "sim"};
  struct mn_http_response r;
  (void)state;
  assert_int_equal(mn_http_init(&h, &cfg), 0);
  get(&h, "/_connections", 0, &r);
  int before = 0;
  assert_int_equal(sscanf(r.body, "{\"connections\": %d}", &before), 1);
  mn_http_response_release(&r);
  for (int i = 0; i < 20; i++) {
    get(&h, "/status/200", 0, &r);
    assert_int_equal(r.status, 200);
    mn_http_response_release(&r);
  }
  get(&h, "/_connections", 0, &r);
  int after = 0;
  assert_int_equal(sscanf(r.body, "{\"connections\": %d}", &after), 1);
  mn_http_response_release(&r);
  /* 22 calls, one after the other: one connection, opened by the first */
  assert_int_equal(after, before);
  assert_int_equal(mn_http_connects(&h), 1);
  mn_http_release(&h);
}

static void test_retry_after_and_capture(void **state) {
  struct mn_http h;
  struct mn_http_config cfg = {.name = "sim"};
  struct mn_http_response r;
  (void)state;
  mn_http_init(&h, &cfg);
  get(&h, "/status/429?retry_after=7&error_type=ThrottlingException", 0, &r);
  assert_int_equal(r.status, 429);
  assert_int_equal(r.retry_after_us, INT64_C(7000000));
  assert_string_equal(r.captured, "ThrottlingException");
  assert_string_equal(r.body, "{\"code\": 429}");
  assert_int_equal(mn_http_status_code(r.status, NULL), MN_PROVIDER_E_TRANSIENT);
  mn_http_response_release(&r);

  /* an HTTP date 30 s ahead */
  char path[128], date[64];
  time_t later = time(NULL) + 30;
  struct tm tm;
  strftime(date, sizeof date, "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", gmtime_r(&later, &tm));
  snprintf(path, sizeof path, "/status/503?retry_after=%s", date);
  get(&h, path, 0, &r);
  assert_int_equal(r.status, 503);
  assert_in_range(r.retry_after_us, INT64_C(25000000), INT64_C(31000000));
  mn_http_response_release(&r);

  get(&h, "/status/500", 0, &r); /* none */
  assert_int_equal(r.retry_after_us, -1);
  assert_string_equal(r.captured, "");
  mn_http_response_release(&r);
  mn_http_release(&h);
}

static void test_bounds_and_failures(void **state) {
  struct mn_http h;
  struct mn_http_config cfg = {.name = "sim"};
  struct mn_http_response r;
  char url[256], why[512];
  (void)state;
  mn_http_init(&h, &cfg);
  get(&h, "/bytes/1000", 1000, &r); /* exactly the bound */
  assert_int_equal(r.len, 1000);
  mn_http_response_release(&r);

  snprintf(url, sizeof url, "%s/bytes/1001", sim_url);
  struct mn_http_request big = {.method = "GET", .url = url, .timeout_ms = 5000, .max_body = 1000};
  assert_int_equal(mn_http_call(&h, &big, &r, why, sizeof why), -1);
  assert_non_null(strstr(why, "answered more than 1000 bytes"));
  assert_null(r.body);

  snprintf(url, sizeof url, "%s/slow/1500", sim_url);
  struct mn_http_request slow = {.method = "GET", .url = url, .timeout_ms = 200};
  assert_int_equal(mn_http_call(&h, &slow, &r, why, sizeof why), -1);
  assert_non_null(strstr(why, "sim: "));
  assert_non_null(strstr(why, "imed out"));

  struct mn_http_request gone = {.method = "GET", .url = "http://127.0.0.1:1/", .timeout_ms = 2000};
  assert_int_equal(mn_http_call(&h, &gone, &r, why, sizeof why), -1);
  assert_non_null(strstr(why, "sim: "));
  mn_http_release(&h);
}

struct collected {
  char data[64];
  size_t len;
};

static size_t first_bytes(char *data, size_t size, size_t n, void *ctx) {
  struct collected *c = ctx;
  size_t take = size * n < sizeof c->data - 1 - c->len ? size * n : sizeof c->data - 1 - c->len;
  memcpy(c->data + c->len, data, take);
  c->len += take;
  return c->len == sizeof c->data - 1 ? 0 : size * n; /* enough: stop */
}

static void test_body_and_stream(void **state) {
  struct mn_http h;
  struct mn_http_config cfg = {.name = "sim", .user_agent = "test/1"};
  struct mn_http_response r;
  char url[256], why[512];
  static const char *const headers[] = {"Content-Type: application/json", NULL};
  (void)state;
  mn_http_init(&h, &cfg);
  snprintf(url, sizeof url, "%s/echo", sim_url);
  struct mn_http_request post = {.method = "PATCH", .url = url, .headers = headers,
                                 .body = "{\"a\":1}", .timeout_ms = 5000};
  assert_int_equal(mn_http_call(&h, &post, &r, why, sizeof why), 0);
  assert_string_equal(r.body, "{\"method\": \"PATCH\", \"body\": \"{\\\"a\\\":1}\", "
                              "\"content_type\": \"application/json\"}");
  mn_http_response_release(&r);

  /* a 2xx body streamed, stopped by the sink: not an error */
  struct collected c = {"", 0};
  snprintf(url, sizeof url, "%s/bytes/100000", sim_url);
  struct mn_http_request s = {.method = "GET", .url = url, .timeout_ms = 5000,
                              .sink = first_bytes, .sink_ctx = &c};
  assert_int_equal(mn_http_call(&h, &s, &r, why, sizeof why), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(c.len, 63);
  assert_int_equal(r.len, 0);
  mn_http_response_release(&r);
  /* a non-2xx body is kept, not streamed */
  c.len = 0;
  snprintf(url, sizeof url, "%s/status/404", sim_url);
  s.url = url;
  assert_int_equal(mn_http_call(&h, &s, &r, why, sizeof why), 0);
  assert_int_equal(r.status, 404);
  assert_int_equal(c.len, 0);
  assert_string_equal(r.body, "{\"code\": 404}");
  mn_http_response_release(&r);
  mn_http_release(&h);
}

static void test_status_table(void **state) {
  (void)state;
  static const struct {
    long status;
    int code;
  } cases[] = {{200, 0},   {204, 0},   {304, 0},   {400, MN_PROVIDER_E_INVALID},
               {401, MN_PROVIDER_E_AUTH},          {403, MN_PROVIDER_E_AUTH},
               {404, MN_PROVIDER_E_NOT_FOUND},     {409, MN_PROVIDER_E_INVALID},
               {408, MN_PROVIDER_E_TRANSIENT},     {410, MN_PROVIDER_E_NOT_FOUND},
               {422, MN_PROVIDER_E_INVALID},       {429, MN_PROVIDER_E_TRANSIENT},
               {500, MN_PROVIDER_E_TRANSIENT},     {503, MN_PROVIDER_E_TRANSIENT},
               {0, MN_PROVIDER_E_TRANSIENT}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (mn_http_status_code(cases[i].status, NULL) != cases[i].code)
      fail_msg("HTTP %ld: %d, want %d", cases[i].status,
               mn_http_status_code(cases[i].status, NULL), cases[i].code);
  static const struct mn_http_status_rule mine[] = {{404, MN_PROVIDER_E_INVALID},
                                                    {409, MN_PROVIDER_E_CAPACITY}, {0, 0}};
  assert_int_equal(mn_http_status_code(404, mine), MN_PROVIDER_E_INVALID);
  assert_int_equal(mn_http_status_code(409, mine), MN_PROVIDER_E_CAPACITY);
  assert_int_equal(mn_http_status_code(429, mine), MN_PROVIDER_E_TRANSIENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_connection_reuse),
      cmocka_unit_test(test_retry_after_and_capture),
      cmocka_unit_test(test_bounds_and_failures),
      cmocka_unit_test(test_body_and_stream),
      cmocka_unit_test(test_status_table),
  };
  return cmocka_run_group_tests(tests, start_sim, stop_sim);
}
