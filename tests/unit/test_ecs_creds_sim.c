/* test_ecs_creds_sim.c — the HTTP sources of the AWS credentials chain
 * (plugins/support/aws) against tests/sims/aws_creds/server.py (a real HTTP server on
 * loopback, started once for the group): the ECS container credentials
 * endpoint, EC2 IMDSv2 and STS AssumeRoleWithWebIdentity (the simulator
 * checks each request against the STS API model), refresh before expiry
 * with a controlled clock, and concurrent callers.
 *
 * The program links the toolkit's mn_plugin_aws (tests/CMakeLists.txt). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
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

#include "aws/creds.h"
#include "aws/creds_source.h"

static const char *const aws_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_DISABLED"};

static pid_t sim_pid;
static char sim_url[64]; /* http://127.0.0.1:PORT */
static char home[256];

/* ---- the simulator ---- */

static int start_sim(void **state) {
  const char *data = getenv("MN_TEST_DATA");
  char script[1024], line[128];
  size_t len = 0;
  int fds[2], port = 0;
  (void)state;
  if (!data) {
    fprintf(stderr, "MN_TEST_DATA is not set\n");
    return -1;
  }
  snprintf(script, sizeof script, "%s/../sims/aws_creds/server.py", data);
  if (access(script, R_OK) != 0 || pipe(fds) != 0) {
    fprintf(stderr, "cannot use %s: %s\n", script, strerror(errno));
    return -1;
  }
  if ((sim_pid = fork()) == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("python3", "python3", script, (char *)NULL);
    fprintf(stderr, "cannot run python3: %s (install python3)\n", strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  /* Wait (at most 15 s) for its "PORT <n>" line. */
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    ssize_t n;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec > 15 || poll(&p, 1, 500) < 0)
      break;
    if (!(p.revents & (POLLIN | POLLHUP)))
      continue;
    if ((n = read(fds[0], line + len, sizeof line - 1 - len)) <= 0)
      break;
    len += (size_t)n;
    line[len] = '\0';
  }
  close(fds[0]);
  line[len] = '\0';
  if (sscanf(line, "PORT %d", &port) != 1) {
    fprintf(stderr, "the aws_creds simulator did not start (said \"%s\")\n", line);
    kill(sim_pid, SIGKILL);
    waitpid(sim_pid, NULL, 0);
    return -1;
  }
  snprintf(sim_url, sizeof sim_url, "http://127.0.0.1:%d", port);
  return 0;
}

static int stop_sim(void **state) {
  (void)state;
  if (sim_pid > 0) {
    kill(sim_pid, SIGTERM);
    waitpid(sim_pid, NULL, 0);
  }
  curl_global_cleanup();
  return 0;
}

static size_t collect(char *d, size_t s, size_t n, void *u) {
  char **buf = u;
  size_t old = *buf ? strlen(*buf) : 0;
  char *p = realloc(*buf, old + s * n + 1);
  if (!p)
    return 0;
  memcpy(p + old, d, s * n);
  p[old + s * n] = '\0';
  *buf = p;
  return s * n;
}

/* GET sim_url + path; the answer as JSON (the caller decrefs). */
static json_t *sim_get(const char *path) {
  char url[1024], *body = NULL;
  long status = 0;
  CURL *h = curl_easy_init();
  json_t *j;
  snprintf(url, sizeof url, "%s%s", sim_url, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  assert_int_equal(status, 200);
  j = json_loads(body, 0, NULL);
  free(body);
  assert_non_null(j);
  return j;
}

static void sim_config(const char *query) {
  char path[1024];
  snprintf(path, sizeof path, "/_config?%s", query);
  json_decref(sim_get(path));
}

static long long stat_int(const char *key) {
  json_t *j = sim_get("/_stats");
  long long v = json_integer_value(json_object_get(j, key));
  json_decref(j);
  return v;
}

static void assert_no_violations(void) {
  json_t *j = sim_get("/_stats");
  json_t *v = json_object_get(j, "violations");
  if (json_array_size(v) > 0) {
    char *s = json_dumps(v, 0);
    fprintf(stderr, "violations: %s\n", s);
    free(s);
  }
  assert_int_equal(json_array_size(v), 0);
  json_decref(j);
}

/* ---- a host with a clock the tests move ---- */

static int64_t clock_offset_us;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_log[600];
static int n_warnings;

static int64_t test_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + clock_offset_us;
}

