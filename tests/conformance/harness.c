/* harness.c — see conformance.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "conformance.h"
#include "plugin/launch_spec.h"
#include "multinode/common/ids.h"
#include "util/token.h"

struct cf_params cf;

int64_t cf_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cf_pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

void cf_open(struct cf_instance *in, const char *cluster) {
  struct mn_error err = {0};
  memset(in, 0, sizeof *in);
  snprintf(in->cluster, sizeof in->cluster, "%s", cluster);
  snprintf(in->data_dir, sizeof in->data_dir, "%s/%s", cf.work, cluster);
  if (mn_config_load(cf.config, &in->cfg, &err) != 0)
    CONTRACT(0, C_INIT, "%s: %s", cf.config, err.msg);
  struct mn_plugin_env env = {.public_url = "http://127.0.0.1:9",
                              .data_dir = in->data_dir,
                              .cluster_id = in->cluster};
  if (mn_plugins_load(&in->cfg, &env, &in->plugins, &err) != 0)
    CONTRACT(0, C_INIT, "loading the provider (cluster %s): %s", cluster, err.msg);
  in->h = mn_plugins_find(in->plugins, NULL);
  assert_non_null(in->h);
}

void cf_close(struct cf_instance *in) {
  mn_plugins_free(in->plugins);
  in->plugins = NULL;
  in->h = NULL;
  mn_config_release(&in->cfg);
}

void cf_function_init(struct cf_function *f, const char *name, const char *script,
                      const char *image) {
  struct mn_function *fn = &f->inv.function;
  memset(f, 0, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name);
  fn->project_name = "conformance";
  fn->version_id = "ver-0123456789abcdef0123456789abcdef";
  fn->function_name = f->name;
  fn->docker_image = (char *)image;
  fn->resource_spec.virtual_cpus = 0.25;
  fn->resource_spec.memory_gbs = 0.5;
  fn->execution_spec.timeout_seconds = 60;
  fn->command = script ? json_pack("[sss]", "sh", "-c", script) : NULL;
  fn->env = json_pack("{ss}", "CONFORMANCE_FUNCTION", name);
  f->inv.invocation_id = "inv-0123456789abcdef0123456789abcdef";
}

void cf_function_release(struct cf_function *f) {
  json_decref(f->inv.function.command);
  json_decref(f->inv.function.env);
  json_decref(f->inv.function.prepared_function_details);
  memset(f, 0, sizeof *f);
}

static void track(struct cf_instance *in, const char *id, const struct mn_worker_ref *ref) {
  for (size_t i = 0; i < in->n_workers; i++)
    if (strcmp(in->workers[i].execution_id, id) == 0)
      return;
  assert_true(in->n_workers < CF_MAX_WORKERS);
  snprintf(in->workers[in->n_workers].execution_id, sizeof in->workers[0].execution_id, "%s", id);
  in->workers[in->n_workers].ref = *ref;
  in->workers[in->n_workers++].released = false;
}

int cf_prepare(struct cf_instance *in, struct cf_function *f, struct mn_provider_error *err) {
  struct mn_function *fn = &f->inv.function;
  struct mn_function_desc_buf desc;
  struct mn_prepared prepared;
  struct mn_error e = {0};
  if (in->prepared_for == (const void *)f)
    return 0;
  assert_int_equal(mn_function_desc_build(&desc, in->h, fn, &e), 0);
  int rc = mn_provider_prepare(in->h, &desc.desc, &prepared, err);
  mn_function_desc_buf_release(&desc);
  if (rc)
    return rc;
  json_decref(fn->prepared_function_details);
  fn->prepared_function_details =
      prepared.details_json[0] ? json_loads(prepared.details_json, 0, NULL) : NULL;
  in->prepared_for = f;
  return 0;
}

int cf_launch(struct cf_instance *in, struct cf_function *f, const char *execution_id,
              struct mn_worker_ref *ref, struct mn_provider_error *err) {
  struct mn_error e = {0};
  int rc;
  if ((rc = cf_prepare(in, f, err)))
    return rc;
  struct mn_launch_buf buf;
  char key[MN_TOKEN_MAX];
  assert_int_equal(mn_token_new(key), 0);
  assert_int_equal(mn_launch_spec_build(&buf, in->h, &f->inv, execution_id, key, &e), 0);
  /* TRANSIENT may come at any time (the daemon retries): so here */
  int64_t deadline = cf_now_ms() + CF_WAIT_MS;
  while ((rc = mn_provider_launch(in->h, &buf.spec, ref, err)) == MN_PROVIDER_E_TRANSIENT &&
         cf_now_ms() < deadline)
    cf_pause_ms(50);
  mn_launch_buf_release(&buf);
  if (rc == 0)
    track(in, execution_id, ref);
  return rc;
}

