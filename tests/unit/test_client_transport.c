/* The client's transport and configuration against a real HTTP server on
 * loopback (libmicrohttpd) that injects the faults the daemon cannot be
 * made to produce on demand: 503s, dropped connections, a daemon that is
 * down and comes back. Also: typed errors, keep-alive, waiting, and the
 * config file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "multinode/client.h"

static atomic_int requests;    /* requests answered or dropped */
static atomic_int connections; /* TCP connections accepted */
static char last_body[1024];
static char last_auth[256];
static char last_url[256];
static char last_offset[64];
static char last_max[16];

static int nth_request(void) {
  return atomic_fetch_add(&requests, 1) + 1;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result rc;
  MHD_add_response_header(r, "Content-Type", "application/json");
  rc = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return rc;
}

static const char *invocation_json(int n) {
  /* 1: queued, 2: running, 3+: succeeded */
  if (n == 1)
    return "{\"invocation_status\":\"RUNNING\",\"creation_time\":10,\"last_update_time\":10,"
           "\"cancellation_request_time\":null,\"execution_spec\":{\"max_retries\":0,"
           "\"timeout_seconds\":60},\"executions\":[]}";
  if (n == 2)
    return "{\"invocation_status\":\"RUNNING\",\"creation_time\":10,\"last_update_time\":11,"
           "\"cancellation_request_time\":null,\"execution_spec\":{\"max_retries\":0,"
           "\"timeout_seconds\":60},\"executions\":[{\"execution_id\":\"exe-1\","
           "\"worker_status\":\"RUNNING\",\"execution_start_time\":11,\"outcome\":null,"
           "\"output\":null,\"error_message\":null,\"termination_signal_time\":null,"
           "\"last_update_time\":11}]}";
  return "{\"invocation_status\":\"RUNNING\",\"creation_time\":10,\"last_update_time\":11,"
         "\"cancellation_request_time\":null,\"execution_spec\":{\"max_retries\":0,"
         "\"timeout_seconds\":60},\"executions\":[{\"execution_id\":\"exe-1\","
         "\"worker_status\":\"RUNNING\",\"execution_start_time\":11,\"outcome\":\"SUCCEEDED\","
         "\"output\":\"42\",\"error_message\":null,\"termination_signal_time\":null,"
         "\"last_update_time\":12}]}";
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
  static int marker;
  if (!*con_cls) {
    *con_cls = &marker;
    last_body[0] = '\0';
    return MHD_YES;
  }
  if (*upload_size) {
    snprintf(last_body, sizeof last_body, "%.*s", (int)*upload_size, upload);
    *upload_size = 0;
    return MHD_YES;
  }
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  snprintf(last_auth, sizeof last_auth, "%s", auth ? auth : "");
  snprintf(last_url, sizeof last_url, "%s", url);
  const char *offset = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "initial_offset");
  const char *max = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "max_results");
  snprintf(last_offset, sizeof last_offset, "%s", offset ? offset : "");
  snprintf(last_max, sizeof last_max, "%s", max ? max : "");
  size_t len = strlen(url);
  if (len > 7 && strcmp(url + len - 7, "/events") == 0) /* a server without event streams */
    return reply(conn, 404, "{\"detail\":\"Not Found\"}");
  int n = nth_request();

  if (strcmp(url, "/projects/flaky") == 0)
    return n <= 2 ? reply(conn, 503, "{\"detail\":\"The database is unavailable\"}")
                  : reply(conn, 200, "{\"project_name\":\"flaky\"}");
  if (strncmp(url, "/projects/drop", 14) == 0)
    return n <= 1 ? MHD_NO : reply(conn, 200, "{\"project_name\":\"drop\"}");
  if (strcmp(url, "/projects/missing") == 0)
    return reply(conn, 404, "{\"detail\":\"A project with this name does not exist\"}");
  if (strcmp(url, "/projects/bad/versions") == 0)
    return reply(conn, 422, "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"field required\"}]}");
  if (strcmp(url, "/projects/oops") == 0)
    return reply(conn, 500, "Internal Server Error");
  if (strcmp(url, "/projects/notjson") == 0)
    return reply(conn, 200, "<html>hello</html>");
  if (strstr(url, "/invocations/inv-1"))
    return reply(conn, 200, invocation_json(n));
  if (strstr(url, "/invocations/inv-stuck"))
    return reply(conn, 200, invocation_json(1));
  return reply(conn, 200, "{\"ok\":true}");
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code) {
  if (code == MHD_CONNECTION_NOTIFY_STARTED)
    atomic_fetch_add(&connections, 1);
}

