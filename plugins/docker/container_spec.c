/* container_spec.c — name, labels and create body of a worker container. */
#include "container_spec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mn_docker_container_name(const char *execution_id, char *out, size_t size) {
  size_t n = execution_id ? strlen(execution_id) : 0;
  if (n == 0 || n > MN_DOCKER_ID_MAX)
    return -1;
  for (size_t i = 0; i < n; i++) {
    char c = execution_id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '.' || c == '-'))
      return -1;
  }
  int w = snprintf(out, size, "%s%s", MN_DOCKER_NAME_PREFIX, execution_id);
  return w < 0 || (size_t)w >= size ? -1 : 0;
}

const char *mn_docker_name_execution(const char *name) {
  size_t p = strlen(MN_DOCKER_NAME_PREFIX);
  if (!name)
    return NULL;
  if (name[0] == '/')
    name++;
  if (strncmp(name, MN_DOCKER_NAME_PREFIX, p) != 0 || name[p] == '\0')
    return NULL;
  return name + p;
}

static int add_str(json_t *o, const char *key, const char *value) {
  return json_object_set_new(o, key, json_string(value ? value : ""));
}

static json_t *labels(const struct mn_launch_spec *spec, const char *cluster_id) {
  json_t *l = json_object();
  if (!l || add_str(l, MN_DOCKER_LABEL_PROJECT, spec->project_name) ||
      add_str(l, MN_DOCKER_LABEL_VERSION, spec->version_id) ||
      add_str(l, MN_DOCKER_LABEL_FUNCTION, spec->function_name) ||
      add_str(l, MN_DOCKER_LABEL_INVOCATION, spec->invocation_id) ||
      add_str(l, MN_DOCKER_LABEL_EXECUTION, spec->execution_id) ||
      add_str(l, MN_DOCKER_LABEL_CLUSTER, cluster_id)) {
    json_decref(l);
    return NULL;
  }
  return l;
}

/* KEY=VALUE for every variable, as the daemon built them. */
static json_t *environment(const struct mn_launch_spec *spec) {
  json_t *env = json_array();
  for (size_t i = 0; env && i < spec->n_env; i++) {
    const char *key = spec->env[i].key, *value = spec->env[i].value;
    size_t len = strlen(key) + strlen(value ? value : "") + 2;
    char *kv = malloc(len);
    if (!kv) {
      json_decref(env);
      return NULL;
    }
    snprintf(kv, len, "%s=%s", key, value ? value : "");
    int bad = json_array_append_new(env, json_string(kv));
    free(kv);
    if (bad) {
      json_decref(env);
      return NULL;
    }
  }
  return env;
}

static json_t *strings(const char *const *items, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    if (json_array_append_new(a, json_string(items[i] ? items[i] : ""))) {
      json_decref(a);
      return NULL;
    }
  return a;
}

/* nearest integer of a non-negative amount (0 for anything else) */
static int64_t round_amount(double x) { return x > 0 && x < 9e18 ? (int64_t)(x + 0.5) : 0; }

json_t *mn_docker_create_body(const struct mn_launch_spec *spec,
                              const struct mn_docker_spec_opts *opts) {
  json_t *body = json_object(), *hc = json_object();
  int64_t memory = round_amount(spec->memory_gb * 1024.0 * 1024.0 * 1024.0);
  double vcpus = opts->max_vcpus > 0 && spec->vcpus > opts->max_vcpus ? opts->max_vcpus
                                                                      : spec->vcpus;
  int64_t nano_cpus = round_amount(vcpus * 1e9);
  int bad = !body || !hc;

  bad = bad || add_str(body, "Image", spec->image);
  if (!bad && spec->n_command > 0)
    bad = json_object_set_new(body, "Cmd", strings(spec->command, spec->n_command));
  bad = bad || json_object_set_new(body, "Env", environment(spec));
  bad = bad || json_object_set_new(body, "Labels", labels(spec, opts->cluster_id));
  bad = bad || json_object_set_new(body, "StopTimeout", json_integer(MN_DOCKER_STOP_TIMEOUT));
  bad = bad || json_object_set_new(body, "AttachStdin", json_false());
  bad = bad || json_object_set_new(body, "Tty", json_false());

  if (nano_cpus > 0)
    bad = bad || json_object_set_new(hc, "NanoCpus", json_integer(nano_cpus));
  if (memory > 0) {
    bad = bad || json_object_set_new(hc, "Memory", json_integer(memory));
    bad = bad || json_object_set_new(hc, "MemorySwap", json_integer(memory)); /* no swap */
  }
  bad = bad || add_str(hc, "NetworkMode", opts->network);
  if (opts->n_binds > 0)
    bad = bad || json_object_set_new(hc, "Binds", strings(opts->binds, opts->n_binds));
  /* json-file keeps the log readable (with timestamps) until release */
  json_t *log_config = bad ? NULL : json_pack("{s:s, s:{}}", "Type", "json-file", "Config");
  bad = bad || json_object_set_new(hc, "LogConfig", log_config);
  if (!bad) {
    bad = json_object_set_new(body, "HostConfig", hc);
    hc = NULL;
  }
  json_decref(hc);
  if (bad) {
    json_decref(body);
    return NULL;
  }
  return body;
}
