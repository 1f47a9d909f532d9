/* worker_limits.c — cgroup v2 detection and per-execution cgroups; rlimits. */
#include "worker_limits.h"

/* RLIMIT_DATA is the fallback memory limit, except in sanitizer builds:
 * AddressSanitizer reserves its shadow memory as terabytes of private
 * mappings, which any data limit refuses. */
#ifdef MN_SANITIZER_BUILD
#define MN_LOCAL_DATA_RLIMIT 0
#else
#define MN_LOCAL_DATA_RLIMIT 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPU_PERIOD_US 100000

/* snprintf that may truncate (messages), and returns -1 for `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t why_size, const char *fmt,
                                                      ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, why_size, fmt, ap);
  va_end(ap);
  return -1;
}
#define message(buf, ...) ((void)fail(buf, sizeof buf, __VA_ARGS__))

/* Reads a small file into buf (NUL-terminated, trailing newline kept). */
static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read(fd, buf, size - 1);
  int rc = n < 0 ? -errno : 0;
  close(fd);
  buf[n < 0 ? 0 : n] = '\0';
  return rc;
}

static int write_small(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int rc = n < 0 ? -errno : 0;
  close(fd);
  return rc;
}

static int path_join(char *out, size_t size, const char *a, const char *b) {
  int n = snprintf(out, size, "%s/%s", a, b);
  return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

/* 1 when the space-separated list holds word. */
static int has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
    int starts = p == list || p[-1] == ' ';
    int ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
    if (starts && ends)
      return 1;
  }
  return 0;
}

/* The cgroup v2 mount point, and the cgroup dir mounted there ("/"). */
static int find_cgroup2_mount(char *mount, size_t mount_size, char *root, size_t root_size) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  if (!f)
    return 0;
  while (!found && getline(&line, &cap, f) > 0) {
    char r[PATH_MAX], m[PATH_MAX];
    const char *dash = strstr(line, " - ");
    if (!dash || strncmp(dash, " - cgroup2 ", 11) != 0)
      continue;
    if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2)
      continue;
    if (strlen(m) < mount_size && strlen(r) < root_size) {
      strcpy(mount, m);
      strcpy(root, r);
      found = 1;
    }
  }
  free(line);
  fclose(f);
  return found;
}

/* The daemon's own cgroup directory, from the "0::" line. */
static int own_cgroup_dir(const char *mount, const char *root, char *out, size_t size) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  char *line = NULL;
  size_t cap = 0;
  int rc = -ENOENT;
  if (!f)
    return -errno;
  while (getline(&line, &cap, f) > 0) {
    if (strncmp(line, "0::", 3) != 0)
      continue;
    char *path = line + 3;
    path[strcspn(path, "\n")] = '\0';
    size_t rl = strlen(root);
    if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0)
      path += rl;
    int n = snprintf(out, size, "%s%s", mount, strcmp(path, "/") == 0 ? "" : path);
    rc = (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
    break;
  }
  free(line);
  fclose(f);
  return rc;
}

/* Makes controller ctl usable for leaves of dir; returns 0 or sets why. */
static int enable_controller(const char *dir, const char *ctl, char *why, size_t why_size) {
  char parent[PATH_MAX], path[PATH_MAX], buf[1024], plus[32];
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent)
    return fail(why, why_size, "%s has no parent cgroup", dir);
  *slash = '\0';
  snprintf(plus, sizeof plus, "+%s", ctl);

  if (path_join(path, sizeof path, parent, "cgroup.controllers") != 0 ||
      read_small(path, buf, sizeof buf) != 0)
    return fail(why, why_size, "cannot read %s", path);
  if (!has_word(buf, ctl))
    return fail(why, why_size, "%s offers no %s controller", parent, ctl);
  path_join(path, sizeof path, parent, "cgroup.subtree_control");
  if (read_small(path, buf, sizeof buf) != 0)
    return fail(why, why_size, "cannot read %s", path);
  if (!has_word(buf, ctl)) {
    int rc = write_small(path, plus);
    if (rc != 0)
      return fail(why, why_size, "cannot enable %s in %s: %s%s", ctl, path, strerror(-rc),
                  rc == -EBUSY ? " (that cgroup holds processes)" : "");
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return fail(why, why_size, "cannot create %s: %s", dir, strerror(errno));
  path_join(path, sizeof path, dir, "cgroup.subtree_control");
  if (read_small(path, buf, sizeof buf) != 0)
    return fail(why, why_size, "cannot read %s", path);
  if (!has_word(buf, ctl)) {
    int rc = write_small(path, plus);
    if (rc != 0)
      return fail(why, why_size, "cannot enable %s in %s: %s", ctl, path, strerror(-rc));
  }
  return 0;
}

