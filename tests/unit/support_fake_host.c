/* support_fake_host.c — see support_fake_host.h. */
#include "unit/support_fake_host.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "multinode/common/duration.h"

static struct mn_fake_host *fake_of(const struct mn_host *host) {
  return (struct mn_fake_host *)host;
}

static const char *level_name(int level) {
  switch (level) {
  case MN_HOST_LOG_ERROR: return "error";
  case MN_HOST_LOG_WARN: return "warn";
  case MN_HOST_LOG_INFO: return "info";
  default: return "debug";
  }
}

__attribute__((format(printf, 3, 4))) static void fake_log(const struct mn_host *host, int level,
                                                           const char *fmt, ...) {
  struct mn_fake_host *fh = fake_of(host);
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&fh->lock);
  if (fh->n_logs < MN_FAKE_LOG_MAX)
    snprintf(fh->logs[fh->n_logs++], sizeof fh->logs[0], "%s: %s", level_name(level), line);
  pthread_mutex_unlock(&fh->lock);
}

static int64_t fake_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

__attribute__((format(printf, 3, 4))) static int fake_error(struct mn_provider_error *err, int code,
                                                            const char *fmt, ...) {
  va_list ap;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

static const char *cfg_get(const struct mn_cfg_node *config, const char *key) {
  for (size_t i = 0; config && i < config->n; i++)
    if (strcmp(config->kv[i].key, key) == 0)
      return config->kv[i].value;
  return NULL;
}

static int missing(const char *key, int required, struct mn_provider_error *err) {
  if (required)
    return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:1:1: %s: required", key);
  return 0;
}

static int fake_config_has(const struct mn_cfg_node *config, const char *key) {
  return cfg_get(config, key) != NULL;
}

static int fake_config_string(const struct mn_cfg_node *config, const char *key, int required,
                              const char **out, struct mn_provider_error *err) {
  const char *v = cfg_get(config, key);
  if (!v)
    return missing(key, required, err);
  *out = v;
  return 0;
}

static int fake_config_int(const struct mn_cfg_node *config, const char *key, int required,
                           int64_t min, int64_t max, int64_t *out, struct mn_provider_error *err) {
  const char *v = cfg_get(config, key);
  char *end;
  if (!v)
    return missing(key, required, err);
  long long n = strtoll(v, &end, 10);
  if (!v[0] || *end || n < min || n > max)
    return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:1:1: %s: expected an integer", key);
  *out = n;
  return 0;
}

static int fake_config_bool(const struct mn_cfg_node *config, const char *key, int required,
                            int *out, struct mn_provider_error *err) {
  const char *v = cfg_get(config, key);
  if (!v)
    return missing(key, required, err);
  if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
    return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:1:1: %s: expected a boolean", key);
  *out = strcmp(v, "true") == 0;
  return 0;
}

static int fake_config_duration(const struct mn_cfg_node *config, const char *key, int required,
                                int64_t *seconds_out, struct mn_provider_error *err) {
  return fake_config_int(config, key, required, 0, INT64_MAX, seconds_out, err);
}

static int fake_config_strings(const struct mn_cfg_node *config, const char *key, int required,
                               const char *const **items_out, size_t *n_out,
                               struct mn_provider_error *err) {
  if (!cfg_get(config, key))
    return missing(key, required, err);
  return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:1:1: %s: sequences unsupported", key);
}

static int fake_config_check_keys(const struct mn_cfg_node *config, const char *const *known,
                                  size_t n_known, struct mn_provider_error *err) {
  char msg[MN_PROVIDER_ERROR_MSG_MAX] = "";
  size_t used = 0;
  for (size_t i = 0; config && i < config->n; i++) {
    int ok = strcmp(config->kv[i].key, "plugin") == 0;
    for (size_t k = 0; k < n_known && !ok; k++)
      ok = strcmp(config->kv[i].key, known[k]) == 0;
    if (!ok && used < sizeof msg) {
      int n = snprintf(msg + used, sizeof msg - used, "%sfake.yaml:%zu:3: %s: unknown key",
                       used ? "\n" : "", i + 1, config->kv[i].key);
      used += n > 0 ? (size_t)n : 0;
    }
  }
  if (msg[0])
    return fake_error(err, MN_PROVIDER_E_INVALID, "%s", msg);
  return 0;
}

__attribute__((format(printf, 4, 5))) static int fake_config_error(
    const struct mn_cfg_node *config, const char *key, struct mn_provider_error *err,
    const char *fmt, ...) {
  char problem[300];
  va_list ap;
  (void)config;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:1:1: %s: %s", key, problem);
}

/* config_load over the fake's key=value pairs: the types the local
 * provider's table uses (string, bool, integer, duration, size), with the
 * daemon's grammars; an unknown key or a bad value is an error. */
static int fake_config_load(const struct mn_cfg_node *config, const struct mn_config_key *keys,
                            void *out, struct mn_provider_error *err) {
  for (size_t i = 0; config && i < config->n; i++) {
    const struct mn_config_key *k = keys;
    while (k->name && strcmp(k->name, config->kv[i].key) != 0)
      k++;
    if (!k->name && strcmp(config->kv[i].key, "plugin") != 0)
      return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:%zu:3: %s: unknown key", i + 1,
                        config->kv[i].key);
  }
  for (const struct mn_config_key *k = keys; k->name; k++) {
    const char *v = cfg_get(config, k->name);
    char *field = (char *)out + k->offset, why[256] = "";
    int64_t n = 0;
    uint64_t bytes = 0;
    if (!v && (k->flags & MN_CONFIG_REQUIRED))
      return missing(k->name, 1, err);
    if (!v && !(v = k->def))
      continue;
    int bad = 0;
    switch (k->type) {
    case MN_CONFIG_STRING:
      bad = ((k->flags & MN_CONFIG_NONEMPTY) && !v[0]) || (k->check && k->check(v, why, sizeof why));
      if (!bad)
        memcpy(field, &v, sizeof v);
      break;
    case MN_CONFIG_BOOL: {
      int b = strcmp(v, "true") == 0;
      bad = !b && strcmp(v, "false") != 0;
      if (!bad)
        memcpy(field, &b, sizeof b);
      break;
    }
    case MN_CONFIG_INT:
    case MN_CONFIG_DURATION:
      bad = mn_duration_parse(v, &n) != 0 || (k->type == MN_CONFIG_INT && strspn(v, "0123456789") != strlen(v));
      if (!bad)
        memcpy(field, &n, sizeof n);
      break;
    case MN_CONFIG_BYTES:
      bad = mn_size_parse(v, &bytes) != 0;
      if (!bad)
        memcpy(field, &bytes, sizeof bytes);
      break;
    default:
      bad = 1;
    }
    if (bad)
      return fake_error(err, MN_PROVIDER_E_INVALID, "fake.yaml:1:1: %s: bad value \"%s\" %s",
                        k->name, v, why);
  }
  return 0;
}

