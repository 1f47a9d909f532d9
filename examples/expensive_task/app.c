/* expensive-task-app: an application using the deployed run_expensive_task
 * through the C client library (include/multinode/client.h).
 *
 *  1. starts run_expensive_task (count the primes below 100000), follows
 *     its status until it is finished and prints its result;
 *  2. starts a second, much bigger run, waits until it is RUNNING, cancels
 *     it and follows it until it is CANCELLED.
 *
 * Usage: expensive-task-app [PROJECT]   (default: expensive-task)
 * The API URL and key come from MULTINODE_API_URL and MULTINODE_API_KEY, or
 * from ~/.multinode/config.json (`multinode login`). Deploy the project
 * first: multinode deploy examples/expensive_task --project-name expensive-task
 *
 * Exit status 0 when the first run SUCCEEDED and the second was CANCELLED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <multinode/client.h>

#define SMALL_INPUT "100000"  /* about a second of work */
#define BIG_INPUT "200000000" /* hours of work: cancelled long before */
#define WAIT_MS 120000L

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Shows every status change mn_client_invocation_wait sees. */
static void show_change(void *ctx, const json_t *info, const struct mn_status_info *st) {
  char readable[128];
  mn_status_readable(st, readable, sizeof readable);
  printf("  %s: %s\n", (const char *)ctx, readable);
  fflush(stdout);
}

static int fail(const char *what, const struct mn_client_error *err) {
  fprintf(stderr, "expensive-task-app: %s: %s\n", what, err->detail);
  return 1;
}

/* Starts the function with input; *id receives a copy of the invocation id. */
static int start(struct mn_client *c, const struct mn_client_function_ref *fn, const char *input,
                 char **id) {
  struct mn_client_error err;
  json_t *info;
  if (mn_client_invocation_start(c, fn, input, NULL, &info, &err) < 0)
    return fail("cannot start run_expensive_task", &err);
  *id = strdup(mn_client_json_str(info, "invocation_id"));
  json_decref(info);
  printf("started run_expensive_task(%s): %s\n", input, *id);
  fflush(stdout);
  return *id ? 0 : 1;
}

/* Waits until the invocation is finished; prints its status, result, error.
 * Returns its status, or -1 when waiting failed. */
static int finish(struct mn_client *c, const struct mn_client_function_ref *fn, char *id) {
  struct mn_client_error err;
  struct mn_status_info st;
  json_t *info = NULL;
  int rc = mn_client_invocation_wait(c, fn, id, WAIT_MS, show_change, id, &info, &st, &err);
  if (rc < 0) {
    json_decref(info);
    fail("cannot wait for the invocation", &err);
    return -1;
  }
  printf("status: %s\n", mn_status_str(st.status));
  if (st.status == MN_STATUS_SUCCEEDED && st.result)
    printf("result: %s\n", st.result);
  if (st.error)
    printf("error: %s\n", st.error);
  fflush(stdout);
  rc = (int)st.status;
  json_decref(info);
  return rc;
}

/* Polls (mn_client_invocation_get + mn_status_derive) until RUNNING. */
static int until_running(struct mn_client *c, const struct mn_client_function_ref *fn,
                         const char *id) {
  struct mn_client_error err;
  struct mn_status_info st;
  for (long waited = 0; waited < WAIT_MS; waited += 100) {
    json_t *info;
    if (mn_client_invocation_get(c, fn, id, &info, &err) < 0)
      return fail("cannot get the invocation", &err);
    if (mn_status_derive(info, &st, &err) < 0) {
      json_decref(info);
      return fail("cannot read the invocation", &err);
    }
    if (st.status != MN_STATUS_PENDING) {
      printf("  %s: %s%s%s\n", id, mn_status_str(st.status), st.result ? ", progress: " : "",
             st.result ? st.result : "");
      fflush(stdout);
      json_decref(info);
      return st.status == MN_STATUS_RUNNING ? 0 : 1;
    }
    json_decref(info);
    sleep_ms(100);
  }
  fprintf(stderr, "expensive-task-app: %s did not start running\n", id);
  return 1;
}

int main(int argc, char **argv) {
  struct mn_client *c;
  struct mn_client_error err;
  const char *project = argc > 1 ? argv[1] : "expensive-task";
  struct mn_client_function_ref fn = {project, NULL, "run_expensive_task"};
  char *first = NULL, *second = NULL;
  int ok = 0;

  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    fprintf(stderr, "usage: expensive-task-app [PROJECT]\n");
    return 2;
  }
  if (mn_client_from_env(&c, &err) < 0)
    return fail("no client", &err);

  /* 1. a run to completion */
  if (start(c, &fn, SMALL_INPUT, &first) != 0 || finish(c, &fn, first) != MN_STATUS_SUCCEEDED)
    goto done;

  /* 2. a run cancelled while it works */
  if (start(c, &fn, BIG_INPUT, &second) != 0 || until_running(c, &fn, second) != 0)
    goto done;
  if (mn_client_invocation_cancel(c, &fn, second, NULL, &err) < 0) {
    fail("cannot cancel the invocation", &err);
    goto done;
  }
  printf("cancelling %s\n", second);
  ok = finish(c, &fn, second) == MN_STATUS_CANCELLED;
done:
  free(first);
  free(second);
  mn_client_free(c);
  return ok ? 0 : 1;
}
