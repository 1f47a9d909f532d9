/* The Docker provider's pure helpers: container names, the create body,
 * container states, the multiplexed log stream, log timestamps and the log
 * offsets with their paging (plugins/docker/{container_spec,container_state,
 * log_frames}.c, compiled in here). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/docker/container_spec.c"
#include "../../plugins/docker/container_state.c"
#include "../../plugins/docker/log_frames.c"

static void test_names(void **state) {
  char out[64];
  assert_int_equal(mn_docker_container_name("exe-0123abcd", out, sizeof out), 0);
  assert_string_equal(out, "multinode-exe-0123abcd");
  assert_string_equal(mn_docker_name_execution("/multinode-exe-0123abcd"), "exe-0123abcd");
  assert_string_equal(mn_docker_name_execution("multinode-exe-1"), "exe-1");
  assert_null(mn_docker_name_execution("/other"));
  assert_null(mn_docker_name_execution("/multinode-"));
  const char *bad[] = {"", "a/b", "a b", "a?x=1", "ü"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(mn_docker_container_name(bad[i], out, sizeof out), -1);
  char long_id[MN_DOCKER_ID_MAX + 2];
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  char big[512];
  assert_int_equal(mn_docker_container_name(long_id, big, sizeof big), -1);
  assert_int_equal(mn_docker_container_name("exe-toolongforthebuffer", out, 10), -1);
}

static void test_create_body(void **state) {
  const char *cmd[] = {"sh", "/w/fn.sh"};
  const struct mn_kv env[] = {{"A", "1"}, {"MULTINODE_API_URL", "http://127.0.0.1:5000"},
                              {"MULTINODE_EXECUTION_ID", "exe-1"}};
  const char *binds[] = {"/w:/w"};
  struct mn_launch_spec spec = {.project_name = "p", .version_id = "ver-1", .function_name = "f",
                                .invocation_id = "inv-1", .execution_id = "exe-1",
                                .image = "img:1", .command = cmd, .n_command = 2, .env = env,
                                .n_env = 3, .vcpus = 0.5, .memory_gb = 0.25};
  struct mn_docker_spec_opts opts = {.cluster_id = "c1", .network = "host", .binds = binds,
                                     .n_binds = 1};
  json_t *b = mn_docker_create_body(&spec, &opts);
  assert_non_null(b);
  json_t *want = json_pack(
      "{s:s, s:[s,s], s:[s,s,s], s:{s:s,s:s,s:s,s:s,s:s,s:s}, s:i, s:b, s:b,"
      " s:{s:I, s:I, s:I, s:s, s:[s], s:{s:s, s:{}}}}",
      "Image", "img:1", "Cmd", "sh", "/w/fn.sh", "Env", "A=1",
      "MULTINODE_API_URL=http://127.0.0.1:5000", "MULTINODE_EXECUTION_ID=exe-1", "Labels",
      "multinode.project", "p", "multinode.version_id", "ver-1", "multinode.function", "f",
      "multinode.invocation_id", "inv-1", "multinode.execution_id", "exe-1", "multinode.cluster",
      "c1", "StopTimeout", MN_DOCKER_STOP_TIMEOUT, "AttachStdin", 0, "Tty", 0, "HostConfig",
      "NanoCpus", (json_int_t)500000000, "Memory", (json_int_t)268435456, "MemorySwap",
      (json_int_t)268435456, "NetworkMode", "host", "Binds", "/w:/w", "LogConfig", "Type",
      "json-file", "Config");
  assert_non_null(want);
  if (!json_equal(b, want)) {
    char *got = json_dumps(b, JSON_SORT_KEYS);
    fprintf(stderr, "got %s\n", got);
    free(got);
    fail();
  }
  json_decref(want);
  json_decref(b);

  /* no command: the image's CMD */
  spec.n_command = 0;
  spec.command = NULL;
  opts.n_binds = 0;
  b = mn_docker_create_body(&spec, &opts);
  assert_null(json_object_get(b, "Cmd"));
  assert_null(json_object_get(json_object_get(b, "HostConfig"), "Binds"));
  json_decref(b);

  /* more vCPUs than the engine has: capped there (the engine refuses more) */
  spec.vcpus = 4;
  opts.max_vcpus = 2;
  b = mn_docker_create_body(&spec, &opts);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "HostConfig"), "NanoCpus")),
                   2000000000);
  json_decref(b);
  spec.vcpus = 1.5;
  b = mn_docker_create_body(&spec, &opts);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "HostConfig"), "NanoCpus")),
                   1500000000);
  json_decref(b);
}