/* Creates and removes one leaf to prove the interface files appear. */
static int probe_leaf(const struct mn_local_limits *l, char *why, size_t why_size) {
  char leaf[PATH_MAX], file[PATH_MAX], name[64];
  int rc = 0;
  snprintf(name, sizeof name, ".probe-%ld", (long)getpid());
  if (path_join(leaf, sizeof leaf, l->dir, name) != 0 ||
      (mkdir(leaf, 0755) != 0 && errno != EEXIST))
    return fail(why, why_size, "cannot create a cgroup in %s: %s", l->dir, strerror(errno));
  if (path_join(file, sizeof file, leaf, "cgroup.procs") != 0 || access(file, W_OK) != 0)
    rc = -1;
  if (l->cgroup_memory &&
      (path_join(file, sizeof file, leaf, "memory.max") != 0 || access(file, W_OK) != 0))
    rc = -1;
  if (l->cgroup_cpu &&
      (path_join(file, sizeof file, leaf, "cpu.max") != 0 || access(file, W_OK) != 0))
    rc = -1;
  if (rc != 0)
    snprintf(why, why_size, "%s lacks writable limit files", leaf);
  rmdir(leaf);
  return rc;
}

void mn_local_limits_release(struct mn_local_limits *l) {
  if (l->made_dir && l->dir[0])
    rmdir(l->dir); /* EBUSY while a leaf is left: it stays for the next start */
}

