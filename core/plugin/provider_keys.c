/* The walker over a provider's key table (provider_keys.h): one pass over
 * the section reports every problem (multinode/common/config_report.h), so
 * `--check-config` and a refused start list them all at once. */
#include "plugin/provider_keys.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "multinode/common/yaml_tree.h"
#include "multinode/common/closest.h"
#include "multinode/common/duration.h"

#define FIELD(out, off, type) ((type *)(void *)((char *)(out) + (off)))

/* The daemon's own keys of every section (plugin/host.c). */
static const char *const host_keys[] = {"plugin", "api_url"};

void mn_provider_keys_fmt_duration(int64_t s, char *buf, size_t size) {
  static const struct {
    int64_t unit;
    char name;
  } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  size_t used = 0;
  if (s <= 0) {
    snprintf(buf, size, "0");
    return;
  }
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof units / sizeof units[0] && used < size; i++) {
    if (s < units[i].unit)
      continue;
    int n = snprintf(buf + used, size - used, "%" PRId64 "%c", s / units[i].unit, units[i].name);
    used += n > 0 ? (size_t)n : 0;
    s %= units[i].unit;
  }
}

void mn_provider_keys_fmt_bytes(uint64_t b, char *buf, size_t size) {
  static const char *const names[] = {"", "KiB", "MiB", "GiB"};
  size_t u = 0;
  while (u + 1 < sizeof names / sizeof names[0] && b && b % 1024 == 0) {
    b /= 1024;
    u++;
  }
  snprintf(buf, size, "%" PRIu64 "%s", b, names[u]);
}

static bool bounded(const struct mn_config_key *k) { return k->min != 0 || k->max != 0; }

/* "between 1s and 1h" (or "at least 1s") for K's bounds. */
void mn_provider_keys_fmt_bounds(const struct mn_config_key *k, int words, char *buf,
                                 size_t size) {
  char lo[32], hi[32];
  if (k->type == MN_CONFIG_DURATION) {
    mn_provider_keys_fmt_duration(k->min, lo, sizeof lo);
    mn_provider_keys_fmt_duration(k->max, hi, sizeof hi);
  } else if (k->type == MN_CONFIG_BYTES) {
    mn_provider_keys_fmt_bytes((uint64_t)k->min, lo, sizeof lo);
    mn_provider_keys_fmt_bytes((uint64_t)k->max, hi, sizeof hi);
  } else {
    snprintf(lo, sizeof lo, "%" PRId64, k->min);
    snprintf(hi, sizeof hi, "%" PRId64, k->max);
  }
  if (k->max == INT64_MAX)
    snprintf(buf, size, "at least %s", lo);
  else
    snprintf(buf, size, words ? "between %s and %s" : "%s to %s", lo, hi);
}

static const char *expected(int type) {
  switch (type) {
  case MN_CONFIG_STRING: return "a string";
  case MN_CONFIG_BOOL: return "true or false";
  case MN_CONFIG_INT: return "an integer";
  case MN_CONFIG_DURATION: return "a duration such as 90s, 5m or 1h";
  case MN_CONFIG_BYTES: return "a size such as 67108864, 512KiB, 64MiB or 1GiB";
  case MN_CONFIG_ENUM: return "one of the values listed";
  case MN_CONFIG_STRINGS: return "a list of strings";
  }
  return "a value";
}

/* One scalar value TEXT of key K, at AT (PATH); stores into OUT. A problem
 * goes to REP. */