static void state_case(const char *json, int phase, int code, const char *reason) {
  json_t *j = json_loads(json, 0, NULL);
  struct mn_worker_state st;
  assert_non_null(j);
  mn_docker_state_from_json(j, &st);
  assert_int_equal(st.phase, phase);
  assert_int_equal(st.exit_code, code);
  assert_string_equal(st.reason, reason);
  json_decref(j);
}

static void test_states(void **state) {
  state_case("{\"Status\":\"running\",\"ExitCode\":0}", MN_WORKER_PHASE_RUNNING, -1, "");
  state_case("{\"Status\":\"created\"}", MN_WORKER_PHASE_PENDING, -1, "");
  state_case("{\"Status\":\"exited\",\"ExitCode\":3,\"OOMKilled\":false,\"Error\":\"\"}",
             MN_WORKER_PHASE_EXITED, 3, "");
  state_case("{\"Status\":\"exited\",\"ExitCode\":137,\"OOMKilled\":true}",
             MN_WORKER_PHASE_EXITED, 137, MN_DOCKER_OOM_REASON);
  state_case("{\"Status\":\"exited\",\"ExitCode\":127,\"Error\":\"exec: \\\"x\\\": not found\"}",
             MN_WORKER_PHASE_EXITED, 127, "exec: \"x\": not found");
  state_case("{\"Status\":\"dead\",\"ExitCode\":1}", MN_WORKER_PHASE_EXITED, 1,
             "the container is dead");
  state_case("{\"Status\":\"weird\"}", MN_WORKER_PHASE_MISSING, -1,
             "unknown container state \"weird\"");
  assert_int_equal(mn_docker_phase_of("paused"), MN_WORKER_PHASE_RUNNING);
  assert_int_equal(mn_docker_phase_of(NULL), MN_WORKER_PHASE_MISSING);
}

/* ---- the log stream ---- */

struct frames {
  char text[1024];
  int n, stop_after;
};

static int collect(void *ctx, int stream, const char *payload, size_t len) {
  struct frames *f = ctx;
  size_t at = strlen(f->text);
  snprintf(f->text + at, sizeof f->text - at, "%d[%.*s]", stream, (int)len, payload);
  return ++f->n == f->stop_after;
}

static size_t frame(char *out, int stream, const char *payload) {
  size_t n = strlen(payload);
  out[0] = (char)stream;
  out[1] = out[2] = out[3] = 0;
  out[4] = (char)(n >> 24);
  out[5] = (char)(n >> 16);
  out[6] = (char)(n >> 8);
  out[7] = (char)n;
  memcpy(out + 8, payload, n);
  return n + 8;
}

static void test_demux(void **state) {
  char stream[256];
  size_t len = frame(stream, 1, "out\n");
  len += frame(stream + len, 2, "err\n");
  len += frame(stream + len, 1, "");
  len += frame(stream + len, 1, "last");
  /* fed whole, and byte by byte: the same frames */
  for (int pass = 0; pass < 2; pass++) {
    struct mn_docker_demux d;
    struct frames f = {.stop_after = -1};
    mn_docker_demux_init(&d);
    if (pass == 0)
      assert_int_equal(mn_docker_demux_feed(&d, stream, len, collect, &f), 0);
    else
      for (size_t i = 0; i < len; i++)
        assert_int_equal(mn_docker_demux_feed(&d, stream + i, 1, collect, &f), 0);
    assert_string_equal(f.text, "1[out\n]2[err\n]1[]1[last]");
    mn_docker_demux_release(&d);
  }
  /* the callback stops it */
  struct mn_docker_demux d;
  struct frames f = {.stop_after = 2};
  mn_docker_demux_init(&d);
  assert_int_equal(mn_docker_demux_feed(&d, stream, len, collect, &f), 1);
  assert_string_equal(f.text, "1[out\n]2[err\n]");
  mn_docker_demux_release(&d);
  /* a length beyond any frame we accept */
  const char huge[8] = {1, 0, 0, 0, 0x7f, 0, 0, 0};
  mn_docker_demux_init(&d);
  assert_int_equal(mn_docker_demux_feed(&d, huge, 8, collect, &f), -1);
  mn_docker_demux_release(&d);
}