__attribute__((format(printf, 3, 4))) static void test_log(const struct mn_host *h, int level,
                                                           const char *fmt, ...) {
  va_list ap;
  (void)h;
  pthread_mutex_lock(&log_lock);
  va_start(ap, fmt);
  vsnprintf(last_log, sizeof last_log, fmt, ap);
  va_end(ap);
  if (level == MN_HOST_LOG_WARN)
    n_warnings++;
  pthread_mutex_unlock(&log_lock);
}

static const struct mn_host test_host = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_host),
    .provider_name = "ecs",
    .log = test_log,
    .now_us = test_now_us,
};

/* ---- per test ---- */

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof aws_vars / sizeof aws_vars[0]; i++)
    unsetenv(aws_vars[i]);
  snprintf(home, sizeof home, "/tmp/mn-creds-sim-XXXXXX");
  if (!mkdtemp(home))
    return -1;
  setenv("HOME", home, 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  clock_offset_us = 0;
  n_warnings = 0;
  sim_config("ttl=3600&fail=0&fail_count=0&sts_error=&malformed=&delay=0&auth_token="
             "&role=sim-instance-role&expect_token=&token_extra=");
  return 0;
}

static int teardown(void **state) {
  char cmd[300];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  return system(cmd) == 0 ? 0 : -1;
}

static void assert_contains(const char *hay, const char *needle) {
  if (!strstr(hay, needle))
    fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static char *home_file(const char *name, const char *text) {
  static char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", home, name);
  assert_non_null(f = fopen(path, "w"));
  fputs(text, f);
  fclose(f);
  return path;
}

static struct mn_aws_creds_chain *chain(const struct mn_aws_creds_config *cfg) {
  struct mn_aws_creds_chain *c = NULL;
  struct mn_provider_error err = {0};
  static const struct mn_aws_creds_config none = {.region = "eu-west-1"};
  if (mn_aws_creds_chain_new(cfg ? cfg : &none, &test_host, &c, &err) != 0)
    fail_msg("chain_new: %s", err.msg);
  return c;
}

static int get_once(struct mn_aws_creds *out, struct mn_provider_error *err) {
  struct mn_aws_creds_chain *c = chain(NULL);
  int rc = mn_aws_creds_get(c, out, err);
  mn_aws_creds_chain_free(c);
  return rc;
}

static void full_uri(const char *path) {
  char url[256];
  snprintf(url, sizeof url, "%s%s", sim_url, path);
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
}

static int64_t expected_expiry_us(int ttl_s) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((int64_t)ts.tv_sec + ttl_s) * 1000000;
}

/* ---- ECS container credentials ---- */

static void test_container_full_uri_with_token_file(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  long long before = stat_int("container");
  (void)state;
  sim_config("auth_token=Bearer%20pod-identity-token");
  full_uri("/full/v1/credentials");
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
         home_file("eks-token", "Bearer pod-identity-token\n"), 1);
  assert_int_equal(get_once(&cr, &err), 0);
  assert_int_equal(strncmp(cr.access_key, "ASIASIM", 7), 0);
  assert_int_equal(strncmp(cr.session_token, "simtoken-", 9), 0);
  assert_true(strlen(cr.session_token) > 1500);
  assert_true(llabs(cr.expires_us - expected_expiry_us(3600)) < 5 * 1000000);
  assert_int_equal(stat_int("container"), before + 1);

  /* the file is preferred over the variable, and read on every fetch */
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer stale", 1);
  home_file("eks-token", "Bearer rotated\n");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "answered HTTP 401");
  sim_config("auth_token=Bearer%20rotated");
  assert_int_equal(get_once(&cr, &err), 0);
  /* the variable when there is no file */
  unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  sim_config("auth_token=Bearer%20stale");
  assert_int_equal(get_once(&cr, &err), 0);
}