static void take_scalar(const struct mn_config_key *k, const char *text,
                        const struct mn_cfg_node *at, const char *path, void *out,
                        struct mn_cfg_report *rep) {
  char why[300] = "", range[96];
  int64_t v = 0;
  uint64_t bytes = 0;
  switch (k->type) {
  case MN_CONFIG_STRING:
    if ((k->flags & MN_CONFIG_NONEMPTY) && !text[0]) {
      mn_cfg_report_add(rep, at, path, "must not be empty");
      return;
    }
    break;
  case MN_CONFIG_BOOL: {
    struct mn_cfg_node tmp = {.kind = MN_CFG_SCALAR, .value = (char *)text,
                              .value_len = strlen(text)};
    int b;
    if (mn_cfg_scalar_bool(&tmp, &b)) {
      mn_cfg_report_add(rep, at, path, "expected true or false");
      return;
    }
    if (out)
      *FIELD(out, k->offset, int) = b;
    return;
  }
  case MN_CONFIG_INT: {
    struct mn_cfg_node tmp = {.kind = MN_CFG_SCALAR, .value = (char *)text,
                              .value_len = strlen(text)};
    long long ll;
    if (mn_cfg_scalar_int(&tmp, &ll)) {
      mn_cfg_report_add(rep, at, path, "expected an integer");
      return;
    }
    v = ll;
    break;
  }
  case MN_CONFIG_DURATION:
    if (mn_duration_parse(text, &v)) {
      mn_cfg_report_add(rep, at, path, "expected a duration such as 90s, 5m or 1h");
      return;
    }
    break;
  case MN_CONFIG_BYTES:
    if (mn_size_parse(text, &bytes)) {
      mn_cfg_report_add(rep, at, path, "expected %s", expected(k->type));
      return;
    }
    v = (int64_t)bytes;
    break;
  case MN_CONFIG_ENUM: {
    const char *match = NULL;
    char list[256] = "";
    for (const char *const *a = k->allowed; a && *a && !match; a++)
      if (strcmp(*a, text) == 0)
        match = *a;
    if (!match) {
      for (const char *const *a = k->allowed; a && *a; a++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *a);
      }
      mn_cfg_report_add(rep, at, path, "\"%s\" is not one of: %s", text, list);
      return;
    }
    text = match; /* the table's own string: valid as long as the plugin */
    break;
  }
  }
  if ((k->type == MN_CONFIG_INT || k->type == MN_CONFIG_DURATION ||
       k->type == MN_CONFIG_BYTES) &&
      bounded(k) && (v < k->min || v > k->max)) {
    mn_provider_keys_fmt_bounds(k, 1, range, sizeof range);
    mn_cfg_report_add(rep, at, path, "must be %s", range);
    return;
  }
  if ((k->type == MN_CONFIG_STRING || k->type == MN_CONFIG_ENUM) && k->check &&
      k->check(text, why, sizeof why)) {
    mn_cfg_report_add(rep, at, path, "\"%s\" %s", text, why[0] ? why : "is not valid");
    return;
  }
  if (!out)
    return;
  switch (k->type) {
  case MN_CONFIG_STRING:
  case MN_CONFIG_ENUM: *FIELD(out, k->offset, const char *) = text; break;
  case MN_CONFIG_INT:
  case MN_CONFIG_DURATION: *FIELD(out, k->offset, int64_t) = v; break;
  case MN_CONFIG_BYTES: *FIELD(out, k->offset, uint64_t) = bytes; break;
  }
}

static void take_list(const struct mn_config_key *k, const struct mn_cfg_node *n, void *out,
                      struct mn_cfg_report *rep) {
  char why[300];
  if (n->kind != MN_CFG_SEQUENCE || (n->n_items && !n->strings)) {
    mn_cfg_report_add(rep, n, NULL, "expected a list of strings");
    return;
  }
  if (bounded(k) && ((int64_t)n->n_items < k->min || (int64_t)n->n_items > k->max)) {
    if (k->min == k->max)
      mn_cfg_report_add(rep, n, NULL, "expected %" PRId64 " items", k->min);
    else if (k->min == 0)
      mn_cfg_report_add(rep, n, NULL, "expected at most %" PRId64 " items, not %zu", k->max,
                        n->n_items);
    else if (k->max == INT64_MAX)
      mn_cfg_report_add(rep, n, NULL, "expected at least %" PRId64 " items", k->min);
    else
      mn_cfg_report_add(rep, n, NULL, "expected %" PRId64 " to %" PRId64 " items, not %zu",
                        k->min, k->max, n->n_items);
    return;
  }
  int bad = 0;
  for (size_t i = 0; k->check && i < n->n_items; i++) {
    why[0] = '\0';
    if (k->check(n->strings[i], why, sizeof why)) {
      mn_cfg_report_add(rep, n->items[i], NULL, "\"%s\" %s", n->strings[i],
                        why[0] ? why : "is not valid");
      bad = 1;
    }
  }
  if (out && !bad) {
    *FIELD(out, k->offset, const char *const *) = (const char *const *)n->strings;
    *FIELD(out, k->count_offset, size_t) = n->n_items;
  }
}

