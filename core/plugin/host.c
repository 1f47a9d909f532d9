/* Loading, checking, initializing and unloading provider plugins. */
#include "plugin/host.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "multinode/common/config_report.h"
#include "plugin/handle.h"
#include "plugin/provider_keys.h"
#include "util/log.h"
#include "util/path.h"

#ifndef MN_PLUGIN_BUILD_DIR
#define MN_PLUGIN_BUILD_DIR ""
#endif
#ifndef MN_PLUGIN_INSTALL_DIR
#define MN_PLUGIN_INSTALL_DIR ""
#endif

#define OP_END(op) (offsetof(struct mn_provider, op) + sizeof(((struct mn_provider *)0)->op))

/* Searches $MULTINODE_PLUGIN_PATH, the build tree and the install folder
 * for mn_provider_<name>.so. */
int mn_plugin_locate(const char *name, char **path_out, struct mn_error *err) {
  char file[300], searched[400] = "";
  const char *env = getenv("MULTINODE_PLUGIN_PATH");
  const char *fixed[] = {MN_PLUGIN_BUILD_DIR, MN_PLUGIN_INSTALL_DIR};
  char *dirs = strdup(env ? env : "");
  int rc = 0;
  snprintf(file, sizeof file, "mn_provider_%s.so", name);
  if (!dirs)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  char *save = NULL;
  const char *dir = strtok_r(dirs, ":", &save);
  size_t i = 0;
  for (;;) {
    if (!dir) {
      if (i >= sizeof fixed / sizeof fixed[0])
        break;
      dir = fixed[i++];
      if (!dir[0]) {
        dir = NULL;
        continue;
      }
    }
    char *candidate = mn_path_join(dir, file);
    if (!candidate) {
      rc = mn_fail(err, MN_ENOMEM, "out of memory");
      goto done;
    }
    if (access(candidate, F_OK) == 0) {
      *path_out = candidate;
      goto done;
    }
    free(candidate);
    size_t used = strlen(searched);
    snprintf(searched + used, sizeof searched - used, "%s%s", used ? ", " : "", dir);
    dir = i == 0 ? strtok_r(NULL, ":", &save) : NULL;
  }
  rc = mn_fail(err, MN_ECONFIG,
               "provider \"%s\": cannot find %s (searched: %s); set providers.%s.plugin or "
               "MULTINODE_PLUGIN_PATH",
               name, file, searched[0] ? searched : "nothing", name);
done:
  free(dirs);
  return rc;
}

/* Checks the table the plugin exports and copies it into h->ops. */
static int adopt_table(struct mn_provider_handle *h, const struct mn_provider *p,
                       struct mn_error *err) {
  const char *n = h->name, *path = h->path;
  if (!p)
    return mn_fail(err, MN_ECONFIG, "provider \"%s\": mn_provider_entry() in \"%s\" returned NULL",
                   n, path);
  uint32_t abi = p->abi_version;
  if (MN_PROVIDER_ABI_MAJOR_OF(abi) != MN_PROVIDER_ABI_MAJOR)
    return mn_fail(err, MN_ECONFIG,
                   "provider \"%s\": \"%s\" was built for provider ABI %u.%u, but this daemon "
                   "implements ABI %u.%u",
                   n, path, (unsigned)MN_PROVIDER_ABI_MAJOR_OF(abi),
                   (unsigned)MN_PROVIDER_ABI_MINOR_OF(abi), (unsigned)MN_PROVIDER_ABI_MAJOR,
                   (unsigned)MN_PROVIDER_ABI_MINOR);
  if (p->struct_size < MN_PROVIDER_MIN_STRUCT_SIZE)
    return mn_fail(err, MN_ECONFIG,
                   "provider \"%s\": \"%s\" declares struct_size %u, less than the %zu bytes "
                   "of the mandatory fields of ABI %u.%u",
                   n, path, (unsigned)p->struct_size, (size_t)MN_PROVIDER_MIN_STRUCT_SIZE,
                   (unsigned)MN_PROVIDER_ABI_MAJOR, (unsigned)MN_PROVIDER_ABI_MINOR);
  size_t size = p->struct_size < sizeof h->ops ? p->struct_size : sizeof h->ops;
  memset(&h->ops, 0, sizeof h->ops);
  memcpy(&h->ops, p, size);

  const char *missing = !h->ops.init           ? "init"
                        : !h->ops.shutdown     ? "shutdown"
                        : !h->ops.launch       ? "launch"
                        : !h->ops.inspect_many ? "inspect_many"
                        : !h->ops.terminate    ? "terminate"
                                               : NULL;
  if (missing)
    return mn_fail(err, MN_ECONFIG, "provider \"%s\": \"%s\" lacks the mandatory operation %s",
                   n, path, missing);
  if ((h->ops.caps & MN_PROVIDER_CAP_LOGS) && !h->ops.logs)
    missing = "logs";
  else if ((h->ops.caps & MN_PROVIDER_CAP_LIST_OWNED) && !h->ops.list_owned)
    missing = "list_owned";
  if (missing)
    return mn_fail(err, MN_ECONFIG,
                   "provider \"%s\": \"%s\" declares the %s capability but has no %s operation",
                   n, path, missing, missing);
  return 0;
}