int mn_local_limits_init(struct mn_local_limits *l, const char *cgroup_parent,
                         const char *tag, int use_cgroups, char *why,
                         size_t why_size) {
  char mount[PATH_MAX], root[PATH_MAX], own[PATH_MAX];
  char cpu_why[512] = "", mem_why[512] = "", reason[1100] = "";
  int is_explicit = cgroup_parent && cgroup_parent[0];

  memset(l, 0, sizeof *l);
  if (!use_cgroups) {
    message(reason, "cgroups: false");
  } else if (!find_cgroup2_mount(mount, sizeof mount, root, sizeof root)) {
    message(reason, "no cgroup v2 file system is mounted");
  } else if (is_explicit) {
    size_t ml = strlen(mount);
    if (strncmp(cgroup_parent, mount, ml) != 0 || cgroup_parent[ml] != '/')
      message(reason, "\"%s\" is not inside the cgroup v2 mount %s", cgroup_parent, mount);
    else
      snprintf(l->dir, sizeof l->dir, "%s", cgroup_parent);
  } else if (own_cgroup_dir(mount, root, own, sizeof own) != 0) {
    message(reason, "cannot find the daemon's cgroup in /proc/self/cgroup");
  } else {
    int n = snprintf(l->dir, sizeof l->dir, "%s/multinode-%s", own, tag);
    if (n < 0 || (size_t)n >= sizeof l->dir)
      message(reason, "the cgroup path is too long");
  }

  char track_why[1100] = "";
  if (reason[0] == '\0') {
    l->cgroup_memory = enable_controller(l->dir, "memory", mem_why, sizeof mem_why) == 0;
    l->cgroup_cpu = enable_controller(l->dir, "cpu", cpu_why, sizeof cpu_why) == 0;
    if ((l->cgroup_memory || l->cgroup_cpu) && probe_leaf(l, reason, sizeof reason) != 0) {
      l->cgroup_memory = l->cgroup_cpu = 0;
    } else if (!l->cgroup_memory && !l->cgroup_cpu) {
      message(reason, "%s; %s", mem_why, cpu_why);
    }
    /* Without controllers a leaf still holds (and kills) what a worker starts. */
    if (!is_explicit) {
      if (mkdir(l->dir, 0755) != 0 && errno != EEXIST)
        message(track_why, "cannot create %s: %s", l->dir, strerror(errno));
      else if (probe_leaf(l, track_why, sizeof track_why) == 0)
        l->cgroup_track = 1;
      l->made_dir = 1;
      if (!l->cgroup_memory && !l->cgroup_cpu && !l->cgroup_track)
        rmdir(l->dir); /* only succeeds when we made it and it is empty */
    } else {
      l->cgroup_track = l->cgroup_memory && l->cgroup_cpu;
    }
  } else {
    snprintf(track_why, sizeof track_why, "%s", reason);
  }

  if (is_explicit && !(l->cgroup_memory && l->cgroup_cpu)) {
    snprintf(why, why_size, "cgroup_parent: %s",
             reason[0]           ? reason
             : !l->cgroup_memory ? mem_why
                                 : cpu_why);
    return -1;
  }
  if (l->cgroup_memory && l->cgroup_cpu)
    message(l->description,
            "limits: cgroup v2 under %s (vcpus -> cpu.max, memory_gb -> memory.max, no swap)",
            l->dir);
  else if (l->cgroup_cpu)
    message(l->description,
            "limits: cgroup v2 under %s for vcpus (cpu.max); memory_gb enforced per process "
            "with RLIMIT_DATA (%s)",
            l->dir, mem_why);
  else if (l->cgroup_memory)
    message(l->description,
            "limits: cgroup v2 under %s for memory_gb (memory.max); vcpus NOT enforced (%s)",
            l->dir, cpu_why);
  else if (MN_LOCAL_DATA_RLIMIT)
    message(l->description,
            "limits: cgroup v2 unusable (%s); memory_gb enforced per process with "
            "RLIMIT_DATA, vcpus NOT enforced",
            reason);
  else
    message(l->description,
            "limits: cgroup v2 unusable (%s); memory_gb and vcpus NOT enforced: a sanitizer "
            "build's workers reserve terabytes of address space, which RLIMIT_DATA refuses",
            reason);
  size_t used = strlen(l->description);
  if (l->cgroup_track || l->cgroup_memory || l->cgroup_cpu)
    snprintf(l->description + used, sizeof l->description - used,
             "; cleanup: a cgroup per execution under %s, killed when its worker ends, with "
             "the worker's subreaper and process group",
             l->dir);
  else
    snprintf(l->description + used, sizeof l->description - used,
             "; cleanup: the worker's subreaper and process group (no cgroup: %s)", track_why);
  return 0;
}

static int write_limit(const char *leaf, const char *file, const char *value, int optional,
                       char *why, size_t why_size) {
  char path[PATH_MAX];
  int rc = path_join(path, sizeof path, leaf, file);
  if (rc == 0)
    rc = write_small(path, value);
  if (rc == -ENOENT && optional)
    return 0; /* e.g. memory.swap.max without swap accounting */
  if (rc != 0)
    snprintf(why, why_size, "cannot write \"%s\" to %s: %s", value, path, strerror(-rc));
  return rc;
}

