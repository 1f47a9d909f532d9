/* The `multinode` CLI ($MN_BIN_DIR/multinode) against the real API server:
 * what it prints on stdout (only results), its exit statuses, its error
 * messages, login/logout, and the in-worker verbs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_fixture.h"
#include "multinode/client.h"

static struct api_fixture fx;
static struct mn_client *c;
static char *ver;
static char home[64];
static char bin[1024];

struct run {
  int rc;
  char out[8192];
  char err[8192];
};

static void slurp(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, size - 1, f) : 0;
  buf[n] = '\0';
  if (f)
    fclose(f);
}

/* Runs multinode with args (NULL-terminated) and extra "K=V" env entries
 * (NULL-terminated; "K=" unsets K). stdin is /dev/null. */
static void run(struct run *r, const char *const *env, const char *const *args) {
  char out_path[128], err_path[128];
  const char *argv[32] = {bin};
  int n = 1;
  for (; args[n - 1] && n < 31; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  snprintf(out_path, sizeof out_path, "%s/out", home);
  snprintf(err_path, sizeof err_path, "%s/err", home);

  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    for (int i = 0; env && env[i]; i++) {
      char kv[512];
      snprintf(kv, sizeof kv, "%s", env[i]);
      char *eq = strchr(kv, '=');
      *eq = '\0';
      if (eq[1])
        setenv(kv, eq + 1, 1);
      else
        unsetenv(kv);
    }
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  r->rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  slurp(out_path, r->out, sizeof r->out);
  slurp(err_path, r->err, sizeof r->err);
}

#define RUN(r, ...) run(r, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_ENV(r, env, ...) run(r, env, (const char *const[]){__VA_ARGS__, NULL})
#define EXPECT_RC(r, want)                                                                 \
  do {                                                                                     \
    if ((r)->rc != (want))                                                                 \
      print_error("exit %d, want %d\nstdout: %s\nstderr: %s\n", (r)->rc, want, (r)->out,   \
                  (r)->err);                                                               \
    assert_int_equal((r)->rc, want);                                                       \
  } while (0)

static int setup(void **state) {
  const char *dir = getenv("MN_BIN_DIR");
  static const struct mn_client_function_spec fns[] = {
      {"fa", NULL, 1.0, 4.0, 10, 0, 30, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0},
      {"fb", NULL, 1.0, 4.0, 10, 0, 30, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0},
  };
  const struct mn_client_version_definition def = {"img", fns, 2};
  json_t *out = NULL;

  if (!dir) {
    fprintf(stderr, "MN_BIN_DIR is not set\n");
    return -1;
  }
  snprintf(bin, sizeof bin, "%s/multinode", dir);
  if (access(bin, X_OK) != 0) {
    fprintf(stderr, "%s is missing: build the multinode target\n", bin);
    return -1;
  }
  snprintf(home, sizeof home, "/tmp/mn-cli-it.XXXXXX");
  if (!mkdtemp(home) || api_fixture_start(&fx, "cli", NULL) != 0)
    return -1;
  setenv("HOME", home, 1);
  setenv("MULTINODE_API_URL", fx.base_url, 1);
  setenv("MULTINODE_API_KEY", API_TEST_KEY, 1);
  static const char *const worker_vars[] = {"MULTINODE_PROJECT_NAME", "MULTINODE_VERSION_ID",
                                            "MULTINODE_FUNCTION_NAME", "MULTINODE_INVOCATION_ID",
                                            "MULTINODE_EXECUTION_ID"};
  for (size_t i = 0; i < 5; i++)
    unsetenv(worker_vars[i]);
  c = mn_client_new(fx.base_url, API_TEST_KEY);
  if (!c || mn_client_project_create(c, "cli", NULL, NULL) != 0 ||
      mn_client_version_create(c, "cli", &def, &out, NULL) != 0)
    return -1;
  ver = strdup(mn_client_json_str(out, "version_id"));
  json_decref(out);
  return 0;
}

static int teardown(void **state) {
  char cmd[128];
  free(ver);
  mn_client_free(c);
  api_fixture_stop(&fx);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  return system(cmd) == 0 ? 0 : -1;
}

/* An invocation of fn started through the library; its id into id. */
static void start(const char *fn, const char *input, char *id) {
  struct mn_client_function_ref ref = {"cli", ver, fn};
  json_t *out = NULL;
  assert_int_equal(mn_client_invocation_start(c, &ref, input, NULL, &out, NULL), 0);
  strcpy(id, mn_client_json_str(out, "invocation_id"));
  json_decref(out);
}

/* A started execution of the invocation (as the scheduler and worker do). */
static void run_execution(const char *fn, const char *inv, char *exe) {
  assert_int_equal(api_fixture_add_execution(&fx, "cli", ver, fn, inv, "RUNNING", NULL, exe), 0);
  struct mn_client_execution_ref ex = {"cli", ver, fn, inv, exe};
  assert_int_equal(mn_client_execution_start(c, &ex, NULL, NULL), 0);
}

static void finish(const char *fn, const char *inv, const char *exe, const char *outcome,
                   const char *output, const char *error) {
  struct mn_client_execution_ref ex = {"cli", ver, fn, inv, exe};
  assert_int_equal(mn_client_execution_finish(c, &ex, outcome, output, error, NULL, NULL), 0);
}

static void test_list_and_describe(void **state) {
  struct run r;
  RUN(&r, "list");
  EXPECT_RC(&r, 0);
  /* a table: a header, then a row per project with its age */
  assert_int_equal(strncmp(r.out, "PROJECT ", 8), 0);
  assert_non_null(strstr(r.out, "\ncli "));
  assert_non_null(strstr(r.out, "s ago"));
  RUN(&r, "list", "--json");
  EXPECT_RC(&r, 0);
  json_t *doc = json_loads(r.out, 0, NULL);
  assert_int_equal(json_array_size(json_object_get(doc, "projects")), 1);
  json_decref(doc);

  RUN(&r, "describe", "--project-name", "cli");
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, ver));
  assert_non_null(strstr(r.out, "\tfa:\n"));
  assert_non_null(strstr(r.out, "total invocations: 0"));
  RUN(&r, "describe", "--project-name", "cli", "--function-name", "fb");
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, "fb has no invocations so far"));

  RUN(&r, "describe", "--project-name", "cli", "--json");
  EXPECT_RC(&r, 0);
  doc = json_loads(r.out, 0, NULL);
  assert_int_equal(json_array_size(json_object_get(doc, "functions")), 2);
  assert_string_equal(mn_client_json_str(json_object_get(doc, "version"), "version_id"), ver);
  json_decref(doc);
  RUN(&r, "describe", "--project-name", "cli", "--function-name", "fa", "--json");
  EXPECT_RC(&r, 0);
  doc = json_loads(r.out, 0, NULL);
  assert_string_equal(mn_client_json_str(doc, "function_name"), "fa");
  assert_true(json_is_array(json_object_get(doc, "invocations")));
  json_decref(doc);

  RUN(&r, "describe", "--project-name", "nope");
  EXPECT_RC(&r, 1);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "ProjectDoesNotExist"));
  assert_non_null(strstr(r.err, "multinode list"));
  RUN(&r, "describe", "--project-name", "cli", "--function-name", "zz");
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "function \"zz\" does not exist"));
}