static void test_container_relative_uri(void **state) {
  struct creds_ctx ctx = {.container_host = sim_url + strlen("http://")};
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  ctx.env.container_relative_uri = "/v2/credentials/3f0c8a7e-task";
  assert_int_equal(creds_container_fetch(&ctx, &cr, &err), 0);
  assert_int_equal(strncmp(cr.access_key, "ASIASIM", 7), 0);
  /* the relative URI wins over the full one, like in the SDKs */
  ctx.env.container_full_uri = "http://127.0.0.1:9/never";
  assert_int_equal(creds_container_fetch(&ctx, &cr, &err), 0);
  ctx.env.container_relative_uri = "/nothing-here";
  assert_int_equal(creds_container_fetch(&ctx, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "answered HTTP 404");
}

/* Each malformed answer the simulator can give fails with AUTH naming it. */
struct malformed {
  const char *mode, *msg;
};

static void expect_malformed(const struct malformed *bad, size_t n) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  for (size_t i = 0; i < n; i++) {
    char q[64];
    snprintf(q, sizeof q, "malformed=%s", bad[i].mode);
    sim_config(q);
    assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
    assert_contains(err.msg, bad[i].msg);
  }
}

static void test_container_errors(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  full_uri("/full/creds");
  sim_config("fail=500&fail_count=1");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  assert_contains(err.msg, "answered HTTP 500");
  sim_config("fail=429&fail_count=1");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  sim_config("fail=403&fail_count=1");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "injected failure");
  static const struct malformed bad[] = {{"json", "malformed JSON"},
             {"nofield", "no SecretAccessKey"},
             {"badtime", "not an ISO 8601 time: \"tomorrow\""},
             {"text", "malformed JSON"}};
  expect_malformed(bad, sizeof bad / sizeof bad[0]);
}

/* ---- EC2 IMDSv2 ---- */

static void test_imds(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  long long tok = stat_int("imds_token"), list = stat_int("imds_role_list"),
            get = stat_int("imds_creds");
  (void)state;
  unsetenv("AWS_EC2_METADATA_DISABLED");
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", sim_url, 1);
  assert_int_equal(get_once(&cr, &err), 0);
  assert_int_equal(strncmp(cr.access_key, "ASIASIM", 7), 0);
  assert_true(cr.session_token[0] != '\0');
  assert_true(llabs(cr.expires_us - expected_expiry_us(3600)) < 5 * 1000000);
  assert_int_equal(stat_int("imds_token"), tok + 1);
  assert_int_equal(stat_int("imds_role_list"), list + 1);
  assert_int_equal(stat_int("imds_creds"), get + 1);
  assert_no_violations(); /* every GET carried a valid session token */

  /* a trailing slash in the endpoint is fine */
  char url[128];
  snprintf(url, sizeof url, "%s/", sim_url);
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
  assert_int_equal(get_once(&cr, &err), 0);

  /* an instance without a role: no source, and the message says why */
  sim_config("role=");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "no AWS credentials");
  assert_contains(err.msg, "no IAM role is attached to this instance");

  sim_config("role=sim-instance-role&fail=503&fail_count=1");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  assert_contains(err.msg, "answered HTTP 503 to /latest/api/token");
  sim_config("malformed=nofield");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "EC2 instance metadata answered no SecretAccessKey");
}

static void test_imds_times_out_fast(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  struct timespec a, b;
  double secs;
  (void)state;
  unsetenv("AWS_EC2_METADATA_DISABLED");
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", sim_url, 1);
  sim_config("delay=3");
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  clock_gettime(CLOCK_MONOTONIC, &b);
  secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  assert_contains(err.msg, "EC2 instance metadata:");
  assert_contains(err.msg, "imed out");
  assert_true(secs < 2.5); /* the 1 s timeout, not the 3 s answer */
  sim_config("delay=0");
}

/* ---- STS AssumeRoleWithWebIdentity ---- */

static void web_identity_env(const char *token) {
  char url[128];
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", home_file("web-token", token), 1);
  setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/multinode-control-plane", 1);
  snprintf(url, sizeof url, "%s/", sim_url);
  setenv("AWS_ENDPOINT_URL_STS", url, 1);
}