static struct MHD_Daemon *serve(unsigned short port) {
  return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, handler, NULL,
                          MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
}

struct fixture {
  struct MHD_Daemon *d;
  unsigned short port;
  char url[64];
  struct mn_client *c;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  f->d = serve(0);
  assert_non_null(f->d);
  f->port = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port;
  snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/", f->port);
  f->c = mn_client_new(f->url, "sekret");
  assert_non_null(f->c);
  atomic_store(&requests, 0);
  atomic_store(&connections, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  mn_client_free(f->c);
  if (f->d)
    MHD_stop_daemon(f->d);
  free(f);
  return 0;
}

static void test_keep_alive_and_auth(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  json_t *out = NULL;
  /* the trailing slash is dropped */
  assert_int_equal(strlen(mn_client_api_url(f->c)), strlen(f->url) - 1);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(mn_client_projects_list(f->c, &out, &err), 0);
    assert_true(json_is_object(out));
    json_decref(out);
  }
  assert_string_equal(last_auth, "Bearer sekret");
  assert_int_equal(atomic_load(&requests), 5);
  assert_int_equal(atomic_load(&connections), 1); /* one connection, kept alive */
}

static void test_typed_errors(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  json_t *out = (json_t *)1;

  assert_int_equal(mn_client_project_get(f->c, "missing", &out, &err), MN_CLIENT_E_HTTP);
  assert_null(out);
  assert_int_equal(err.code, MN_CLIENT_E_HTTP);
  assert_int_equal(err.http_status, 404);
  assert_string_equal(err.name, "ProjectDoesNotExist");
  assert_string_equal(err.detail, "A project with this name does not exist");
  assert_true(mn_client_error_is(&err, "ProjectDoesNotExist"));
  assert_false(mn_client_error_is(&err, "VersionDoesNotExist"));

  json_t *def = json_pack("{s:s, s:[]}", "default_docker_image", "img", "functions");
  assert_int_equal(mn_client_version_create_json(f->c, "bad", def, &out, &err),
                   MN_CLIENT_E_HTTP);
  json_decref(def);
  assert_int_equal(err.http_status, 422);
  assert_string_equal(err.name, "ValidationError");
  assert_non_null(strstr(err.detail, "field required"));

  assert_int_equal(mn_client_project_get(f->c, "oops", NULL, &err), MN_CLIENT_E_HTTP);
  assert_int_equal(err.http_status, 500);
  assert_string_equal(err.name, "");
  assert_string_equal(err.detail, "Internal Server Error");

  assert_int_equal(mn_client_project_get(f->c, "notjson", &out, &err), MN_CLIENT_E_PROTOCOL);
  assert_null(out);

  assert_int_equal(mn_client_project_get(f->c, NULL, &out, &err), MN_CLIENT_E_INVAL);
  assert_int_equal(mn_client_execution_finish(f->c, NULL, "FAILED", NULL, NULL, NULL, &err),
                   MN_CLIENT_E_INVAL);
}

static void test_no_retry_by_default(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  assert_int_equal(mn_client_project_get(f->c, "flaky", NULL, &err), MN_CLIENT_E_HTTP);
  assert_int_equal(err.http_status, 503);
  assert_int_equal(atomic_load(&requests), 1);
}

static void test_retry_on_503(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  json_t *out = NULL;
  mn_client_set_retry(f->c, 1, 10000);
  assert_int_equal(mn_client_project_get(f->c, "flaky", &out, &err), 0);
  assert_string_equal(mn_client_json_str(out, "project_name"), "flaky");
  assert_int_equal(atomic_load(&requests), 3);
  json_decref(out);
}