/* The error of a provider's init or check_config. */
static int section_error(const struct mn_config *cfg, const struct mn_provider_handle *h,
                         const char *op, int rc, struct mn_provider_error *perr,
                         struct mn_error *err) {
  perr->msg[sizeof perr->msg - 1] = '\0';
  size_t flen = strlen(cfg->file);
  /* config accessor errors already say file:line:col and the key path */
  if (strncmp(perr->msg, cfg->file, flen) == 0 && perr->msg[flen] == ':')
    return mn_fail(err, MN_ECONFIG, "%s", perr->msg);
  return mn_fail(err, MN_ECONFIG, "provider \"%s\" (%s): %s failed: %s", h->name, h->path, op,
                 perr->msg[0] ? perr->msg : mn_provider_strerror(rc));
}

/* The section against the provider's key table (since 1.2), before the
 * provider sees it: every problem goes to REP (a check's report), or else
 * as many as fit into err. */
static int check_declared_keys(const struct mn_provider_handle *h, struct mn_cfg_report *rep,
                               struct mn_error *err) {
  struct mn_cfg_report own = {0};
  struct mn_cfg_report *r = rep ? rep : &own;
  int before = r->count, rc = 0;
  if (h->ops.struct_size < offsetof(struct mn_provider, config_keys) + sizeof(void *) ||
      !h->ops.config_keys)
    return 0; /* a provider without a table checks its keys itself */
  mn_provider_keys_walk(h->config, h->ops.config_keys, NULL, r);
  if (r->oom)
    rc = mn_fail(err, MN_ENOMEM, "out of memory while checking the configuration");
  else if (r->count > before)
    rc = rep ? mn_fail(err, MN_ECONFIG, "%s", "") : mn_cfg_report_finish(r, err);
  mn_cfg_report_release(&own);
  return rc;
}