static void test_web_identity(void **state) {
  /* a JWT-like token with characters the form encoding must escape */
  const char *token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.sig+/=&%x";
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  long long before = stat_int("sts");
  json_t *st, *form;
  (void)state;
  char q[256];
  snprintf(q, sizeof q, "expect_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.sig%%2B%%2F%%3D%%26"
                        "%%25x&token_extra=%%26%%3C%%3E");
  sim_config(q);
  web_identity_env(token);
  setenv("AWS_ROLE_SESSION_NAME", "mn-test@host", 1);
  /* the environment's static keys would win: web identity comes second */
  assert_int_equal(get_once(&cr, &err), 0);
  assert_int_equal(strncmp(cr.access_key, "ASIASIM", 7), 0);
  assert_int_equal(strncmp(cr.secret_key, "sim/secret+", 11), 0);
  /* entities decoded: the simulator appended "&<>" to the session token */
  assert_int_equal(strcmp(cr.session_token + strlen(cr.session_token) - 3, "&<>"), 0);
  assert_true(llabs(cr.expires_us - expected_expiry_us(3600)) < 5 * 1000000);
  assert_int_equal(stat_int("sts"), before + 1);
  assert_no_violations();
  st = sim_get("/_stats");
  form = json_object_get(st, "last_sts_form");
  assert_string_equal(json_string_value(json_object_get(form, "RoleSessionName")),
                      "mn-test@host");
  assert_string_equal(json_string_value(json_object_get(form, "RoleArn")),
                      "arn:aws:iam::123456789012:role/multinode-control-plane");
  json_decref(st);

  /* without AWS_ROLE_SESSION_NAME a valid one is made up */
  unsetenv("AWS_ROLE_SESSION_NAME");
  assert_int_equal(get_once(&cr, &err), 0);
  st = sim_get("/_stats");
  form = json_object_get(st, "last_sts_form");
  assert_int_equal(strncmp(json_string_value(json_object_get(form, "RoleSessionName")),
                           "multinode-", 10), 0);
  json_decref(st);
  assert_no_violations();
}

static void test_web_identity_endpoint_from_config_and_profile(void **state) {
  struct mn_aws_creds_config cfg = {.region = "eu-west-1", .profile = "irsa"};
  struct mn_aws_creds_chain *c;
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  char url[128], text[1024];
  (void)state;
  /* a profile with role_arn + web_identity_token_file, STS endpoint from cfg */
  snprintf(url, sizeof url, "%s/", sim_url);
  cfg.sts_endpoint = url;
  snprintf(text, sizeof text,
           "[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/from-profile\n"
           "web_identity_token_file = %s/tok\nrole_session_name = prof-session\n",
           home);
  home_file("tok", "profile-token");
  setenv("AWS_CONFIG_FILE", home_file("config", text), 1);
  setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/", 1); /* cfg wins */
  c = chain(&cfg);
  assert_int_equal(mn_aws_creds_get(c, &cr, &err), 0);
  mn_aws_creds_chain_free(c);
  json_t *st = sim_get("/_stats");
  json_t *form = json_object_get(st, "last_sts_form");
  assert_string_equal(json_string_value(json_object_get(form, "RoleArn")),
                      "arn:aws:iam::123456789012:role/from-profile");
  assert_string_equal(json_string_value(json_object_get(form, "RoleSessionName")),
                      "prof-session");
  json_decref(st);
  assert_no_violations();
}

static void test_web_identity_errors(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  web_identity_env("token-one");
  sim_config("expect_token=token-two");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "InvalidIdentityToken: Couldn't retrieve verification key");
  sim_config("expect_token=&sts_error=AccessDenied");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "(HTTP 400): AccessDenied: injected AccessDenied & friends");
  sim_config("sts_error=IDPCommunicationError");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  sim_config("sts_error=Throttling");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  sim_config("sts_error=&fail=503&fail_count=1");
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  assert_contains(err.msg, "(HTTP 503): ServiceUnavailable");
  static const struct malformed bad[] = {{"xml", "malformed XML around Credentials"},
             {"nofield", "no Credentials/AccessKeyId"},
             {"badtime", "not an ISO 8601 time: \"soon\""}};
  expect_malformed(bad, sizeof bad / sizeof bad[0]);
  /* nobody listening: TRANSIENT */
  setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/", 1);
  assert_int_equal(get_once(&cr, &err), MN_PROVIDER_E_TRANSIENT);
  assert_contains(err.msg, "STS AssumeRoleWithWebIdentity");
  assert_no_violations();
}

/* ---- refresh ---- */