void cf_launch_ok(struct cf_instance *in, struct cf_function *f, const char *execution_id,
                  struct mn_worker_ref *ref) {
  struct mn_provider_error err;
  int rc = cf_launch(in, f, execution_id, ref, &err);
  if (rc)
    CONTRACT(0, C_LAUNCH, "launch of %s (function %s) failed (%s): %s", execution_id, f->name,
             mn_provider_strerror(rc), err.msg);
}

int cf_release(struct cf_instance *in, const struct mn_worker_ref *ref,
               struct mn_provider_error *err) {
  int rc = mn_provider_release(in->h, ref, err);
  for (size_t i = 0; rc == 0 && i < in->n_workers; i++)
    if (strcmp(in->workers[i].ref.identifier, ref->identifier) == 0)
      in->workers[i].released = true;
  return rc;
}

struct mn_worker_state cf_inspect1(struct cf_instance *in, const struct mn_worker_ref *ref) {
  struct mn_worker_state st;
  struct mn_provider_error err;
  int64_t deadline = cf_now_ms() + CF_WAIT_MS;
  int rc;
  /* TRANSIENT is the provider's to return at any time: call again */
  while ((rc = mn_provider_inspect_many(in->h, ref, 1, &st, &err)) == MN_PROVIDER_E_TRANSIENT &&
         cf_now_ms() < deadline)
    cf_pause_ms(100);
  if (rc)
    CONTRACT(0, C_INSPECT, "inspect_many of %s failed (%s): %s", ref->identifier,
             mn_provider_strerror(rc),
             err.msg);
  return st;
}

static const char *phase_name(int phase) {
  static const char *const names[] = {"PENDING", "RUNNING", "EXITED", "MISSING"};
  return phase >= 0 && phase <= MN_WORKER_PHASE_MISSING ? names[phase] : "?";
}

struct mn_worker_state cf_wait_phase(struct cf_instance *in, const struct mn_worker_ref *ref,
                                     int phase) {
  int64_t deadline = cf_now_ms() + CF_WAIT_MS;
  struct mn_worker_state st;
  for (;;) {
    st = cf_inspect1(in, ref);
    if (st.phase == phase || (phase == MN_WORKER_PHASE_RUNNING &&
                              st.phase == MN_WORKER_PHASE_EXITED))
      return st;
    if (st.phase == MN_WORKER_PHASE_MISSING)
      CONTRACT(0, C_INSPECT, "worker %s is MISSING (%s) while waiting for %s", ref->identifier,
               st.reason,
               phase_name(phase));
    if (cf_now_ms() > deadline)
      CONTRACT(0, C_INSPECT, "worker %s still %s after %d ms (waiting for %s)", ref->identifier,
               phase_name(st.phase), CF_WAIT_MS, phase_name(phase));
    cf_pause_ms(50);
  }
}

struct mn_worker_state cf_wait_gone(struct cf_instance *in, const struct mn_worker_ref *ref,
                                    const char *contract) {
  int64_t deadline = cf_now_ms() + CF_WAIT_MS;
  struct mn_worker_state st;
  while ((st = cf_inspect1(in, ref)).phase != MN_WORKER_PHASE_EXITED &&
         st.phase != MN_WORKER_PHASE_MISSING) {
    CONTRACT(cf_now_ms() < deadline, contract,
             "worker \"%s\" still %s %d s after terminate", ref->identifier,
             phase_name(st.phase), CF_WAIT_MS / 1000);
    cf_pause_ms(50);
  }
  return st;
}