static int load_one(struct mn_plugins *ps, const struct mn_config *cfg,
                    const struct mn_provider_section *sec, struct mn_provider_handle *h,
                    struct mn_cfg_report *rep, struct mn_error *err) {
  int rc;
  size_t tag_len = strlen(sec->name) + sizeof "provider.";
  if (!(h->name = strdup(sec->name)) || !(h->log_tag = malloc(tag_len)))
    return mn_fail(err, MN_ENOMEM, "out of memory");
  snprintf(h->log_tag, tag_len, "provider.%s", sec->name);
  if (sec->plugin_path) {
    if (!(h->path = strdup(sec->plugin_path)))
      return mn_fail(err, MN_ENOMEM, "out of memory");
  } else if ((rc = mn_plugin_locate(sec->name, &h->path, err))) {
    return rc;
  }

  dlerror();
  if (!(h->dl = dlopen(h->path, RTLD_NOW | RTLD_LOCAL))) {
    const char *why = dlerror();
    return mn_fail(err, MN_ECONFIG, "provider \"%s\": cannot load \"%s\": %s", h->name, h->path,
                   why ? why : "unknown error");
  }
  union {
    void *obj;
    mn_provider_entry_fn *fn;
  } entry;
  entry.obj = dlsym(h->dl, MN_PROVIDER_ENTRY_SYMBOL);
  if (!entry.obj)
    return mn_fail(err, MN_ECONFIG, "provider \"%s\": \"%s\" does not export %s", h->name,
                   h->path, MN_PROVIDER_ENTRY_SYMBOL);
  if ((rc = adopt_table(h, entry.fn(), err)))
    return rc;

  mn_host_table_init(h);
  h->host.provider_name = h->name;
  h->host.public_url = ps->public_url;
  h->host.api_key = ""; /* workers get their own keys (launch spec, ABI 1.2) */
  h->host.data_dir = ps->data_dir;
  h->host.cluster_id = ps->cluster_id;
  h->config = sec->node;
  if (!h->config) { /* no section at all: an empty mapping at the top of the file */
    h->empty_section.kind = MN_CFG_MAPPING;
    h->empty_section.file = cfg->file;
    h->empty_section.line = h->empty_section.col = 1;
    h->config = &h->empty_section; /* its path was set by mn_plugins_load */
  }

  /* api_url, the daemon's key of every section: the URL this provider's
   * workers call (provider.h, "What runs in the worker") */
  struct mn_provider_error perr = {0};
  const char *api_url = NULL;
  rc = mn_host_config_string(h->config, "api_url", 0, &api_url, &perr);
  if (rc == 0 && api_url && strncmp(api_url, "http://", 7) != 0 &&
      strncmp(api_url, "https://", 8) != 0)
    rc = mn_host_config_error(h->config, "api_url", &perr, "\"%s\" is not an http(s) URL",
                              api_url);
  if (rc)
    return section_error(cfg, h, "api_url", rc, &perr, err);
  h->worker_api_url = api_url && api_url[0] ? api_url : ps->public_url;
  if ((rc = check_declared_keys(h, rep, err)))
    return rc;
  if (ps->check_only) {
    rc = h->ops.check_config ? h->ops.check_config(h->config, &h->host, &perr) : 0;
    return rc ? section_error(cfg, h, "check_config", rc, &perr, err) : 0;
  }
  rc = h->ops.init(h->config, &h->host, &h->state, &perr);
  if (rc)
    return section_error(cfg, h, "init", rc, &perr, err);
  h->initialized = 1;
  mn_log_debug("plugin", "provider \"%s\" loaded from %s (ABI %u.%u)", h->name, h->path,
               (unsigned)MN_PROVIDER_ABI_MAJOR_OF(h->ops.abi_version),
               (unsigned)MN_PROVIDER_ABI_MINOR_OF(h->ops.abi_version));
  return 0;
}

static void handle_free(struct mn_provider_handle *h) {
  if (!h)
    return;
  if (h->initialized)
    h->ops.shutdown(h->state);
  if (h->dl)
    dlclose(h->dl);
  free(h->empty_section.path);
  free(h->name);
  free(h->path);
  free(h->log_tag);
  free(h);
}

static int mkdir_p(const char *dir) {
  char buf[4096];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof buf)
    return n == 0 ? 0 : -1;
  memcpy(buf, dir, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0700) && errno != EEXIST)
      return -1;
    *p = '/';
  }
  return mkdir(buf, 0700) && errno != EEXIST ? -1 : 0;
}

static char *dup_or(const char *s, const char *fallback) {
  return strdup(s ? s : fallback);
}

