/* The project manifest (manifest.h), read into the common YAML tree
 * (multinode/common/yaml_tree.h): every node keeps its position, so each
 * problem names FILE:LINE:COL and the key path. Checking goes on after a
 * problem, so one run reports them all; what the tree refuses (a syntax
 * error, a duplicate key, a second document) is one problem alone. */
#include "manifest.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "multinode/common/config_report.h"
#include "multinode/common/duration.h"
#include "multinode/common/limits.h"
#include "multinode/common/utf8.h"
#include "multinode/common/yaml_tree.h"

/* the original client's defaults (docs/compatibility.md §6.2) */
#define DEFAULT_CPU 0.1
#define DEFAULT_MEMORY_GBS 0.25
#define DEFAULT_RETRIES 0
#define DEFAULT_CONCURRENCY 10
#define DEFAULT_TIMEOUT 3600

#define PROJECT_DIR_VAR "${PROJECT_DIR}"

struct loader {
  struct mn_manifest *m;
  struct mn_cfg_report problems;
};

/* ------------------------------------------------------------- strings */

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  char *s = n < 0 ? NULL : malloc((size_t)n + 1);
  if (s)
    vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

__attribute__((format(printf, 1, 2))) static char *format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

/* Characters (code points) of UTF-8 text, as the server counts them. */
static size_t utf8_length(const char *s) { return mn_utf8_length(s, strlen(s)); }

/* text with every ${PROJECT_DIR} replaced by dir (a new string). */
static char *substitute(const char *text, const char *dir) {
  size_t var_len = strlen(PROJECT_DIR_VAR), dir_len = strlen(dir), n = 0;
  for (const char *p = text; (p = strstr(p, PROJECT_DIR_VAR)) != NULL; p += var_len)
    n++;
  char *out = malloc(strlen(text) + n * dir_len + 1), *o = out;
  if (!out)
    return NULL;
  for (const char *p = text;;) {
    const char *hit = strstr(p, PROJECT_DIR_VAR);
    size_t len = hit ? (size_t)(hit - p) : strlen(p);
    memcpy(o, p, len);
    o += len;
    if (!hit)
      break;
    memcpy(o, dir, dir_len);
    o += dir_len;
    p = hit + var_len;
  }
  *o = '\0';
  return out;
}

/* ------------------------------------------------------------ problems */

/* "FILE:LINE:COL: PATH: message" at a node (PATH may be ""). */
__attribute__((format(printf, 4, 5))) static void problem(struct loader *L,
                                                          const struct mn_cfg_node *at,
                                                          const char *path, const char *fmt,
                                                          ...) {
  size_t line = at ? (size_t)at->line : 1, col = at ? (size_t)at->col : 1;
  va_list ap;
  va_start(ap, fmt);
  char *msg = vformat(fmt, ap);
  va_end(ap);
  char *text = msg ? format("%s:%zu:%zu: %s%s%s", L->m->file, line, col, path,
                            *path ? ": " : "", msg)
                   : NULL;
  if (text)
    mn_cfg_report_add_at(&L->problems, (int)line, (int)col, text);
  else
    L->problems.oom = 1;
  free(text);
  free(msg);
}

/* A problem without a position (text is freed). */
static void plain_problem(struct loader *L, char *text) {
  if (text)
    mn_cfg_report_add_line(&L->problems, text);
  else
    L->problems.oom = 1;
  free(text);
}

/* Moves the problems, in file order, into m->errors; 1 when memory ran out. */
static int finish_problems(struct loader *L) {
  struct mn_manifest *m = L->m;
  int oom = L->problems.oom;
  m->errors = mn_cfg_report_take(&L->problems, &m->n_errors);
  mn_cfg_report_release(&L->problems);
  if (m->errors && oom)
    m->errors[m->n_errors++] = format("%s: out of memory while reading it", m->file);
  return oom;
}

/* --------------------------------------------------------------- nodes */

typedef struct mn_cfg_node node_t;

static const char *kind(const node_t *n) {
  if (n->kind == MN_CFG_MAPPING)
    return "a mapping";
  if (n->kind == MN_CFG_SEQUENCE)
    return "a list";
  return mn_cfg_node_is_null(n) ? "nothing" : "text";
}

/* A scalar value for a setting, or NULL after reporting why not. key is
 * the key node (the position), want what the setting takes. */