static void test_refresh_before_expiry(void **state) {
  struct mn_aws_creds_chain *c;
  struct mn_aws_creds a, b;
  struct mn_provider_error err = {0};
  long long n0 = stat_int("container");
  (void)state;
  full_uri("/full/refresh");
  c = chain(NULL);
  assert_int_equal(mn_aws_creds_get(c, &a, &err), 0);
  assert_int_equal(stat_int("container"), n0 + 1);
  /* cached while more than 5 minutes remain */
  clock_offset_us = (int64_t)(3600 - 300 - 20) * 1000000;
  assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_string_equal(a.access_key, b.access_key);
  assert_int_equal(stat_int("container"), n0 + 1);
  /* within 5 minutes of Expiration: fetched again, new keys */
  clock_offset_us = (int64_t)(3600 - 300 + 20) * 1000000;
  assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_string_not_equal(a.access_key, b.access_key);
  assert_int_equal(stat_int("container"), n0 + 2);
  assert_true(b.expires_us >= a.expires_us);

  mn_aws_creds_chain_free(c);

  /* short-lived credentials (2 minutes) are fetched on every call */
  clock_offset_us = 0;
  sim_config("ttl=120");
  c = chain(NULL);
  for (int i = 0; i < 5; i++)
    assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_int_equal(stat_int("container"), n0 + 2 + 5);
  mn_aws_creds_chain_free(c);
}

static void test_refresh_failure_keeps_valid_credentials(void **state) {
  struct mn_aws_creds_chain *c;
  struct mn_aws_creds a, b;
  struct mn_provider_error err = {0};
  long long n0;
  (void)state;
  full_uri("/full/keep");
  c = chain(NULL);
  assert_int_equal(mn_aws_creds_get(c, &a, &err), 0);
  n0 = stat_int("container");
  /* 2 minutes before expiry the refresh fails: the old ones still hold */
  clock_offset_us = (int64_t)(3600 - 120) * 1000000;
  sim_config("fail=500&fail_count=1");
  assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_string_equal(a.access_key, b.access_key);
  assert_int_equal(stat_int("container"), n0 + 1);
  assert_int_equal(n_warnings, 1);
  assert_contains(last_log, "cannot refresh AWS credentials");
  /* no new attempt for 10 s */
  clock_offset_us += 5 * 1000000;
  assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_int_equal(stat_int("container"), n0 + 1);
  /* then it succeeds */
  clock_offset_us += 6 * 1000000;
  assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_string_not_equal(a.access_key, b.access_key);
  assert_int_equal(stat_int("container"), n0 + 2);
  /* past the expiry, a failed refresh is an error */
  clock_offset_us = (int64_t)(2 * 3600) * 1000000;
  sim_config("fail=503&fail_count=1");
  assert_int_equal(mn_aws_creds_get(c, &b, &err), MN_PROVIDER_E_TRANSIENT);
  assert_contains(err.msg, "cannot refresh AWS credentials from ECS container credentials "
                           "endpoint");
  mn_aws_creds_chain_free(c);
}

static void test_refresh_web_identity_rereads_token(void **state) {
  struct mn_aws_creds_chain *c;
  struct mn_aws_creds a, b;
  struct mn_provider_error err = {0};
  (void)state;
  web_identity_env("first-token");
  sim_config("expect_token=first-token");
  c = chain(NULL);
  assert_int_equal(mn_aws_creds_get(c, &a, &err), 0);
  home_file("web-token", "second-token");
  sim_config("expect_token=second-token");
  clock_offset_us = (int64_t)(3600 - 100) * 1000000;
  assert_int_equal(mn_aws_creds_get(c, &b, &err), 0);
  assert_string_not_equal(a.access_key, b.access_key);
  mn_aws_creds_chain_free(c);
  assert_no_violations();
}

/* ---- concurrent callers ---- */

#define N_THREADS 8
#define N_CALLS 25

struct worker {
  struct mn_aws_creds_chain *c;
  int failures;
};

static void *hammer(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < N_CALLS; i++) {
    struct mn_aws_creds cr;
    struct mn_provider_error err;
    if (mn_aws_creds_get(w->c, &cr, &err) != 0 || strncmp(cr.access_key, "ASIASIM", 7) != 0 ||
        strncmp(cr.session_token, "simtoken-", 9) != 0)
      w->failures++;
  }
  return NULL;
}

