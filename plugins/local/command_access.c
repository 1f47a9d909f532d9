/* command_access.c — at prepare: can the workers' user run this command?
 *
 * When the workers run as another user than the daemon (worker_user.h),
 * files the daemon's user can read may be closed to them — a Python
 * project's snapshot under /root/.multinode, say. Rather than letting every
 * attempt fail inside the task with a bare "Permission denied", prepare
 * asks, as that user: the worker executable and the command's program
 * (looked up in the worker's PATH) must be executable; every argument that
 * is an absolute path to something that exists, and every absolute entry
 * of the function's PYTHONPATH, must be readable (directories: and
 * enterable). The first that is not fails the attempt, naming the path and
 * the folder in the way. */
#include "local.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK_MAX 32

struct checks {
  const char *paths[CHECK_MAX];
  int modes[CHECK_MAX];
  char *owned[CHECK_MAX]; /* what is freed */
  size_t n, n_owned;
};

/* Adds path (when it exists for the daemon: what does not is the command's
 * business) with mode, and R_OK|X_OK for a directory. */
static void add(struct checks *c, const char *path, int mode, int owned) {
  struct stat st;
  if (c->n == CHECK_MAX || stat(path, &st) != 0) {
    if (owned)
      free((char *)path);
    return;
  }
  if (S_ISDIR(st.st_mode))
    mode = R_OK | X_OK;
  if (owned)
    c->owned[c->n_owned++] = (char *)path;
  c->paths[c->n] = path;
  c->modes[c->n++] = mode;
}

static const char *env_get(const struct mn_function_desc *f, const char *key) {
  const char *found = NULL;
  for (size_t i = 0; i < f->n_env; i++)
    if (f->env[i].key && strcmp(f->env[i].key, key) == 0)
      found = f->env[i].value;
  return found;
}

int mn_local_command_access_check(struct mn_local *l, const struct mn_function_desc *f, char *why,
                                  size_t why_size) {
  const struct mn_local_identity *idn = &l->conf.identity;
  struct checks c = {.n = 0};
  int rc = 0;

  if (!idn->switch_user || f->n_command == 0 || !f->command[0])
    return 0;
  char *search = mn_local_worker_path(l->conf.bin_dir, env_get(f, "PATH"), &l->daemon_env);
  char *found = NULL;
  if (search && mn_local_worker_resolve(l->conf.worker, search, &found) == 0)
    add(&c, found, X_OK, 1);
  found = NULL;
  if (search && mn_local_worker_resolve(f->command[0], search, &found) == 0)
    add(&c, found, X_OK, 1);
  free(search);
  for (size_t i = 1; i < f->n_command; i++)
    if (f->command[i] && f->command[i][0] == '/')
      add(&c, f->command[i], R_OK, 0);
  const char *pythonpath = env_get(f, "PYTHONPATH");
  for (const char *p = pythonpath; p && *p;) {
    size_t len = strcspn(p, ":");
    if (p[0] == '/') {
      char *entry = strndup(p, len);
      if (entry)
        add(&c, entry, R_OK, 1);
    }
    p += len;
    if (*p == ':')
      p++;
  }

  struct mn_local_access got[CHECK_MAX];
  int probe = mn_local_identity_probe(idn, &l->masks, c.paths, c.modes, c.n, got);
  if (probe != 0) {
    snprintf(why, why_size, "cannot check what user \"%s\" can read: %s", idn->name,
             strerror(-probe));
    rc = MN_PROVIDER_E_TRANSIENT;
    goto done;
  }
  for (size_t i = 0; i < c.n; i++) {
    if (got[i].err == 0)
      continue;
    char what[PATH_MAX + 64];
    mn_local_access_describe(c.paths[i], &got[i], what, sizeof what);
    snprintf(why, why_size,
             "the workers run as \"%s\", who cannot %s %s: make it readable by that user (a "
             "Python snapshot: deploy with MULTINODE_SNAPSHOT_DIR set to a folder others can "
             "read) or set providers.%s.user",
             idn->name, c.modes[i] & X_OK && !(c.modes[i] & R_OK) ? "execute" : "read", what,
             l->host->provider_name);
    rc = MN_PROVIDER_E_INVALID;
    break;
  }
done:
  for (size_t i = 0; i < c.n_owned; i++)
    free(c.owned[i]);
  return rc;
}
