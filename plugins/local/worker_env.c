/* worker_env.c — build a worker's environment and argv. */
#include "worker_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "multinode/common/worker_env.h"
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static int dup_env(const char *name, char **out) {
  const char *v = getenv(name);
  *out = NULL;
  if (!v)
    return 0;
  *out = strdup(v);
  return *out ? 0 : -ENOMEM;
}

int mn_local_daemon_env_init(struct mn_local_daemon_env *env) {
  memset(env, 0, sizeof *env);
  if (dup_env("PATH", &env->path) != 0 || dup_env("HOME", &env->home) != 0 ||
      dup_env("LANG", &env->lang) != 0) {
    mn_local_daemon_env_release(env);
    return -ENOMEM;
  }
  return 0;
}

void mn_local_daemon_env_release(struct mn_local_daemon_env *env) {
  free(env->path);
  free(env->home);
  free(env->lang);
  memset(env, 0, sizeof *env);
}

static char *join3(const char *a, const char *sep, const char *b) {
  size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s%s%s", a, sep, b);
  return s;
}

char *mn_local_worker_path(const char *bin_dir, const char *spec_path,
                           const struct mn_local_daemon_env *daemon) {
  const char *base = spec_path ? spec_path : daemon->path ? daemon->path : DEFAULT_PATH;
  return base[0] ? join3(bin_dir, ":", base) : strdup(bin_dir);
}

static int is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int mn_local_worker_resolve(const char *worker, const char *search_path, char **out) {
  *out = NULL;
  if (strchr(worker, '/')) {
    if (!is_executable_file(worker))
      return access(worker, F_OK) == 0 ? -EACCES : -ENOENT;
    *out = strdup(worker);
    return *out ? 0 : -ENOMEM;
  }
  for (const char *p = search_path; p;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    char dir[4096];
    if (len == 0)
      snprintf(dir, sizeof dir, ".");
    else if (len < sizeof dir)
      snprintf(dir, sizeof dir, "%.*s", (int)len, p);
    else
      dir[0] = '\0';
    if (dir[0]) {
      char *candidate = join3(dir, "/", worker);
      if (!candidate)
        return -ENOMEM;
      if (is_executable_file(candidate)) {
        *out = candidate;
        return 0;
      }
      free(candidate);
    }
    p = colon ? colon + 1 : NULL;
  }
  return -ENOENT;
}

static const char *spec_env_get(const struct mn_launch_spec *spec, const char *key) {
  const char *found = NULL;
  for (size_t i = 0; i < spec->n_env; i++)
    if (strcmp(spec->env[i].key, key) == 0)
      found = spec->env[i].value; /* the last one wins, as with execve */
  return found;
}

int mn_local_worker_cmd_init(struct mn_local_worker_cmd *cmd, const struct mn_launch_spec *spec,
                             const char *worker, const char *bin_dir,
                             const struct mn_local_daemon_env *daemon,
                             const struct mn_local_worker_extra *extra, char *why,
                             size_t why_size) {
  char *child_path = NULL;
  size_t n = 0;
  int rc = MN_PROVIDER_E_INVALID;
  int r;

  memset(cmd, 0, sizeof *cmd);
  for (size_t i = 0; i < spec->n_env; i++) {
    const char *k = spec->env[i].key;
    if (!k || !k[0] || strchr(k, '=') || !spec->env[i].value) {
      snprintf(why, why_size, "environment variable name \"%s\" is not valid", k ? k : "");
      goto done;
    }
  }
  child_path = mn_local_worker_path(bin_dir, spec_env_get(spec, "PATH"), daemon);
  cmd->envp = calloc(spec->n_env + 5, sizeof *cmd->envp);
  cmd->argv = calloc(spec->n_command + 2, sizeof *cmd->argv);
  if (!child_path || !cmd->envp || !cmd->argv)
    goto nomem;

  for (size_t i = 0; i < spec->n_env; i++) {
    if (strcmp(spec->env[i].key, "PATH") == 0 ||
        strcmp(spec->env[i].key, MN_WORKER_ENV_LOG_MAX_BYTES) == 0) /* the cap is ours */
      continue;
    if (!(cmd->envp[n++] = join3(spec->env[i].key, "=", spec->env[i].value)))
      goto nomem;
  }
  if (!(cmd->envp[n++] = join3("PATH", "=", child_path)))
    goto nomem;
  const char *home = extra && extra->home ? extra->home : daemon->home;
  if (home && !spec_env_get(spec, "HOME") && !(cmd->envp[n++] = join3("HOME", "=", home)))
    goto nomem;
  if (daemon->lang && !spec_env_get(spec, "LANG") &&
      !(cmd->envp[n++] = join3("LANG", "=", daemon->lang)))
    goto nomem;
  if (extra && extra->max_log_bytes > 0) {
    char value[32];
    snprintf(value, sizeof value, "%llu", (unsigned long long)extra->max_log_bytes);
    if (!(cmd->envp[n++] = join3(MN_WORKER_ENV_LOG_MAX_BYTES, "=", value)))
      goto nomem;
  }

  r = mn_local_worker_resolve(worker, child_path, &cmd->path);
  if (r == -ENOMEM)
    goto nomem;
  if (r != 0) {
    snprintf(why, why_size, "worker \"%s\" %s (PATH=%s)", worker,
             r == -EACCES ? "is not an executable file" : "not found", child_path);
    goto done;
  }
  if (!(cmd->argv[0] = strdup(cmd->path)))
    goto nomem;
  for (size_t i = 0; i < spec->n_command; i++)
    if (!(cmd->argv[i + 1] = strdup(spec->command[i] ? spec->command[i] : "")))
      goto nomem;
  rc = 0;
  goto done;
nomem:
  rc = MN_PROVIDER_E_TRANSIENT;
  snprintf(why, why_size, "out of memory");
done:
  free(child_path);
  if (rc != 0)
    mn_local_worker_cmd_release(cmd);
  return rc;
}

static void free_strv(char **v) {
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

void mn_local_worker_cmd_release(struct mn_local_worker_cmd *cmd) {
  free_strv(cmd->envp);
  free_strv(cmd->argv);
  free(cmd->path);
  memset(cmd, 0, sizeof *cmd);
}