int mn_local_limits_prepare(const struct mn_local_limits *l, const char *execution_id, double vcpus,
                            double memory_gb, struct mn_local_child_limits *out, char *why,
                            size_t why_size) {
  char value[64];
  int rc = 0;
  double bytes = memory_gb * 1024.0 * 1024.0 * 1024.0;

  memset(out, 0, sizeof *out);
  out->cgroup_fd = -1;
  if (memory_gb > 0 && !l->cgroup_memory && MN_LOCAL_DATA_RLIMIT) {
    out->set_data_rlimit = 1;
    out->data_rlimit.rlim_cur = out->data_rlimit.rlim_max =
        bytes >= (double)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)bytes;
  }
  if (!l->cgroup_memory && !l->cgroup_cpu && !l->cgroup_track)
    return 0;

  int n = snprintf(out->cgroup, sizeof out->cgroup, "%s/mn-%s", l->dir, execution_id);
  if (n < 0 || (size_t)n >= sizeof out->cgroup) {
    out->cgroup[0] = '\0';
    snprintf(why, why_size, "the cgroup path is too long");
    return -ENAMETOOLONG;
  }
  /* A leaf already there is left from an earlier launch of this execution
   * that never ran (a daemon stopped in between) or from a provider
   * instance gone since: whatever it holds or is doing to it (a kill in
   * flight kills what is born there too), the worker gets a fresh one. */
  int made = mkdir(out->cgroup, 0755) == 0;
  if (!made && errno == EEXIST) {
    mn_local_cgroup_kill(out->cgroup);
    mn_local_cgroup_wait_empty(out->cgroup, MN_LOCAL_CGROUP_EMPTY_WAIT_MS);
    made = mn_local_cgroup_remove(out->cgroup) == 0 && mkdir(out->cgroup, 0755) == 0;
  }
  if (!made) {
    rc = -errno;
    snprintf(why, why_size, "cannot create cgroup %s: %s", out->cgroup, strerror(errno));
    out->cgroup[0] = '\0';
    return rc;
  }
  if (l->cgroup_cpu && vcpus > 0) {
    long long quota = (long long)(vcpus * CPU_PERIOD_US + 0.5);
    snprintf(value, sizeof value, "%lld %d", quota < 1000 ? 1000 : quota, CPU_PERIOD_US);
    rc = write_limit(out->cgroup, "cpu.max", value, 0, why, why_size);
  }
  if (rc == 0 && l->cgroup_memory && memory_gb > 0) {
    snprintf(value, sizeof value, "%.0f", bytes);
    rc = write_limit(out->cgroup, "memory.max", value, 0, why, why_size);
    if (rc == 0)
      rc = write_limit(out->cgroup, "memory.swap.max", "0", 1, why, why_size);
  }
  /* The child is born in it (common/child.h), or joins it through this. */
  if (rc == 0 && (out->cgroup_fd = open(out->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    rc = -errno;
    snprintf(why, why_size, "cannot open %s: %s", out->cgroup, strerror(errno));
  }
  if (rc != 0) {
    mn_local_cgroup_remove(out->cgroup);
    out->cgroup[0] = '\0';
  }
  return rc;
}

void mn_local_child_limits_release(struct mn_local_child_limits *child) {
  if (child->cgroup_fd >= 0)
    close(child->cgroup_fd);
  child->cgroup_fd = -1;
}

/* Before cgroup.kill (Linux 5.14): SIGKILL what cgroup.procs lists, until
 * it lists nothing (a process forking in between is caught next round). */
static int kill_listed(const char *cgroup) {
  char path[PATH_MAX];
  int rc = path_join(path, sizeof path, cgroup, "cgroup.procs");
  for (int round = 0; rc == 0 && round < 20; round++) {
    FILE *f = fopen(path, "re");
    long pid;
    int n = 0;
    if (!f)
      return -errno;
    while (fscanf(f, "%ld", &pid) == 1) {
      if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
        n++;
    }
    fclose(f);
    if (n == 0)
      break;
  }
  return rc;
}

int mn_local_cgroup_kill(const char *cgroup) {
  char path[PATH_MAX];
  int rc = path_join(path, sizeof path, cgroup, "cgroup.kill");
  if (rc != 0)
    return rc;
  rc = write_small(path, "1");
  if (rc == -ENOENT && access(cgroup, F_OK) == 0)
    rc = kill_listed(cgroup);
  return rc;
}

/* 1 when cgroup.events says "populated 0" (or the cgroup is gone). */
static int unpopulated(int fd) {
  char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 1;
  buf[n] = '\0';
  return strstr(buf, "populated 0") != NULL;
}

int mn_local_cgroup_wait_empty(const char *cgroup, int timeout_ms) {
  char path[PATH_MAX];
  if (path_join(path, sizeof path, cgroup, "cgroup.events") != 0)
    return -ENAMETOOLONG;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : -errno;
  /* the kernel signals a change of cgroup.events with POLLPRI */
  int rc = -ETIMEDOUT;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (unpopulated(fd)) {
      rc = 0;
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed >= timeout_ms)
      break;
    struct pollfd p = {.fd = fd, .events = POLLPRI};
    if (poll(&p, 1, (int)(timeout_ms - elapsed)) < 0 && errno != EINTR) {
      rc = -errno;
      break;
    }
  }
  close(fd);
  return rc;
}

int mn_local_cgroup_remove(const char *cgroup) {
  if (!cgroup || !cgroup[0] || rmdir(cgroup) == 0 || errno == ENOENT)
    return 0;
  return -errno;
}