static const char *scalar_value(struct loader *L, const node_t *key, const node_t *v,
                                const char *path, const char *want) {
  if (v->kind == MN_CFG_SCALAR && !mn_cfg_node_is_null(v)) {
    if (strlen(v->value) != v->value_len) {
      problem(L, key, path, "NUL characters are not allowed");
      return NULL;
    }
    return v->value;
  }
  problem(L, key, path, "expected %s, not %s", want, kind(v));
  return NULL;
}

/* Calls fn for each (key, value) of a mapping (the tree has refused
 * duplicate and non-scalar keys already). */
typedef void pair_fn(struct loader *L, void *ctx, const char *path, const node_t *key,
                     const node_t *value);

static void each_pair(struct loader *L, const node_t *map, pair_fn *fn, void *ctx) {
  for (size_t i = 0; i < map->n_pairs; i++)
    fn(L, ctx, map->pairs[i].value->path, map->pairs[i].key, map->pairs[i].value);
}

/* ------------------------------------------------------- value parsers */

/* A decimal number ("4", "0.5", "1e3", "-2"): 0, or -1 when not one. */
static int parse_number(const char *s, size_t len, double *out) {
  char buf[64], *end;
  if (len == 0 || len >= sizeof buf || strspn(s, "0123456789.eE+-") < len)
    return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  errno = 0;
  *out = strtod(buf, &end);
  return *end || errno || !isfinite(*out) ? -1 : 0;
}

/* "1", "+3": whole numbers only. */
static int parse_int(const char *s, long long *out) {
  char *end;
  const char *digits = s + (*s == '+' || *s == '-');
  if (!*digits || strspn(digits, "0123456789") != strlen(digits))
    return -1;
  errno = 0;
  *out = strtoll(s, &end, 10);
  return *end || errno ? -1 : 0;
}

/* --------------------------------------------------------- a function */

struct function_ctx {
  struct mn_client_function_spec *spec;
  int has_command;
};

static char *own(struct loader *L, char *s) {
  if (!s)
    L->problems.oom = 1;
  return s;
}

static void set_command(struct loader *L, struct mn_client_function_spec *spec, const char *path,
                        const node_t *key, const node_t *v) {
  const char *dir = L->m->project_dir;
  char **argv;
  if (v->kind == MN_CFG_SCALAR) {
    const char *text = scalar_value(L, key, v, path, "a list of arguments or a shell command");
    if (!text)
      return;
    if (!*text) {
      problem(L, key, path, "the command is empty");
      return;
    }
    if (!(argv = calloc(4, sizeof *argv)))
      goto nomem;
    argv[0] = own(L, strdup("sh"));
    argv[1] = own(L, strdup("-c"));
    argv[2] = own(L, substitute(text, dir));
    spec->command = (const char *const *)argv;
    return;
  }
  if (v->kind != MN_CFG_SEQUENCE) {
    problem(L, key, path, "expected a list of arguments or a shell command, not %s", kind(v));
    return;
  }
  size_t n = v->n_items;
  if (n == 0) {
    problem(L, key, path, "the command is empty");
    return;
  }
  if (!(argv = calloc(n + 1, sizeof *argv)))
    goto nomem;
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const node_t *item = v->items[i];
    const char *text = scalar_value(L, item, item, item->path, "an argument");
    if (text)
      argv[i] = own(L, substitute(text, dir));
    else
      bad = 1;
  }
  if (bad) {
    for (size_t i = 0; i < n; i++)
      free(argv[i]);
    free(argv);
    return;
  }
  spec->command = (const char *const *)argv;
  return;
nomem:
  L->problems.oom = 1;
}

static void env_pair(struct loader *L, void *ctx, const char *path, const node_t *key,
                     const node_t *value) {
  char **env = ctx;
  const char *name = key->value;
  size_t n = 0;
  while (env[n])
    n++;
  if (!*name || strchr(name, '=') || strlen(name) != key->value_len) {
    problem(L, key, path, "a variable name must be non-empty, without '=' or NUL characters");
    return;
  }
  if (strncmp(name, "MULTINODE_", 10) == 0) {
    problem(L, key, path, "MULTINODE_* variables are set by the worker and cannot be given");
    return;
  }
  const char *text = scalar_value(L, key, value, path, "text (quote it if unsure)");
  if (!text)
    return;
  char *sub = substitute(text, L->m->project_dir);
  env[n] = own(L, sub ? format("%s=%s", name, sub) : NULL);
  free(sub);
}

static void set_env(struct loader *L, struct mn_client_function_spec *spec, const char *path,
                    const node_t *key, const node_t *v) {
  if (v->kind != MN_CFG_MAPPING) {
    problem(L, key, path, "expected a mapping of variable names to values, not %s", kind(v));
    return;
  }
  char **env = calloc(v->n_pairs + 1, sizeof *env);
  if (!env) {
    L->problems.oom = 1;
    return;
  }
  each_pair(L, v, env_pair, env);
  spec->env = (const char *const *)env;
}