int mn_plugins_load(const struct mn_config *cfg, const struct mn_plugin_env *env,
                    struct mn_plugins **out, struct mn_error *err) {
  struct mn_plugins *ps = calloc(1, sizeof *ps);
  struct mn_cfg_report checked = {0};
  struct mn_error section_err;
  int rc = 0, one;
  *out = NULL;
  if (ps)
    pthread_mutex_init(&ps->waker_mu, NULL);
  if (!ps || !(ps->items = calloc(cfg->providers.n_items + 1, sizeof *ps->items)) ||
      !(ps->default_name = dup_or(cfg->providers.default_provider, "local")) ||
      !(ps->public_url = dup_or(env->public_url, "")) ||
      !(ps->api_key = dup_or(env->api_key, "")) ||
      !(ps->data_dir = dup_or(env->data_dir, cfg->data_dir ? cfg->data_dir : ".multinode")) ||
      !(ps->cluster_id = dup_or(env->cluster_id, "multinode"))) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto done;
  }
  ps->check_only = env->check_only;
  if (!ps->check_only && mkdir_p(ps->data_dir)) {
    rc = mn_fail(err, MN_EIO, "cannot create data_dir \"%s\": %s", ps->data_dir,
                 strerror(errno));
    goto done;
  }
  for (size_t i = 0; i < cfg->providers.n_items; i++) {
    const struct mn_provider_section *sec = &cfg->providers.items[i];
    struct mn_provider_handle *h = calloc(1, sizeof *h);
    if (!h) {
      rc = mn_fail(err, MN_ENOMEM, "out of memory");
      goto done;
    }
    ps->items[ps->n_items++] = h;
    h->owner = ps;
    if (!sec->node) {
      size_t n = strlen(sec->name) + sizeof "providers.";
      if (!(h->empty_section.path = malloc(n))) {
        rc = mn_fail(err, MN_ENOMEM, "out of memory");
        goto done;
      }
      snprintf(h->empty_section.path, n, "providers.%s", sec->name);
    }
    if (!ps->check_only) {
      if ((rc = load_one(ps, cfg, sec, h, NULL, err)))
        goto done;
    } else if ((one = load_one(ps, cfg, sec, h, &checked, &section_err)) != 0) {
      /* a check reports every problem of every section, in file order */
      mn_cfg_report_add_text(&checked, cfg->file, section_err.msg);
      rc = rc ? rc : one;
    }
  }
  if (rc && ps->check_only) {
    mn_cfg_report_finish(&checked, err);
    err->code = rc;
    if (env->report_out)
      *env->report_out = mn_cfg_report_text(&checked);
  }
done:
  mn_cfg_report_release(&checked);
  if (rc) {
    mn_plugins_free(ps);
    return rc;
  }
  *out = ps;
  return 0;
}

void mn_plugins_free(struct mn_plugins *ps) {
  if (!ps)
    return;
  for (size_t i = ps->n_items; i > 0; i--)
    handle_free(ps->items[i - 1]);
  free(ps->items);
  free(ps->default_name);
  free(ps->public_url);
  free(ps->api_key);
  free(ps->data_dir);
  free(ps->cluster_id);
  pthread_mutex_destroy(&ps->waker_mu);
  free(ps);
}

void mn_plugins_set_waker(struct mn_plugins *ps, void (*waker)(void *ctx), void *ctx) {
  pthread_mutex_lock(&ps->waker_mu);
  ps->waker = waker;
  ps->waker_ctx = ctx;
  pthread_mutex_unlock(&ps->waker_mu);
}

struct mn_provider_handle *mn_plugins_find(struct mn_plugins *ps, const char *name) {
  if (!ps)
    return NULL;
  if (!name)
    name = ps->default_name;
  for (size_t i = 0; i < ps->n_items; i++)
    if (strcmp(ps->items[i]->name, name) == 0)
      return ps->items[i];
  return NULL;
}

void mn_plugins_default_dirs(const char **build_dir, const char **install_dir) {
  *build_dir = MN_PLUGIN_BUILD_DIR;
  *install_dir = MN_PLUGIN_INSTALL_DIR;
}

size_t mn_plugins_count(const struct mn_plugins *ps) { return ps ? ps->n_items : 0; }

struct mn_provider_handle *mn_plugins_at(struct mn_plugins *ps, size_t i) {
  return ps && i < ps->n_items ? ps->items[i] : NULL;
}

const char *mn_provider_name(const struct mn_provider_handle *h) { return h->name; }

const char *mn_provider_type(const struct mn_provider_handle *h) {
  return h->ops.name ? h->ops.name : h->name;
}
const char *mn_provider_path(const struct mn_provider_handle *h) { return h->path; }
uint64_t mn_provider_caps(const struct mn_provider_handle *h) { return h->ops.caps; }
uint32_t mn_provider_abi(const struct mn_provider_handle *h) { return h->ops.abi_version; }
