/* mn-bench-dispatch: how fast the local provider gets a function's command
 * running, against what the machine can do at best.
 *
 *   1. dispatch latency: N sequential invocations of a function whose
 *      command prints the time it started (mn-bench-stamp); latency = that
 *      time minus the moment the POST returned. p50 and p99.
 *   2. throughput: M invocations of a no-op function (max_concurrency 100)
 *      posted from 4 threads; rate = M / (time until none is RUNNING).
 *   3. floors: the same command by a bare fork+exec (latency), and
 *      sequential fork+exec+wait of the no-op (rate).
 *
 * usage: mn-bench-dispatch URL KEY STAMP_PATH [N] [M] */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "multinode/client.h"

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void die(const char *what, const struct mn_client_error *e) {
  fprintf(stderr, "mn-bench-dispatch: %s: %s\n", what, e ? e->detail : "");
  exit(1);
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

static long long pct(long long *v, size_t n, double p) {
  qsort(v, n, sizeof *v, cmp_ll);
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i];
}

/* Forks and execs argv, returns the child's stdout as a number (or -1). */
static long long fork_exec_stamp(const char *path) {
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(path, path, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char buf[64] = {0};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  waitpid(pid, NULL, 0);
  return n > 0 ? atoll(buf) : -1;
}

struct poster {
  const char *url, *key, *project;
  int count;
  int failures;
};

static void *post_many(void *arg) {
  struct poster *p = arg;
  struct mn_client *c = mn_client_new(p->url, p->key);
  struct mn_client_function_ref fn = {p->project, "latest", "noop"};
  for (int i = 0; i < p->count; i++) {
    json_t *out = NULL;
    struct mn_client_error e;
    if (mn_client_invocation_start(c, &fn, "", NULL, &out, &e) != 0)
      p->failures++;
    json_decref(out);
  }
  mn_client_free(c);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: mn-bench-dispatch URL KEY STAMP_PATH [N] [M]\n");
    return 2;
  }
  const char *url = argv[1], *key = argv[2], *stamp = argv[3];
  int n = argc > 4 ? atoi(argv[4]) : 1000;
  int m = argc > 5 ? atoi(argv[5]) : 1000;
  struct mn_client *c = mn_client_new(url, key);
  struct mn_client_error e;
  char project[64];
  snprintf(project, sizeof project, "bench-%d", (int)getpid());
  json_t *out = NULL;
  if (mn_client_project_create(c, project, &out, &e) != 0)
    die("create project", &e);
  json_decref(out);
  const char *stamp_cmd[] = {stamp, NULL};
  const char *noop_cmd[] = {"true", NULL};
  /* The stamp function's slots: 4, as the peer's worker concurrency. With
   * 1 (MN_BENCH_STAMP_SLOTS=1, the old setting) each invocation also
   * waits for the previous one's worker to exit and be recorded, since the
   * benchmark goes on as soon as the result is in: a slot is taken until
   * the worker has ended (docs/compatibility.md, "Advancing RUNNING
   * invocations"). */
  const char *slots_env = getenv("MN_BENCH_STAMP_SLOTS");
  int stamp_slots = slots_env ? atoi(slots_env) : 0;
  if (stamp_slots <= 0)
    stamp_slots = 4;
  struct mn_client_function_spec fns[] = {
      {.function_name = "stamp", .virtual_cpus = 0.25, .memory_gbs = 0.5,
       .max_concurrency = stamp_slots, .max_retries = 0, .timeout_seconds = 60,
       .command = stamp_cmd},
      {.function_name = "noop", .virtual_cpus = 0.25, .memory_gbs = 0.5,
       .max_concurrency = 100, .max_retries = 0, .timeout_seconds = 600, .command = noop_cmd},
  };
  struct mn_client_version_definition def = {"none", fns, 2};
  if (mn_client_version_create(c, project, &def, &out, &e) != 0)
    die("create version", &e);
  json_decref(out);

  /* 1. dispatch latency */
  struct mn_client_function_ref fn = {project, "latest", "stamp"};
  long long *lat = calloc((size_t)n, sizeof *lat);
  /* MN_BENCH_POLL=1: learn of the end by a GET every millisecond instead
   * (the old loop), to compare */
  const char *poll_env = getenv("MN_BENCH_POLL");
  int poll_1ms = poll_env && strcmp(poll_env, "1") == 0;
  for (int i = 0; i < n; i++) {
    if (mn_client_invocation_start(c, &fn, "", NULL, &out, &e) != 0)
      die("start", &e);
    long long returned = now_us();
    char id[64];
    snprintf(id, sizeof id, "%s", mn_client_json_str(out, "invocation_id"));
    json_decref(out);
    long long started = -1;
    if (!poll_1ms) {
      /* as our clients wait: the server holds the GET until the end
       * (?wait_seconds, docs/events.md), so the benchmark adds no requests
       * of its own to the path it measures */
      struct mn_status_info st;
      if (mn_client_invocation_wait(c, &fn, id, 60000, NULL, NULL, &out, &st, &e) != 0)
        die("wait", &e);
      if (st.status != MN_STATUS_SUCCEEDED || !st.result)
        die("an invocation did not succeed", NULL);
      started = atoll(st.result);
      json_decref(out);
    } else {
      for (int tries = 0; started < 0 && tries < 20000; tries++) {
        if (mn_client_invocation_get(c, &fn, id, &out, &e) != 0)
          die("get", &e);
        struct mn_status_info st;
        if (mn_status_derive(out, &st, &e) == 0) {
          if (st.status == MN_STATUS_SUCCEEDED && st.result)
            started = atoll(st.result);
          else if (mn_status_finished(st.status))
            die("an invocation did not succeed", NULL);
        }
        json_decref(out);
        if (started < 0)
          usleep(1000);
      }
      if (started < 0)
        die("an invocation never finished", NULL);
    }
    lat[i] = started - returned;
  }
  long long p50 = pct(lat, (size_t)n, 0.50), p99 = pct(lat, (size_t)n, 0.99);

  long long *floor = calloc(200, sizeof *floor);
  for (int i = 0; i < 200; i++) {
    long long t0 = now_us();
    floor[i] = fork_exec_stamp(stamp) - t0;
  }
  long long f50 = pct(floor, 200, 0.50), f99 = pct(floor, 200, 0.99);

  /* 2. throughput */
  struct poster posters[4];
  pthread_t threads[4];
  long long t0 = now_us();
  for (int i = 0; i < 4; i++) {
    posters[i] = (struct poster){url, key, project, m / 4 + (i < m % 4), 0};
    pthread_create(&threads[i], NULL, post_many, &posters[i]);
  }
  int failures = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    failures += posters[i].failures;
  }
  long long posted = now_us();
  struct mn_client_function_ref noop = {project, "latest", "noop"};
  struct mn_client_list_options running = {.max_results = 1, .status = "RUNNING"};
  for (;;) {
    if (mn_client_invocations_list(c, &noop, &running, &out, &e) != 0)
      die("list", &e);
    size_t left = json_array_size(json_object_get(out, "invocations"));
    json_decref(out);
    if (left == 0)
      break;
    usleep(5000);
  }
  long long done = now_us();
  double rate = (double)(m - failures) / ((double)(done - t0) / 1e6);

  long long f0 = now_us();
  int forks = 0;
  while (now_us() - f0 < 1000000) {
    pid_t pid = fork();
    if (pid == 0) {
      execlp("true", "true", (char *)NULL);
      _exit(127);
    }
    waitpid(pid, NULL, 0);
    forks++;
  }
  double fork_rate = forks / ((double)(now_us() - f0) / 1e6);

  printf("dispatch latency (POST returned -> command started), %d sequential invocations:\n", n);
  printf("  p50 %.2f ms (target 10 ms, ratio %.2f), p99 %.2f ms (target 50 ms, ratio %.2f)\n",
         p50 / 1000.0, p50 / 10000.0, p99 / 1000.0, p99 / 50000.0);
  printf("  floor, bare fork+exec of the same command: p50 %.3f ms, p99 %.3f ms "
         "(dispatch/floor p50 %.1fx)\n",
         f50 / 1000.0, f99 / 1000.0, f50 > 0 ? (double)p50 / (double)f50 : 0.0);
  printf("throughput (POST -> TERMINATED), %d no-op invocations, max_concurrency 100:\n", m);
  printf("  %.0f invocations/s (target 300, ratio %.2f); all posted after %.2f s; %d POSTs failed\n",
         rate, rate / 300.0, (posted - t0) / 1e6, failures);
  printf("  floor, sequential fork+exec+wait of `true`: %.0f/s (ratio %.2f)\n", fork_rate,
         rate / fork_rate);
  free(lat);
  free(floor);
  mn_client_free(c);
  return 0;
}
