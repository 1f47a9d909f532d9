/* A Python project folder as a version (python_project.h). */
#include "python_project.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "docker_build.h"

#define CAPTURE_MAX (4 * 1024 * 1024)

extern char **environ;

int mn_python_project_detect(const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, MN_MANIFEST_FILE);
  if (access(path, F_OK) == 0)
    return 0;
  snprintf(path, sizeof path, "%s/%s", dir, MN_PYTHON_MAIN);
  return access(path, F_OK) == 0;
}

static int add_error(struct mn_manifest *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_error(struct mn_manifest *m, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char **grown = realloc(m->errors, (m->n_errors + 1) * sizeof *grown);
  if (!grown)
    return -1;
  m->errors = grown;
  if ((m->errors[m->n_errors] = strdup(buf)))
    m->n_errors++;
  return -1;
}

/* Runs argv (looked up in PATH) with our stderr, and its stdout captured
 * into *out (NUL-terminated, at most CAPTURE_MAX bytes). Returns its exit
 * code, or -errno when it could not run. */
static int run_capture(char *const argv[], char **out) {
  int pipefd[2], status = 0, rc;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  *out = NULL;
  if (!buf)
    return -ENOMEM;
  if (pipe(pipefd) < 0) {
    free(buf);
    return -errno;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    free(buf);
    return -rc;
  }
  for (;;) {
    if (len + 1 >= cap && cap < CAPTURE_MAX) {
      char *grown = realloc(buf, cap * 2);
      if (!grown)
        break;
      buf = grown, cap *= 2;
    }
    ssize_t n = read(pipefd[0], buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
    if (len + 1 >= cap && cap >= CAPTURE_MAX)
      len = 0; /* far too much: keep reading to let it finish, keep nothing */
  }
  close(pipefd[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  buf[len] = '\0';
  *out = buf;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *python_of_env(void) {
  const char *py = getenv("MULTINODE_PYTHON");
  return py && *py ? py : "python3";
}

/* Runs `PYTHON -m multinode.deploy ARGS...`; its stdout in *out. */
static int deploy_tool(const char *python, char **out, const char *verb, const char *a,
                       const char *b, const char *c) {
  char *argv[] = {(char *)python, "-m", "multinode.deploy", (char *)verb,
                  (char *)a,      (char *)b, (char *)c,        NULL};
  return run_capture(argv, out);
}

static int json_number(const json_t *obj, const char *key, double *out) {
  const json_t *v = json_object_get(obj, key);
  if (!json_is_number(v))
    return -1;
  *out = json_number_value(v);
  return 0;
}

static int read_function(const json_t *item, struct mn_client_function_spec *f) {
  const json_t *res = json_object_get(item, "resource_spec");
  const json_t *exe = json_object_get(item, "execution_spec");
  const char *name = json_string_value(json_object_get(item, "function_name"));
  double cpus, mem, conc, retries, timeout;
  if (!name || json_number(res, "virtual_cpus", &cpus) < 0 ||
      json_number(res, "memory_gbs", &mem) < 0 ||
      json_number(res, "max_concurrency", &conc) < 0 ||
      json_number(exe, "max_retries", &retries) < 0 ||
      json_number(exe, "timeout_seconds", &timeout) < 0)
    return -1;
  if (!(f->function_name = strdup(name)))
    return -1;
  f->virtual_cpus = cpus;
  f->memory_gbs = mem;
  f->max_concurrency = (int)conc;
  f->max_retries = (int)retries;
  f->timeout_seconds = (int)timeout;
  /* additive (docs/compatibility.md, "Task semantics"): as the decorator set them */
  double v;
  if (json_number(res, "max_concurrency_per_key", &v) == 0)
    f->max_concurrency_per_key = (int)v;
  if (json_number(exe, "retry_delay_seconds", &v) == 0)
    f->retry_delay_seconds = v;
  if (json_number(exe, "retry_backoff_factor", &v) == 0)
    f->retry_backoff_factor = v;
  if (json_number(exe, "retry_max_delay_seconds", &v) == 0)
    f->retry_max_delay_seconds = v;
  if (json_number(exe, "attempt_timeout_seconds", &v) == 0)
    f->attempt_timeout_seconds = (int)v;
  if (json_number(exe, "queue_timeout_seconds", &v) == 0)
    f->queue_timeout_seconds = (int)v;
  if (json_number(exe, "heartbeat_timeout_seconds", &v) == 0)
    f->heartbeat_timeout_seconds = (int)v;
  return 0;
}

int mn_python_project_inspect(const char *dir, struct mn_manifest *m,
                              struct mn_python_project *p) {
  char path[PATH_MAX], *out = NULL;
  json_t *doc = NULL;
  json_error_t jerr;
  int rc = -1;
  memset(m, 0, sizeof *m);
  memset(p, 0, sizeof *p);
  snprintf(path, sizeof path, "%s/%s", dir, MN_PYTHON_MAIN);
  if (!(m->file = strdup(path)) || !(m->project_dir = realpath(dir, NULL)) ||
      !(p->python = strdup(python_of_env())))
    return add_error(m, "%s: cannot read the folder: %s", dir, strerror(errno));
  int status = deploy_tool(p->python, &out, "inspect", m->project_dir, NULL, NULL);
  if (status < 0) {
    add_error(m, "%s: cannot run \"%s\" to read the Python project: %s (set MULTINODE_PYTHON "
                 "to the Python 3 that has the multinode package)",
              path, p->python, strerror(-status));
    goto done;
  }
  if (status != 0) {
    add_error(m, "%s: \"%s -m multinode.deploy inspect\" failed (exit %d; its messages are "
                 "above)",
              path, p->python, status);
    goto done;
  }
  const json_t *fns;
  if (!(doc = json_loads(out, 0, &jerr)) ||
      !json_is_array(fns = json_object_get(doc, "functions"))) {
    add_error(m, "%s: the Python package answered something that is not its inspection "
                 "(%s)",
              path, doc ? "no functions list" : jerr.text);
    goto done;
  }
  const char *pkg = json_string_value(json_object_get(doc, "package_path"));
  const char *exe = json_string_value(json_object_get(doc, "python"));
  if ((pkg && !(p->package_path = strdup(pkg))) || (exe && !(p->python_abs = strdup(exe))))
    goto oom;
  if (!(m->image = strdup("")))
    goto oom;
  m->functions = calloc(json_array_size(fns) + 1, sizeof *m->functions);
  if (!m->functions)
    goto oom;
  for (size_t i = 0; i < json_array_size(fns); i++) {
    if (read_function(json_array_get(fns, i), &m->functions[i]) < 0) {
      add_error(m, "%s: function %zu of the inspection is malformed", path, i + 1);
      goto done;
    }
    m->n_functions++;
  }
  rc = 0;
  goto done;
oom:
  add_error(m, "out of memory");
done:
  json_decref(doc);
  free(out);
  return rc;
}

static char **string_list(int n, ...) {
  va_list ap;
  char **list = calloc((size_t)n + 1, sizeof *list);
  va_start(ap, n);
  for (int i = 0; list && i < n; i++) {
    const char *s = va_arg(ap, const char *);
    if (!(list[i] = strdup(s))) {
      for (int j = 0; j < i; j++)
        free(list[j]);
      free(list);
      list = NULL;
    }
  }
  va_end(ap);
  return list;
}

static int mkdirs(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *s = buf + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
      *s = '/';
    }
  return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int snapshot_root(char *buf, size_t size) {
  const char *env = getenv("MULTINODE_SNAPSHOT_DIR");
  const char *home = getenv("HOME");
  if (env && *env)
    snprintf(buf, size, "%s", env);
  else if (home && *home)
    snprintf(buf, size, "%s/.multinode/snapshots", home);
  else
    return -ENOENT;
  return mkdirs(buf);
}

/* Whether users other than the owner can read the snapshot at path: every
 * folder on the way lets others pass (o+x) and the snapshot lets them read
 * (o+rx). When not, the folder in the way goes to blocker with its mode. A
 * hint only (ACLs are not looked at): the local provider checks for real,
 * as its workers' user, before it runs the function. */
static int others_can_read(const char *path, char *blocker, size_t size, mode_t *mode) {
  char prefix[PATH_MAX];
  struct stat st;
  size_t len = strlen(path);
  if (len >= sizeof prefix)
    return 1;
  for (size_t i = 1; i <= len; i++) {
    if (i < len && path[i] != '/')
      continue;
    memcpy(prefix, path, i);
    prefix[i] = '\0';
    mode_t need = i == len ? (S_IROTH | S_IXOTH) : S_IXOTH;
    if (stat(prefix, &st) == 0 && (st.st_mode & need) != need) {
      snprintf(blocker, size, "%s", prefix);
      *mode = st.st_mode & 07777;
      return 0;
    }
  }
  return 1;
}

static int set_commands(struct mn_manifest *m, const char *python, const char *app_dir,
                        const char *pythonpath) {
  for (size_t i = 0; i < m->n_functions; i++) {
    struct mn_client_function_spec *f = &m->functions[i];
    char pp[PATH_MAX + 16];
    f->command = (const char *const *)string_list(4, python, "-m", "multinode.task", app_dir);
    if (pythonpath) {
      snprintf(pp, sizeof pp, "PYTHONPATH=%s", pythonpath);
      f->env = (const char *const *)string_list(2, "PYTHONUNBUFFERED=1", pp);
    } else {
      f->env = (const char *const *)string_list(1, "PYTHONUNBUFFERED=1");
    }
    if (!f->command || !f->env)
      return -1;
  }
  return 0;
}

int mn_python_project_materialize(const char *dir, const char *project_name,
                                  const char *repository, enum mn_python_target target,
                                  struct mn_manifest *m, const struct mn_python_project *p) {
  char root[PATH_MAX], tag[512], *snapshot = NULL, *out = NULL;
  int rc = -1, status;
  (void)dir;
  if ((status = snapshot_root(root, sizeof root)) < 0) {
    fprintf(stderr, "error: cannot make the snapshot folder \"%s\": %s (set "
                    "MULTINODE_SNAPSHOT_DIR)\n",
            root, strerror(-status));
    return -1;
  }
  status = deploy_tool(p->python, &snapshot, "snapshot", m->project_dir, root, NULL);
  if (status != 0 || !snapshot || !*snapshot) {
    fprintf(stderr, "error: cannot snapshot %s into %s (exit %d)\n", m->project_dir, root,
            status);
    goto done;
  }
  snapshot[strcspn(snapshot, "\n")] = '\0';
  fprintf(stderr, "snapshot: %s\n", snapshot);
  if (target == MN_PYTHON_PROCESS) {
    char blocker[PATH_MAX];
    mode_t mode = 0;
    if (!others_can_read(snapshot, blocker, sizeof blocker, &mode))
      fprintf(stderr,
              "warning: other users cannot read the snapshot (\"%s\" is mode %04o): a local "
              "provider whose workers run as another user (nobody, when the daemon runs as "
              "root) will refuse to run it; set MULTINODE_SNAPSHOT_DIR to a folder others can "
              "read (docs/python.md)\n",
              blocker, (unsigned)mode);
    /* the workers run the snapshot with the interpreter that read it, and
     * find the package where it did when it came from PYTHONPATH */
    const char *pp = getenv("PYTHONPATH");
    rc = set_commands(m, p->python_abs ? p->python_abs : p->python, snapshot,
                      pp && *pp ? p->package_path : NULL);
    if (rc < 0)
      fprintf(stderr, "error: out of memory\n");
    goto done;
  }
  const char *base = getenv("MULTINODE_BASE_IMAGE");
  char context[PATH_MAX];
  if (!base || !*base)
    base = MN_PYTHON_DEFAULT_BASE_IMAGE;
  const char *hash = strrchr(snapshot, '/');
  mn_docker_image_tag(tag, sizeof tag, repository && *repository ? repository : "multinode-local",
                      project_name, hash ? hash + 1 : snapshot);
  snprintf(context, sizeof context, "%s.context.tar", snapshot);
  status = deploy_tool(p->python, &out, "build-context", snapshot, base, context);
  if (status != 0) {
    fprintf(stderr, "error: cannot write the image's build context (exit %d)\n", status);
    goto done;
  }
  fprintf(stderr, "building image %s from %s\n", tag, base);
  char why[1024];
  int built = mn_docker_build(context, tag, why, sizeof why);
  unlink(context);
  if (built < 0) {
    fprintf(stderr, "error: cannot build image %s: %s\n", tag, why);
    goto done;
  }
  free(m->image);
  if (!(m->image = strdup(tag)) || set_commands(m, "python3", "/app", NULL) < 0) {
    fprintf(stderr, "error: out of memory\n");
    goto done;
  }
  rc = 0;
done:
  free(snapshot);
  free(out);
  return rc;
}

void mn_python_project_release(struct mn_python_project *p) {
  free(p->python);
  free(p->python_abs);
  free(p->package_path);
  memset(p, 0, sizeof *p);
}