static void test_start_get_wait(void **state) {
  struct run r;
  char id[64], exe[64], line[80];

  RUN(&r, "start", "--project-name", "cli", "fa", "--input", "hello");
  EXPECT_RC(&r, 0);
  assert_int_equal(strlen(r.out), 37); /* the id and a newline, nothing else */
  snprintf(id, sizeof id, "%.36s", r.out);
  assert_int_equal(strncmp(id, "inv-", 4), 0);

  RUN(&r, "get", "--project-name", "cli", "--function", "fa", id);
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, "status: PENDING"));

  run_execution("fa", id, exe);
  finish("fa", id, exe, "SUCCEEDED", "the result", NULL);
  RUN(&r, "wait", "--project-name", "cli", "--function-name", "fa", "--invocation-id", id);
  EXPECT_RC(&r, 0);
  assert_string_equal(r.out, "the result\n");
  snprintf(line, sizeof line, "%s: SUCCEEDED", id);
  assert_non_null(strstr(r.err, line));

  RUN(&r, "describe", "--project-name", "cli", "--function-name", "fa", "--invocation-id", id);
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, "(SUCCEEDED - terminating)"));
  assert_non_null(strstr(r.out, exe));
  assert_non_null(strstr(r.out, "outcome: SUCCEEDED"));

  RUN(&r, "get", "--project-name", "cli", "--function", "fa", "--json", id);
  EXPECT_RC(&r, 0);
  json_t *doc = json_loads(r.out, 0, NULL);
  assert_string_equal(mn_client_json_str(doc, "status"), "SUCCEEDED");
  assert_string_equal(mn_client_json_str(doc, "result"), "the result");
  json_decref(doc);

  /* a failure: exit 1, nothing on stdout, the error on stderr */
  start("fa", "", id);
  run_execution("fa", id, exe);
  finish("fa", id, exe, "FAILED", NULL, "ValueError: boom");
  RUN(&r, "wait", "--project-name", "cli", "--function", "fa", "--quiet", id);
  EXPECT_RC(&r, 1);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "FAILED: ValueError: boom"));
  /* the id alone is enough (GET /invocations/{id}); get exits by outcome */
  RUN(&r, "wait", "--quiet", id);
  EXPECT_RC(&r, 1);
  RUN(&r, "get", id);
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.out, "status: FAILED"));
  RUN(&r, "describe", "--invocation-id", id);
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, "(FAILED"));
  assert_non_null(strstr(r.out, "creation time: 20")); /* ISO-8601, not epoch seconds */
  assert_non_null(strstr(r.out, "children:\n\tnone"));
  RUN(&r, "logs", "--execution-id", exe);
  EXPECT_RC(&r, 0);
  RUN(&r, "get", "inv-00000000000000000000000000000000");
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "InvocationDoesNotExist"));
  RUN(&r, "invocations", "--project-name", "cli", "--status", "FAILED");
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, id));
  assert_non_null(strstr(r.out, "FAILED"));
  RUN(&r, "invocations", "--project-name", "cli", "--status", "SUCCEEDED");
  EXPECT_RC(&r, 0);
  assert_null(strstr(r.out, id));
  RUN(&r, "invocations", "--project-name", "cli", "--status", "FAILD");
  EXPECT_RC(&r, 2);
  assert_non_null(strstr(r.err, "did you mean FAILED?"));

  /* nothing runs it */
  start("fa", "", id);
  RUN(&r, "wait", "--timeout", "300ms", id);
  EXPECT_RC(&r, 5); /* gave up waiting */
  assert_non_null(strstr(r.err, "gave up waiting after 300ms"));
  assert_non_null(strstr(r.err, "still PENDING"));

  /* cancel it; a terminated one cannot be cancelled */
  RUN(&r, "cancel", id);
  EXPECT_RC(&r, 0);
  RUN(&r, "get", id);
  EXPECT_RC(&r, 0); /* not finished yet */
  assert_non_null(strstr(r.out, "status: CANCELLING"));
  assert_int_equal(api_fixture_terminate_invocation(&fx, "cli", ver, "fa", id), 0);
  RUN(&r, "cancel", "--project-name", "cli", "--function", "fa", id);
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "InvocationIsAlreadyTerminated"));
  RUN(&r, "wait", "--project-name", "cli", "--function", "fa", id);
  EXPECT_RC(&r, 3); /* cancelled */
  assert_non_null(strstr(r.err, "CANCELLED"));
  RUN(&r, "get", id);
  EXPECT_RC(&r, 3);
}