static void test_retry_after_dropped_connection(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  mn_client_set_retry(f->c, 1, 10000);
  /* a PUT whose connection dropped is sent again */
  assert_int_equal(mn_client_project_create(f->c, "drop", NULL, &err), 0);
  assert_int_equal(atomic_load(&requests), 2);

  /* a POST is not: it could create a second invocation. (A fresh client:
   * on a reused connection libcurl itself re-sends once when the server
   * closes it without answering, taking it for an idle keep-alive close.) */
  struct mn_client *fresh = mn_client_new(f->url, "sekret");
  mn_client_set_retry(fresh, 1, 10000);
  atomic_store(&requests, 0);
  json_t *def = json_pack("{s:s, s:[]}", "default_docker_image", "img", "functions");
  assert_int_equal(mn_client_version_create_json(fresh, "drop", def, NULL, &err),
                   MN_CLIENT_E_TRANSPORT);
  json_decref(def);
  mn_client_free(fresh);
  assert_int_equal(atomic_load(&requests), 1);
  assert_int_not_equal(err.transport, 0);
}

struct restart {
  struct fixture *f;
  long delay_ms;
};

static void *start_later(void *arg) {
  struct restart *r = arg;
  struct timespec ts = {0, r->delay_ms * 1000000L};
  nanosleep(&ts, NULL);
  r->f->d = serve(r->f->port);
  return NULL;
}

static void test_retry_until_daemon_is_back(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  struct restart r = {f, 300};
  pthread_t t;
  json_t *out = NULL;

  MHD_stop_daemon(f->d);
  f->d = NULL;
  mn_client_set_retry(f->c, 1, 10000);
  assert_int_equal(pthread_create(&t, NULL, start_later, &r), 0);
  int rc = mn_client_execution_update(
      f->c, &(struct mn_client_execution_ref){"p", "ver-1", "f", "inv-1", "exe-1"}, "50%", &out,
      &err);
  pthread_join(t, NULL);
  assert_int_equal(rc, 0);
  assert_non_null(f->d);
  assert_string_equal(last_body, "{\"latest_output\":\"50%\"}");
  json_decref(out);
}

static void test_retry_gives_up_at_deadline(void **state) {
  struct fixture *f = *state;
  struct mn_client_error err;
  struct timespec a, b;

  MHD_stop_daemon(f->d);
  f->d = NULL;
  mn_client_set_retry(f->c, 1, 400);
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(mn_client_health(f->c, NULL, &err), MN_CLIENT_E_TRANSPORT);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  assert_true(ms >= 200 && ms < 3000);
  assert_true(mn_client_error_unreachable(&err));
  assert_non_null(strstr(err.detail, "gave up after"));
}

static int changes;
static void count_change(void *ctx, const json_t *info, const struct mn_status_info *st) {
  changes++;
}

static void test_wait(void **state) {
  struct fixture *f = *state;
  struct mn_client_function_ref fn = {"p", NULL, "f"};
  struct mn_client_error err;
  struct mn_status_info st;
  json_t *info = NULL;

  changes = 0;
  assert_int_equal(
      mn_client_invocation_wait(f->c, &fn, "inv-1", 10000, count_change, NULL, &info, &st, &err),
      0);
  assert_int_equal(st.status, MN_STATUS_SUCCEEDED);
  assert_string_equal(st.result, "42");
  /* the live view asks for the event stream (404 here) and polls instead */
  assert_int_equal(changes, 3); /* PENDING, RUNNING, SUCCEEDED */
  assert_int_equal(atomic_load(&requests), 3);
  json_decref(info);

  assert_int_equal(
      mn_client_invocation_wait(f->c, &fn, "inv-stuck", 300, NULL, NULL, &info, &st, &err),
      MN_CLIENT_E_TIMEOUT);
  assert_int_equal(st.status, MN_STATUS_PENDING);
  assert_non_null(info);
  json_decref(info);
}

static void test_escaping_and_query(void **state) {
  struct fixture *f = *state;
  struct mn_client_function_ref fn = {"a b", "ver/1", "f?x"};
  struct mn_client_list_options opt = {.max_results = 5, .initial_offset = "10,inv-1&x"};
  struct mn_client_error err;
  json_t *out = NULL;
  assert_int_equal(mn_client_invocations_list(f->c, &fn, &opt, &out, &err), 0);
  json_decref(out);
  assert_int_equal(atomic_load(&requests), 1);
  /* the server decodes each segment back to what was given */
  assert_string_equal(last_url, "/projects/a b/versions/ver/1/functions/f?x/invocations");
  assert_string_equal(last_offset, "10,inv-1&x");
  assert_string_equal(last_max, "5");

  /* no version means latest */
  fn.version_ref = NULL;
  assert_int_equal(mn_client_invocations_list(f->c, &fn, NULL, &out, &err), 0);
  json_decref(out);
  assert_string_equal(last_url, "/projects/a b/versions/latest/functions/f?x/invocations");
  assert_string_equal(last_offset, "");
}