/* The task-semantics keys of a function (docs/compatibility.md, "Task
 * semantics"): durations for the delays and timeouts, numbers for the rest.
 * Returns 1 when `name` is one of them (problems are recorded), else 0. */
static int task_semantics(struct loader *L, struct mn_client_function_spec *spec,
                          const char *path, const node_t *key, const node_t *v,
                          const char *name) {
  static const struct {
    const char *name;
    int duration;  /* a duration, else a number */
    double lo, hi; /* bounds of the value (seconds for durations) */
    int whole;     /* rounded up to whole seconds / must be whole */
  } keys[] = {
      {"retry_delay", 1, 0, MN_RETRY_DELAY_LIMIT, 0},
      {"retry_max_delay", 1, 0, MN_RETRY_DELAY_LIMIT, 0},
      {"attempt_timeout", 1, 1, MN_TIMEOUT_SECONDS_LIMIT, 1},
      {"queue_timeout", 1, 1, MN_TIMEOUT_SECONDS_LIMIT, 1},
      {"heartbeat_timeout", 1, 1, MN_TIMEOUT_SECONDS_LIMIT, 1},
      {"retry_backoff_factor", 0, 1, MN_BACKOFF_FACTOR_LIMIT, 0},
      {"max_concurrency_per_key", 0, 1, MN_MAX_CONCURRENCY_LIMIT, 1}};
  size_t k = 0;
  while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k].name, name) != 0)
    k++;
  if (k == sizeof keys / sizeof keys[0])
    return 0;
  const char *want = keys[k].duration ? "a duration such as 90s, 5m or 1h" : "a number";
  const char *text = scalar_value(L, key, v, path, want);
  double d;
  if (!text)
    return 1;
  if ((keys[k].duration ? mn_duration_parse_seconds(text, &d)
                       : parse_number(text, strlen(text), &d)) != 0) {
    problem(L, key, path, "expected %s", want);
    return 1;
  }
  if (keys[k].duration && keys[k].whole)
    d = ceil(d);
  if (d < keys[k].lo || d > keys[k].hi || (!keys[k].duration && keys[k].whole && d != floor(d))) {
    problem(L, key, path, "%s is out of range: want %s%g to %g%s", text,
            keys[k].whole && !keys[k].duration ? "a whole number from " : "", keys[k].lo,
            keys[k].hi, keys[k].duration ? " seconds" : "");
    return 1;
  }
  if (strcmp(name, "retry_delay") == 0)
    spec->retry_delay_seconds = d;
  else if (strcmp(name, "retry_max_delay") == 0)
    spec->retry_max_delay_seconds = d;
  else if (strcmp(name, "attempt_timeout") == 0)
    spec->attempt_timeout_seconds = (int)d;
  else if (strcmp(name, "queue_timeout") == 0)
    spec->queue_timeout_seconds = (int)d;
  else if (strcmp(name, "heartbeat_timeout") == 0)
    spec->heartbeat_timeout_seconds = (int)d;
  else if (strcmp(name, "retry_backoff_factor") == 0)
    spec->retry_backoff_factor = d;
  else
    spec->max_concurrency_per_key = (int)d;
  return 1;
}

