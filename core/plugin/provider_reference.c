/* `multinoded --print-config-reference`: the providers' key tables, read
 * from each plugin's config_keys (provider.h, "Declarative configuration").
 * The same text goes between the markers of README.md and the docs
 * (scripts/config_docs.sh). */
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "plugin/handle.h"
#include "plugin/host.h"
#include "plugin/provider_keys.h"

#define KEYS_END (offsetof(struct mn_provider, config_keys) + sizeof(void *))

static const char *type_name(const struct mn_config_key *k, char *buf, size_t size) {
  switch (k->type) {
  case MN_CONFIG_STRING: return "string";
  case MN_CONFIG_BOOL: return "boolean";
  case MN_CONFIG_INT: return "integer";
  case MN_CONFIG_DURATION: return "duration";
  case MN_CONFIG_BYTES: return "size";
  case MN_CONFIG_STRINGS: return "list of strings";
  case MN_CONFIG_ANY: return "any";
  case MN_CONFIG_ENUM:
    snprintf(buf, size, "one of");
    for (const char *const *a = k->allowed; a && *a; a++) {
      size_t used = strlen(buf);
      snprintf(buf + used, size - used, "%s`%s`", a == k->allowed ? " " : ", ", *a);
    }
    return buf;
  }
  return "?";
}

void mn_provider_keys_print(FILE *out, const char *prefix, const struct mn_config_key *keys) {
  fprintf(out, "| Key | Type | Default | Description |\n|---|---|---|---|\n");
  for (const struct mn_config_key *k = keys; k->name; k++) {
    char type[256], range[128] = "", bounds[96];
    if (k->min || k->max) {
      mn_provider_keys_fmt_bounds(k, 0, bounds, sizeof bounds);
      snprintf(range, sizeof range, " (%s%s)", bounds,
               k->type == MN_CONFIG_STRINGS ? " items" : "");
    }
    fprintf(out, "| `%s%s%s` | %s | %s%s%s | %s%s%s |\n", prefix, prefix[0] ? "." : "",
            k->name, type_name(k, type, sizeof type), k->def ? "`" : "",
            k->def ? k->def : "-", k->def ? "`" : "", k->doc ? k->doc : "",
            (k->flags & MN_CONFIG_REQUIRED) ? " Required." : "", range);
  }
}

/* Loads the plugin at PATH and prints its table; 0, or -1 (message on
 * stderr) when it cannot be loaded. */
static int print_plugin(FILE *out, const char *name, const char *path, int heading) {
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    const char *why = dlerror();
    fprintf(stderr, "cannot load \"%s\": %s\n", path, why ? why : "unknown error");
    return -1;
  }
  union {
    void *obj;
    mn_provider_entry_fn *fn;
  } entry;
  entry.obj = dlsym(dl, MN_PROVIDER_ENTRY_SYMBOL);
  const struct mn_provider *p = entry.obj ? entry.fn() : NULL;
  int rc = 0;
  if (!p || MN_PROVIDER_ABI_MAJOR_OF(p->abi_version) != MN_PROVIDER_ABI_MAJOR) {
    fprintf(stderr, "\"%s\" is not a provider plugin of ABI %u\n", path,
            (unsigned)MN_PROVIDER_ABI_MAJOR);
    rc = -1;
  } else {
    if (heading)
      fprintf(out, "\n### `providers.%s` (%s)\n\n", name, p->name ? p->name : name);
    if (p->struct_size >= KEYS_END && p->config_keys)
      mn_provider_keys_print(out, "", p->config_keys);
    else
      fprintf(out, "This provider declares no key table: it checks its keys itself.\n");
  }
  dlclose(dl);
  return rc;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The provider names of every mn_provider_<name>.so in the search folders,
 * sorted and without repeats (heap; caller frees each and the array). */
static size_t list_plugins(char ***names_out) {
  const char *build, *install, *env = getenv("MULTINODE_PLUGIN_PATH");
  char *dirs = NULL, *save = NULL;
  char **names = NULL;
  size_t n = 0, cap = 0;
  mn_plugins_default_dirs(&build, &install);
  size_t len = (env ? strlen(env) : 0) + strlen(build) + strlen(install) + 3;
  if (!(dirs = malloc(len)))
    return 0;
  snprintf(dirs, len, "%s:%s:%s", env ? env : "", build, install);
  for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      size_t l = strlen(e->d_name);
      if (strncmp(e->d_name, "mn_provider_", 12) != 0 || l <= 15 ||
          strcmp(e->d_name + l - 3, ".so") != 0)
        continue;
      char *name = strndup(e->d_name + 12, l - 15);
      int seen = 0;
      for (size_t i = 0; name && i < n && !seen; i++)
        seen = strcmp(names[i], name) == 0;
      if (!name || seen) {
        free(name);
        continue;
      }
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 8;
        char **grown = realloc(names, ncap * sizeof *grown);
        if (!grown) {
          free(name);
          continue;
        }
        names = grown;
        cap = ncap;
      }
      names[n++] = name;
    }
    if (d)
      closedir(d);
  }
  free(dirs);
  if (n)
    qsort(names, n, sizeof *names, by_name);
  *names_out = names;
  return n;
}

int mn_plugins_print_reference(FILE *out, const char *which) {
  struct mn_error err = {0};
  char *path = NULL;
  int rc = 0;
  if (which && strcmp(which, "daemon") == 0) {
    mn_config_print_reference(out);
    return 0;
  }
  if (which) { /* one provider's table alone (docs/<provider>.md) */
    if (mn_plugin_locate(which, &path, &err)) {
      fprintf(stderr, "%s\n", err.msg);
      return -1;
    }
    rc = print_plugin(out, which, path, 0);
    free(path);
    return rc;
  }
  mn_config_print_reference(out);
  char **names = NULL;
  size_t n = list_plugins(&names);
  if (n)
    fprintf(out, "\nEach provider's own keys, from its plugin's key table:\n");
  for (size_t i = 0; i < n; i++) {
    if (rc == 0 && mn_plugin_locate(names[i], &path, &err) == 0) {
      rc = print_plugin(out, names[i], path, 1);
      free(path);
    }
    free(names[i]);
  }
  free(names);
  return rc;
}