static void test_logs(void **state) {
  struct run r;
  char id[64], exe[64];
  start("fb", "", id);
  RUN(&r, "logs", "--project-name", "cli", "--function", "fb", id);
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "no executions yet"));
  run_execution("fb", id, exe);
  RUN(&r, "logs", "--project-name", "cli", "--function", "fb", id);
  EXPECT_RC(&r, 0);
  RUN(&r, "logs", "--project-name", "cli", "--function", "fb", "--execution-id", exe, "--json",
      id);
  EXPECT_RC(&r, 0);
  /* --follow ends once the execution has ended */
  assert_int_equal(api_fixture_terminate_execution(&fx, "cli", ver, "fb", id, exe), 0);
  RUN(&r, "logs", "--project-name", "cli", "--function", "fb", "--follow", id);
  EXPECT_RC(&r, 0);
}

static void test_worker_verbs(void **state) {
  struct run r;
  char parent[64], exe[64], child[64], env_buf[5][128];
  start("fa", "", parent);
  run_execution("fa", parent, exe);
  snprintf(env_buf[0], sizeof env_buf[0], "MULTINODE_PROJECT_NAME=cli");
  snprintf(env_buf[1], sizeof env_buf[1], "MULTINODE_VERSION_ID=%s", ver);
  snprintf(env_buf[2], sizeof env_buf[2], "MULTINODE_FUNCTION_NAME=fa");
  snprintf(env_buf[3], sizeof env_buf[3], "MULTINODE_INVOCATION_ID=%s", parent);
  snprintf(env_buf[4], sizeof env_buf[4], "MULTINODE_EXECUTION_ID=%s", exe);
  const char *const env[] = {env_buf[0], env_buf[1], env_buf[2], env_buf[3], env_buf[4], NULL};

  RUN_ENV(&r, env, "progress", "50%");
  EXPECT_RC(&r, 0);
  assert_string_equal(r.out, "");
  struct mn_client_function_ref fa = {"cli", ver, "fa"};
  struct mn_status_info st;
  json_t *info = NULL;
  assert_int_equal(mn_client_invocation_get(c, &fa, parent, &info, NULL), 0);
  assert_int_equal(mn_status_derive(info, &st, NULL), 0);
  assert_string_equal(st.result, "50%");
  json_decref(info);

  /* a child: same project and version, the current invocation as parent */
  RUN_ENV(&r, env, "start", "fb", "--input", "child input");
  EXPECT_RC(&r, 0);
  assert_int_equal(strlen(r.out), 37);
  snprintf(child, sizeof child, "%.36s", r.out);
  struct mn_client_function_ref fb = {"cli", ver, "fb"};
  assert_int_equal(mn_client_invocation_get(c, &fb, child, &info, NULL), 0);
  assert_string_equal(
      mn_client_json_str(json_object_get(info, "parent_invocation"), "invocation_id"), parent);
  assert_string_equal(mn_client_json_str(info, "input"), "child input");
  json_decref(info);

  char cexe[64];
  run_execution("fb", child, cexe);
  finish("fb", child, cexe, "SUCCEEDED", "child result", NULL);
  RUN_ENV(&r, env, "wait", "--function", "fb", child);
  EXPECT_RC(&r, 0);
  assert_string_equal(r.out, "child result\n");
  /* the parent's describe lists its child; invocations --parent too */
  RUN(&r, "describe", "--invocation-id", parent);
  EXPECT_RC(&r, 0);
  assert_non_null(strstr(r.out, "children:\n"));
  assert_non_null(strstr(r.out, child));
  RUN(&r, "invocations", "--parent", parent, "--json");
  EXPECT_RC(&r, 0);
  json_t *kids = json_loads(r.out, 0, NULL);
  assert_int_equal(json_array_size(kids), 1);
  assert_string_equal(mn_client_json_str(json_array_get(kids, 0), "invocation_id"), child);
  json_decref(kids);
}