static void function_pair(struct loader *L, void *ctx, const char *path, const node_t *key,
                          const node_t *v) {
  struct function_ctx *f = ctx;
  struct mn_client_function_spec *spec = f->spec;
  const char *name = key->value, *text;
  double d;
  long long i;

  if (strcmp(name, "command") == 0) {
    f->has_command = 1;
    set_command(L, spec, path, key, v);
  } else if (strcmp(name, "env") == 0) {
    set_env(L, spec, path, key, v);
  } else if (strcmp(name, "provider") == 0) {
    if ((text = scalar_value(L, key, v, path, "a provider name such as local")))
      spec->provider = own(L, strdup(text));
  } else if (strcmp(name, "image") == 0) {
    if ((text = scalar_value(L, key, v, path, "an image name")) != NULL) {
      if (utf8_length(text) >= MN_DOCKER_IMAGE_LENGTH_LIMIT)
        problem(L, key, path, "the image name is too long: at most %d characters",
                MN_DOCKER_IMAGE_LENGTH_LIMIT - 1);
      else
        spec->docker_image_override = own(L, strdup(text));
    }
  } else if (strcmp(name, "cpu") == 0) {
    if (!(text = scalar_value(L, key, v, path, "a number of vCPUs such as 0.5 or 4")))
      return;
    if (parse_number(text, strlen(text), &d) < 0)
      problem(L, key, path, "expected a number of vCPUs such as 0.5 or 4");
    else if (!(d > 0) || d > MN_VIRTUAL_CPUS_LIMIT)
      problem(L, key, path, "%s is out of range: want more than 0 and at most %g", text,
              MN_VIRTUAL_CPUS_LIMIT);
    else
      spec->virtual_cpus = d;
  } else if (strcmp(name, "memory") == 0) {
    if (!(text = scalar_value(L, key, v, path, "a size such as 512 MiB or 16 GiB")))
      return;
    if (mn_memory_parse_gb(text, &d) != 0)
      problem(L, key, path, "expected a size such as 512 MiB or 16 GiB");
    else if (!(d > 0) || d > MN_MEMORY_GBS_LIMIT)
      problem(L, key, path, "%s is out of range: want more than 0 and at most %g GiB", text,
              MN_MEMORY_GBS_LIMIT);
    else
      spec->memory_gbs = d;
  } else if (strcmp(name, "timeout") == 0) {
    if (!(text = scalar_value(L, key, v, path, "a duration such as 90s, 5m or 1h")))
      return;
    if (mn_duration_parse_seconds(text, &d) != 0)
      problem(L, key, path, "expected a duration such as 90s, 5m or 1h");
    else if ((d = ceil(d)) < 1 || d > MN_TIMEOUT_SECONDS_LIMIT)
      problem(L, key, path, "%s is out of range: want 1s to 24h (%d seconds)", text,
              MN_TIMEOUT_SECONDS_LIMIT);
    else
      spec->timeout_seconds = (int)d;
  } else if (task_semantics(L, spec, path, key, v, name)) {
    /* retry_delay, retry_backoff_factor, retry_max_delay, attempt_timeout,
     * queue_timeout, heartbeat_timeout, max_concurrency_per_key */
  } else if (strcmp(name, "max_retries") == 0 || strcmp(name, "max_concurrency") == 0) {
    int retries = strcmp(name, "max_retries") == 0;
    long long lo = retries ? 0 : 1, hi = retries ? MN_MAX_RETRIES_LIMIT : MN_MAX_CONCURRENCY_LIMIT;
    if (!(text = scalar_value(L, key, v, path, "a whole number")))
      return;
    if (parse_int(text, &i) < 0)
      problem(L, key, path, "expected a whole number from %lld to %lld", lo, hi);
    else if (i < lo || i > hi)
      problem(L, key, path, "%s is out of range: want %lld to %lld", text, lo, hi);
    else if (retries)
      spec->max_retries = (int)i;
    else
      spec->max_concurrency = (int)i;
  } else {
    problem(L, key, path,
            "unknown key (a function takes command, provider, image, cpu, memory, "
            "max_retries, max_concurrency, timeout, env, max_concurrency_per_key, "
            "retry_delay, retry_backoff_factor, retry_max_delay, attempt_timeout, "
            "queue_timeout and heartbeat_timeout)");
  }
}

static void functions_pair(struct loader *L, void *ctx, const char *path, const node_t *key,
                           const node_t *v) {
  struct mn_manifest *m = L->m;
  const char *name = key->value;
  struct function_ctx f = {&m->functions[m->n_functions], 0};

  *f.spec = (struct mn_client_function_spec){.virtual_cpus = DEFAULT_CPU,
                                             .memory_gbs = DEFAULT_MEMORY_GBS,
                                             .max_concurrency = DEFAULT_CONCURRENCY,
                                             .max_retries = DEFAULT_RETRIES,
                                             .timeout_seconds = DEFAULT_TIMEOUT};
  m->n_functions++;
  if (!*name)
    problem(L, key, path, "a function needs a name");
  else if (strlen(name) != key->value_len)
    problem(L, key, path, "a function name cannot hold NUL characters");
  else if (utf8_length(name) >= MN_FUNCTION_NAME_LENGTH_LIMIT)
    problem(L, key, path, "the function name is too long: at most %d characters",
            MN_FUNCTION_NAME_LENGTH_LIMIT - 1);
  else
    f.spec->function_name = own(L, strdup(name));
  if (v->kind != MN_CFG_MAPPING) {
    problem(L, key, path, "expected the function's settings (at least a command), not %s",
            kind(v));
    return;
  }
  each_pair(L, v, function_pair, &f);
  if (!f.has_command)
    problem(L, key, path, "the command is missing (what the function runs)");
}