/* ----------------------------------------------------------------- config */

static char home[64];

static int config_setup(void **state) {
  snprintf(home, sizeof home, "/tmp/mn-client-test.XXXXXX");
  assert_non_null(mkdtemp(home));
  setenv("HOME", home, 1);
  unsetenv("MULTINODE_API_URL");
  unsetenv("MULTINODE_API_KEY");
  return 0;
}

static int config_teardown(void **state) {
  char path[128];
  snprintf(path, sizeof path, "%s/.multinode/config.json", home);
  unlink(path);
  snprintf(path, sizeof path, "%s/.multinode", home);
  rmdir(path);
  rmdir(home);
  return 0;
}

static void test_config(void **state) {
  struct mn_client_config cfg = {0};
  struct mn_client_error err;
  struct mn_client *c = NULL;
  char path[4096];
  struct stat sb;

  /* nothing anywhere: the default URL, and no key */
  assert_int_equal(mn_client_config_load(&cfg, &err), 0);
  assert_string_equal(cfg.api_url, MN_CLIENT_DEFAULT_URL);
  assert_null(cfg.api_key);
  mn_client_config_release(&cfg);
  assert_int_equal(mn_client_from_env(&c, &err), MN_CLIENT_E_CONFIG);
  assert_null(c);

  /* saved with mode 0600 */
  struct mn_client_config saved = {"http://file:1", "file-key"};
  assert_int_equal(mn_client_config_save(&saved, &err), 0);
  assert_int_equal(mn_client_config_path(path, sizeof path, &err), 0);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  assert_int_equal(mn_client_config_load(&cfg, &err), 0);
  assert_string_equal(cfg.api_url, "http://file:1");
  assert_string_equal(cfg.api_key, "file-key");
  mn_client_config_release(&cfg);

  /* the environment wins, field by field */
  setenv("MULTINODE_API_KEY", "env-key", 1);
  assert_int_equal(mn_client_config_load(&cfg, &err), 0);
  assert_string_equal(cfg.api_url, "http://file:1");
  assert_string_equal(cfg.api_key, "env-key");
  mn_client_config_release(&cfg);
  setenv("MULTINODE_API_URL", "http://env:2", 1);
  assert_int_equal(mn_client_from_env(&c, &err), 0);
  assert_string_equal(mn_client_api_url(c), "http://env:2");
  mn_client_free(c);
  unsetenv("MULTINODE_API_URL");
  unsetenv("MULTINODE_API_KEY");

  /* logging out keeps the file, without url and key */
  struct mn_client_config empty = {0};
  assert_int_equal(mn_client_config_save(&empty, &err), 0);
  assert_int_equal(mn_client_config_load_file(&cfg, &err), 0);
  assert_null(cfg.api_url);
  assert_null(cfg.api_key);

  /* a broken file is an error that names it */
  FILE *fp = fopen(path, "w");
  fputs("{\"api_key\": 5}", fp);
  fclose(fp);
  assert_int_equal(mn_client_config_load(&cfg, &err), MN_CLIENT_E_CONFIG);
  assert_non_null(strstr(err.detail, "api_key"));
  fp = fopen(path, "w");
  fputs("{nope", fp);
  fclose(fp);
  assert_int_equal(mn_client_config_load(&cfg, &err), MN_CLIENT_E_CONFIG);
  assert_non_null(strstr(err.detail, "config.json"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_keep_alive_and_auth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_typed_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_retry_by_default, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_on_503, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_after_dropped_connection, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_until_daemon_is_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_gives_up_at_deadline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
      cmocka_unit_test_setup_teardown(test_escaping_and_query, setup, teardown),
      cmocka_unit_test_setup_teardown(test_config, config_setup, config_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