void mn_fake_host_init(struct mn_fake_host *fh, const char *provider_name, const char *data_dir,
                       const char *cluster_id) {
  memset(fh, 0, sizeof *fh);
  snprintf(fh->provider_name, sizeof fh->provider_name, "%s", provider_name);
  snprintf(fh->data_dir, sizeof fh->data_dir, "%s", data_dir);
  snprintf(fh->cluster_id, sizeof fh->cluster_id, "%s", cluster_id);
  pthread_mutex_init(&fh->lock, NULL);
  fh->host = (struct mn_host){
      .abi_version = MN_PROVIDER_ABI_VERSION,
      .struct_size = sizeof(struct mn_host),
      .provider_name = fh->provider_name,
      .public_url = "http://127.0.0.1:5999",
      .api_key = "test-key",
      .data_dir = fh->data_dir,
      .cluster_id = fh->cluster_id,
      .log = fake_log,
      .now_us = fake_now_us,
      .error = fake_error,
      .config_has = fake_config_has,
      .config_string = fake_config_string,
      .config_int = fake_config_int,
      .config_bool = fake_config_bool,
      .config_duration = fake_config_duration,
      .config_strings = fake_config_strings,
      .config_check_keys = fake_config_check_keys,
      .config_error = fake_config_error,
      .config_load = fake_config_load,
  };
}

void mn_fake_host_release(struct mn_fake_host *fh) { pthread_mutex_destroy(&fh->lock); }

void mn_fake_host_set(struct mn_fake_host *fh, const char *key, const char *value) {
  size_t i = 0;
  while (i < fh->config.n && strcmp(fh->config.kv[i].key, key) != 0)
    i++;
  if (i == MN_FAKE_CFG_MAX)
    abort();
  snprintf(fh->config.kv[i].key, sizeof fh->config.kv[i].key, "%s", key);
  snprintf(fh->config.kv[i].value, sizeof fh->config.kv[i].value, "%s", value);
  if (i == fh->config.n)
    fh->config.n++;
}

size_t mn_fake_host_count_logs(struct mn_fake_host *fh, const char *needle) {
  size_t n = 0;
  pthread_mutex_lock(&fh->lock);
  for (size_t i = 0; i < fh->n_logs; i++)
    n += strstr(fh->logs[i], needle) != NULL;
  pthread_mutex_unlock(&fh->lock);
  return n;
}

const char *mn_fake_host_find_log(struct mn_fake_host *fh, const char *needle) {
  const char *found = NULL;
  pthread_mutex_lock(&fh->lock);
  for (size_t i = 0; i < fh->n_logs && !found; i++)
    if (strstr(fh->logs[i], needle))
      found = fh->logs[i];
  pthread_mutex_unlock(&fh->lock);
  return found;
}

const struct mn_provider *mn_fake_load_provider(const char *name, void **dl_out) {
  const char *dir = getenv("MN_PLUGIN_DIR");
  char path[4096];
  *dl_out = NULL;
  if (!dir) {
    fprintf(stderr, "MN_PLUGIN_DIR is not set (run the test through ctest)\n");
    return NULL;
  }
  snprintf(path, sizeof path, "%s/mn_provider_%s.so", dir, name);
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    return NULL;
  }
  mn_provider_entry_fn *entry = (mn_provider_entry_fn *)dlsym(dl, MN_PROVIDER_ENTRY_SYMBOL);
  if (!entry) {
    fprintf(stderr, "%s: no %s\n", path, MN_PROVIDER_ENTRY_SYMBOL);
    dlclose(dl);
    return NULL;
  }
  *dl_out = dl;
  return entry();
}