/* ----------------------------------------------------------- top level */

struct top_ctx {
  int has_functions;
};

static void top_pair(struct loader *L, void *ctx, const char *path, const node_t *key,
                     const node_t *v) {
  struct top_ctx *top = ctx;
  struct mn_manifest *m = L->m;
  const char *name = key->value, *text;

  if (strcmp(name, "image") == 0) {
    if (!(text = scalar_value(L, key, v, path, "an image name")))
      return;
    if (utf8_length(text) >= MN_DOCKER_IMAGE_LENGTH_LIMIT) {
      problem(L, key, path, "the image name is too long: at most %d characters",
              MN_DOCKER_IMAGE_LENGTH_LIMIT - 1);
      return;
    }
    free(m->image);
    m->image = own(L, strdup(text));
  } else if (strcmp(name, "functions") == 0) {
    top->has_functions = 1;
    if (v->kind != MN_CFG_MAPPING) {
      problem(L, key, path, "expected a mapping of function names to their settings, not %s",
              kind(v));
      return;
    }
    size_t n = v->n_pairs;
    if (n == 0) {
      problem(L, key, path, "no functions: a project needs at least one");
      return;
    }
    if (!(m->functions = calloc(n, sizeof *m->functions))) {
      L->problems.oom = 1;
      return;
    }
    each_pair(L, v, functions_pair, NULL);
  } else {
    problem(L, key, path, "unknown key (the manifest takes image and functions)");
  }
}

static void check_document(struct loader *L, const node_t *root) {
  struct top_ctx top = {0};
  if (root->kind == MN_CFG_MAPPING && root->n_pairs == 0) {
    problem(L, NULL, "", "the manifest is empty: it needs at least `functions:`");
    return;
  }
  if (root->kind != MN_CFG_MAPPING) {
    problem(L, root, "", "expected a mapping with the keys image and functions, not %s",
            kind(root));
    return;
  }
  each_pair(L, root, top_pair, &top);
  if (!top.has_functions)
    problem(L, root, "functions", "missing: the manifest lists its functions under `functions:`");
}

/* -------------------------------------------------------------- public */

int mn_manifest_load(const char *dir, struct mn_manifest *m) {
  struct loader L = {.m = m};
  struct stat st;
  size_t len = strlen(dir);
  struct mn_cfg_tree *tree = NULL;
  struct mn_error err;

  memset(m, 0, sizeof *m);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  m->file = format("%.*s/%s", (int)len, dir, MN_MANIFEST_FILE);
  m->image = strdup("");
  if (!m->file || !m->image) {
    L.problems.oom = 1;
    goto done;
  }
  if (stat(dir, &st) != 0) {
    plain_problem(&L, format("%s: %s", dir, strerror(errno)));
    goto done;
  }
  if (!S_ISDIR(st.st_mode)) {
    plain_problem(&L, format("%s: not a folder: give the project folder, the one holding %s",
                             dir, MN_MANIFEST_FILE));
    goto done;
  }
  if (!(m->project_dir = realpath(dir, NULL))) {
    plain_problem(&L, format("%s: %s", dir, strerror(errno)));
    goto done;
  }
  if (mn_cfg_tree_load_file(m->file, &tree, &err) != 0) {
    if (err.code == MN_ENOMEM)
      L.problems.oom = 1;
    else
      mn_cfg_report_add_line(&L.problems, err.msg);
    goto done;
  }
  check_document(&L, tree->root);
  mn_cfg_tree_free(tree);
done:;
  int oom = finish_problems(&L);
  return m->n_errors || oom || !m->errors ? -1 : 0;
}

static void free_strings(const char *const *list) {
  for (size_t i = 0; list && list[i]; i++)
    free((void *)list[i]);
  free((void *)list);
}

void mn_manifest_release(struct mn_manifest *m) {
  for (size_t i = 0; i < m->n_functions; i++) {
    struct mn_client_function_spec *f = &m->functions[i];
    free((void *)f->function_name);
    free((void *)f->docker_image_override);
    free((void *)f->provider);
    free_strings(f->command);
    free_strings(f->env);
  }
  free(m->functions);
  for (size_t i = 0; i < m->n_errors; i++)
    free(m->errors[i]);
  free(m->errors);
  free(m->file);
  free(m->project_dir);
  free(m->image);
  memset(m, 0, sizeof *m);
}

struct mn_client_version_definition mn_manifest_definition(const struct mn_manifest *m) {
  return (struct mn_client_version_definition){m->image, m->functions, m->n_functions};
}