json_t *cf_log_all(struct cf_instance *in, const struct mn_worker_ref *ref, int max,
                   const char *contract) {
  json_t *all = json_array();
  char *offset = NULL;
  for (int page = 0; page < 1000; page++) {
    json_t *lines;
    char *next;
    struct mn_provider_error err;
    int rc = mn_provider_logs(in->h, ref, offset, max, &lines, &next, &err);
    CONTRACT(rc == 0, contract, "logs of %s at offset \"%s\" failed (%s): %s", ref->identifier,
             offset ? offset : "(start)", mn_provider_strerror(rc), err.msg);
    CONTRACT(json_array_size(lines) <= (size_t)max, contract,
             "logs returned %zu lines, more than max_lines %d", json_array_size(lines), max);
    json_array_extend(all, lines);
    size_t got = json_array_size(lines);
    json_decref(lines);
    free(offset);
    offset = next;
    /* "" (NULL here): no more lines for now */
    if (!offset || got == 0)
      break;
  }
  free(offset);
  return all;
}

size_t cf_count_lines(const json_t *lines, const char *needle) {
  size_t i, n = 0;
  json_t *v;
  json_array_foreach(lines, i, v) n += strstr(json_string_value(v), needle) != NULL;
  return n;
}

json_t *cf_wait_log(struct cf_instance *in, const struct mn_worker_ref *ref, const char *needle) {
  int64_t deadline = cf_now_ms() + CF_WAIT_MS;
  for (;;) {
    json_t *lines = cf_log_all(in, ref, 1000, C_LOGS);
    if (cf_count_lines(lines, needle) > 0)
      return lines;
    if (cf_now_ms() > deadline) {
      char *text = json_dumps(lines, 0);
      CONTRACT(0, C_LOGS, "the log of %s never showed \"%s\"; it holds %s", ref->identifier,
               needle, text);
    }
    json_decref(lines);
    cf_pause_ms(100);
  }
}

void cf_new_id(char out[64]) {
  char id[MN_ID_MAX];
  assert_int_equal(mn_id_new("exe-", id), 0);
  snprintf(out, 64, "%s", id);
}

/* Replaces every occurrence of FROM in S by TO (same length). */
static void swap_all(char *s, const char *from, const char *to) {
  size_t n = strlen(from);
  for (char *p = strstr(s, from); p; p = strstr(p + n, from))
    memcpy(p, to, n);
}

/* The last letter or digit of S becomes another of its kind. */
static void flip_last(char *s) {
  for (size_t i = strlen(s); i > 0; i--) {
    char c = s[i - 1];
    if ((c >= '0' && c <= '8') || (c >= 'a' && c <= 'e') || (c >= 'A' && c <= 'E')) {
      s[i - 1] = (char)(c + 1);
      return;
    }
    if (c == '9' || c == 'f' || c == 'F' || c == 'z' || c == 'Z') {
      s[i - 1] = (char)(c == '9' ? '0' : c - 1);
      return;
    }
    if ((c > 'f' && c < 'z') || (c > 'F' && c < 'Z')) {
      s[i - 1] = (char)(c + 1);
      return;
    }
  }
}

void cf_unknown_ref(const struct mn_worker_ref *ref, const char *execution_id,
                    struct mn_worker_ref *out) {
  char other[64];
  *out = *ref;
  if (strstr(ref->identifier, execution_id)) {
    cf_new_id(other);
    swap_all(out->identifier, execution_id, other);
    swap_all(out->logs_identifier, execution_id, other);
  } else {
    char old[MN_WORKER_ID_MAX];
    snprintf(old, sizeof old, "%s", out->identifier);
    flip_last(out->identifier);
    if (strcmp(out->logs_identifier, old) == 0)
      snprintf(out->logs_identifier, sizeof out->logs_identifier, "%s", out->identifier);
    else
      flip_last(out->logs_identifier);
  }
}

void cf_cleanup(struct cf_instance *in) {
  struct mn_provider_error err;
  if (!in->h)
    return;
  for (size_t i = 0; i < in->n_workers; i++) {
    if (in->workers[i].released)
      continue;
    mn_provider_terminate(in->h, &in->workers[i].ref, 0, &err);
  }
  for (size_t i = 0; i < in->n_workers; i++) {
    if (in->workers[i].released)
      continue;
    int64_t deadline = cf_now_ms() + CF_WAIT_MS;
    struct mn_worker_state st;
    while (mn_provider_inspect_many(in->h, &in->workers[i].ref, 1, &st, &err) != 0 ||
           st.phase == MN_WORKER_PHASE_RUNNING || st.phase == MN_WORKER_PHASE_PENDING) {
      if (cf_now_ms() > deadline)
        break;
      cf_pause_ms(50);
    }
    if (mn_provider_release(in->h, &in->workers[i].ref, &err) == 0)
      in->workers[i].released = true;
  }
}