static void run_threads(struct mn_aws_creds_chain *c) {
  pthread_t t[N_THREADS];
  struct worker w[N_THREADS];
  for (int i = 0; i < N_THREADS; i++) {
    w[i] = (struct worker){.c = c};
    assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
  }
  for (int i = 0; i < N_THREADS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].failures, 0);
  }
}

static void test_concurrent_callers(void **state) {
  struct mn_aws_creds_chain *c;
  long long n0 = stat_int("container");
  (void)state;
  full_uri("/full/threads");
  /* long-lived: one fetch however many callers race for the first one */
  c = chain(NULL);
  run_threads(c);
  assert_int_equal(stat_int("container"), n0 + 1);
  mn_aws_creds_chain_free(c);
  /* short-lived: always due for a refresh, one fetch at a time while the
   * others use the current ones; none lost or torn */
  sim_config("ttl=60");
  c = chain(NULL);
  run_threads(c);
  long long n = stat_int("container") - (n0 + 1);
  assert_true(n >= 2 && n <= N_THREADS * N_CALLS);
  mn_aws_creds_chain_free(c);
}

struct slow_get {
  struct mn_aws_creds_chain *c;
  struct mn_aws_creds cr;
  int rc;
};

static void *slow_get_thread(void *arg) {
  struct slow_get *g = arg;
  struct mn_provider_error err;
  g->rc = mn_aws_creds_get(g->c, &g->cr, &err);
  return NULL;
}

static double elapsed_since(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void test_slow_refresh_does_not_block_others(void **state) {
  struct slow_get g = {0};
  struct mn_aws_creds a, b;
  struct mn_provider_error err = {0};
  struct timespec t0;
  pthread_t t;
  long long n0;
  (void)state;
  full_uri("/full/slow");
  g.c = chain(NULL);
  assert_int_equal(mn_aws_creds_get(g.c, &a, &err), 0);
  /* due for a refresh, not expired; the endpoint now takes 2 s to answer */
  clock_offset_us = (int64_t)(3600 - 200) * 1000000;
  sim_config("delay=2");
  n0 = stat_int("container");
  assert_int_equal(pthread_create(&t, NULL, slow_get_thread, &g), 0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (stat_int("container") == n0) { /* the refresh has reached the endpoint */
    assert_true(elapsed_since(&t0) < 10);
    usleep(10000);
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(mn_aws_creds_get(g.c, &b, &err), 0);
  assert_true(elapsed_since(&t0) < 1.0); /* answered from the current credentials */
  assert_string_equal(a.access_key, b.access_key);
  pthread_join(t, NULL);
  assert_int_equal(g.rc, 0);
  assert_string_not_equal(g.cr.access_key, a.access_key);
  assert_int_equal(stat_int("container"), n0 + 1);
  /* expired credentials are not handed out: a caller waits for the fetch */
  sim_config("delay=1&ttl=10800"); /* the new ones are good at the moved clock */
  clock_offset_us = (int64_t)(2 * 3600) * 1000000;
  n0 = stat_int("container");
  assert_int_equal(pthread_create(&t, NULL, slow_get_thread, &g), 0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (stat_int("container") == n0) {
    assert_true(elapsed_since(&t0) < 10);
    usleep(10000);
  }
  assert_int_equal(mn_aws_creds_get(g.c, &b, &err), 0);
  pthread_join(t, NULL);
  assert_string_equal(b.access_key, g.cr.access_key); /* the one fetch's result */
  sim_config("delay=0");
  mn_aws_creds_chain_free(g.c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_container_full_uri_with_token_file),
      T(test_container_relative_uri),
      T(test_container_errors),
      T(test_imds),
      T(test_imds_times_out_fast),
      T(test_web_identity),
      T(test_web_identity_endpoint_from_config_and_profile),
      T(test_web_identity_errors),
      T(test_refresh_before_expiry),
      T(test_refresh_failure_keeps_valid_credentials),
      T(test_refresh_web_identity_rereads_token),
      T(test_concurrent_callers),
      T(test_slow_refresh_does_not_block_others),
#undef T
  };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return cmocka_run_group_tests(tests, start_sim, stop_sim);
}