static const struct mn_config_key *find_key(const struct mn_config_key *keys, const char *name) {
  for (const struct mn_config_key *k = keys; k->name; k++)
    if (strcmp(k->name, name) == 0)
      return k;
  return NULL;
}

static void unknown_key(const struct mn_config_key *keys, const struct mn_cfg_node *key,
                        struct mn_cfg_report *rep) {
  const char *names[128];
  size_t n = 0;
  for (size_t i = 0; i < sizeof host_keys / sizeof *host_keys; i++)
    names[n++] = host_keys[i];
  for (const struct mn_config_key *k = keys; k->name && n < sizeof names / sizeof *names; k++)
    names[n++] = k->name;
  const char *near = mn_closest_name(key->value, names, n);
  if (near)
    mn_cfg_report_add(rep, key, NULL, "unknown key (did you mean %s?)", near);
  else
    mn_cfg_report_add(rep, key, NULL, "unknown key");
}

void mn_provider_keys_walk(const struct mn_cfg_node *section, const struct mn_config_key *keys,
                           void *out, struct mn_cfg_report *rep) {
  char path[512];
  int mapping = section->kind == MN_CFG_MAPPING;
  for (size_t i = 0; mapping && i < section->n_pairs; i++) {
    const struct mn_cfg_node *key = section->pairs[i].key;
    int ours = 0;
    for (size_t j = 0; j < sizeof host_keys / sizeof *host_keys; j++)
      ours |= strcmp(key->value, host_keys[j]) == 0;
    if (!ours && !find_key(keys, key->value))
      unknown_key(keys, key, rep);
  }
  for (const struct mn_config_key *k = keys; k->name; k++) {
    const struct mn_cfg_node *n = mapping ? mn_cfg_node_get(section, k->name) : NULL;
    snprintf(path, sizeof path, "%s%s%s", section->path, section->path[0] ? "." : "", k->name);
    if (mn_cfg_node_is_null(n))
      n = NULL;
    if (!n) {
      if (k->flags & MN_CONFIG_REQUIRED)
        mn_cfg_report_add(rep, section, path, "missing");
      else if (k->def && k->type != MN_CONFIG_STRINGS && k->type != MN_CONFIG_ANY)
        take_scalar(k, k->def, section, path, out, rep);
      continue;
    }
    if (k->type == MN_CONFIG_ANY) {
      if (out)
        *FIELD(out, k->offset, const struct mn_cfg_node *) = n;
    } else if (k->type == MN_CONFIG_STRINGS) {
      take_list(k, n, out, rep);
    } else if (n->kind != MN_CFG_SCALAR) {
      mn_cfg_report_add(rep, n, NULL, "expected %s", expected(k->type));
    } else {
      take_scalar(k, n->value, n, n->path, out, rep);
    }
  }
}

int mn_host_config_load(const struct mn_cfg_node *config, const struct mn_config_key *keys,
                        void *out, struct mn_provider_error *err) {
  struct mn_cfg_report rep = {0};
  int rc = 0;
  if (!config || !keys)
    return 0;
  mn_provider_keys_walk(config, keys, out, &rep);
  if (rep.count || rep.oom) {
    rc = MN_PROVIDER_E_INVALID;
    if (err) {
      err->code = rc;
      if (rep.oom)
        snprintf(err->msg, sizeof err->msg, "out of memory while reading the configuration");
      else
        mn_cfg_report_format(&rep, err->msg, sizeof err->msg);
    }
  }
  mn_cfg_report_release(&rep);
  return rc;
}