static void test_timestamps(void **state) {
  static const struct {
    const char *line;
    int64_t ts;
    const char *text;
  } ok[] = {
      {"2024-05-01T12:00:00.123456789Z hello\n", 1714564800123456789, "hello"},
      {"1970-01-01T00:00:00Z x", 0, "x"},
      {"1970-01-01T00:00:01.5Z ", 1500000000, ""},
      {"2024-05-01T14:00:00.000000001+02:00 tz", 1714564800000000001, "tz"},
      {"2024-05-01T12:00:00.123456789Z  two spaces", 1714564800123456789, " two spaces"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t ts;
    const char *text;
    size_t n;
    assert_int_equal(mn_docker_log_line_parse(ok[i].line, strlen(ok[i].line), &ts, &text, &n), 0);
    assert_true(ts == ok[i].ts);
    assert_int_equal(n, strlen(ok[i].text));
    assert_memory_equal(text, ok[i].text, n);
  }
  const char *bad[] = {"", "hello world", "2024-05-01 12:00:00Z x", "2024-05-01T12:00:00 x",
                       "2024-05-01T12:00:0xZ x", "2024-05-01T12:00:00Zx"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t ts;
    const char *text;
    size_t n;
    assert_int_equal(mn_docker_log_line_parse(bad[i], strlen(bad[i]), &ts, &text, &n), -1);
  }
}

/* ---- offsets and paging ---- */

struct page {
  struct mn_log_page page;
  char lines[16][32];
  int n, cap;
};

static int add_line(struct mn_log_page *p, const char *line, size_t len) {
  struct page *pg = (struct page *)p;
  if (pg->n >= pg->cap)
    return 1;
  snprintf(pg->lines[pg->n++], sizeof pg->lines[0], "%.*s", (int)len, line);
  return 0;
}

/* A log whose lines 2 and 3, and 5, 6 and 7 share a nanosecond. */
static const struct {
  int64_t ts;
  const char *text;
} lines[] = {{100, "a"}, {200, "b"}, {200, "c"}, {300, "d"},
             {400, "e"}, {400, "f"}, {400, "g"}, {500, "h"}};
#define N_LINES ((int)(sizeof lines / sizeof lines[0]))

/* One page of at most max lines after offset; returns the next offset. */
static void read_page(const char *offset, int max, struct page *pg, char *next, size_t size) {
  struct mn_docker_log_pos start, after;
  struct mn_docker_log_cursor c;
  memset(pg, 0, sizeof *pg);
  pg->page.add_line = add_line;
  pg->cap = 16;
  assert_int_equal(mn_docker_log_pos_parse(offset, &start), 0);
  mn_docker_log_cursor_init(&c, &start, &pg->page, max);
  for (int i = 0; i < N_LINES; i++)
    if (lines[i].ts >= start.ts_ns && mn_docker_log_cursor_line(&c, lines[i].ts, lines[i].text,
                                                                strlen(lines[i].text)))
      break; /* the engine's since= is inclusive: it starts at start.ts_ns */
  mn_docker_log_cursor_next(&c, &after);
  mn_docker_log_pos_format(&after, next, size);
}

static void test_paging(void **state) {
  /* every page size gives every line once, in order */
  for (int max = 1; max <= N_LINES + 1; max++) {
    char offset[64] = "", next[64];
    char all[64] = "";
    for (int guard = 0; guard < 20; guard++) {
      struct page pg;
      read_page(offset, max, &pg, next, sizeof next);
      if (pg.n == 0) {
        assert_string_equal(next, offset[0] ? offset : "0:0");
        break;
      }
      for (int i = 0; i < pg.n; i++)
        strcat(all, pg.lines[i]);
      snprintf(offset, sizeof offset, "%s", next);
    }
    assert_string_equal(all, "abcdefgh");
  }
  struct page pg;
  char next[64];
  read_page("400:1", 2, &pg, next, sizeof next);
  assert_int_equal(pg.n, 2);
  assert_string_equal(pg.lines[0], "f");
  assert_string_equal(pg.lines[1], "g");
  assert_string_equal(next, "400:3");
  read_page(NULL, 3, &pg, next, sizeof next);
  assert_string_equal(next, "200:2");

  struct mn_docker_log_pos p;
  const char *bad[] = {"x", "1", ":1", "1:", "1:x", "-1:0", "1:2:3", "12345678901234567890:0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(mn_docker_log_pos_parse(bad[i], &p), -1);
  assert_int_equal(mn_docker_log_pos_parse("", &p), 0);
  assert_true(p.ts_ns == 0 && p.n == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),      cmocka_unit_test(test_create_body),
      cmocka_unit_test(test_states),     cmocka_unit_test(test_demux),
      cmocka_unit_test(test_timestamps), cmocka_unit_test(test_paging),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