static void test_login_logout(void **state) {
  static const char *const no_env[] = {"MULTINODE_API_URL=", "MULTINODE_API_KEY=", NULL};
  char path[128];
  struct stat sb;
  struct run r;

  RUN_ENV(&r, no_env, "login", "--url", fx.base_url, "--api-key", "wrong");
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "refused the API key"));
  snprintf(path, sizeof path, "%s/.multinode/config.json", home);
  assert_int_not_equal(stat(path, &sb), 0);

  RUN_ENV(&r, no_env, "login", "--url", fx.base_url, "--api-key", API_TEST_KEY);
  EXPECT_RC(&r, 0);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  RUN_ENV(&r, no_env, "list");
  EXPECT_RC(&r, 0); /* the saved URL and key */
  RUN_ENV(&r, no_env, "login", "--url", fx.base_url, "--api-key", API_TEST_KEY);
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "already logged in"));
  assert_non_null(strstr(r.err, "--force"));
  RUN_ENV(&r, no_env, "login", "--force", "--url", fx.base_url, "--api-key", API_TEST_KEY);
  EXPECT_RC(&r, 0); /* replaced */

  RUN_ENV(&r, no_env, "logout");
  EXPECT_RC(&r, 0);
  RUN_ENV(&r, no_env, "list");
  EXPECT_RC(&r, 1);
  assert_non_null(strstr(r.err, "multinode login"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_and_describe), cmocka_unit_test(test_start_get_wait),
      cmocka_unit_test(test_logs),              cmocka_unit_test(test_worker_verbs),
      cmocka_unit_test(test_login_logout),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
