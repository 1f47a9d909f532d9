/* oom.c — read the memory cgroup's OOM-kill counter (see oom.h). */
#include "oom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long mn_oom_kills_parse(const char *text) {
  for (const char *p = text; (p = strstr(p, "oom_kill ")) != NULL; p++) {
    if (p != text && p[-1] != '\n')
      continue; /* e.g. "oom_kill_disable" is another line's key */
    char *end;
    long n = strtol(p + 9, &end, 10);
    return end != p + 9 && n >= 0 ? n : -1;
  }
  return -1;
}

/* A small file's text, read with open/read/close (no stdio: a buffer, an
 * fstat), NUL-terminated; the length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  ssize_t n;
  if (fd < 0)
    return -1;
  while (len + 1 < size && ((n = read(fd, buf + len, size - 1 - len)) > 0 ||
                            (n < 0 && errno == EINTR)))
    if (n > 0)
      len += (size_t)n;
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

static long read_counter(const char *path) {
  char buf[1024];
  return read_small(path, buf, sizeof buf) < 0 ? -1 : mn_oom_kills_parse(buf);
}

/* The path of this process's cgroup in the v2 hierarchy ("0::/x") or in v1's
 * memory controller ("N:memory:/x" or "N:...,memory,...:/x"), from the text
 * of /proc/self/cgroup. */
static int own_cgroup(const char *text, int v2, char *out, size_t size) {
  for (const char *line = text; *line;) {
    const char *nl = strchr(line, '\n');
    if (!nl)
      nl = line + strlen(line);
    const char *c1 = memchr(line, ':', (size_t)(nl - line));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
    if (c2) {
      const char *ctl = c1 + 1;
      size_t ctl_len = (size_t)(c2 - ctl);
      int match = 0;
      if (v2)
        match = ctl_len == 0;
      else
        for (const char *c = ctl; c < c2;) {
          const char *comma = memchr(c, ',', (size_t)(c2 - c));
          const char *stop = comma ? comma : c2;
          if (stop - c == 6 && memcmp(c, "memory", 6) == 0)
            match = 1;
          c = comma ? comma + 1 : c2;
        }
      if (match && (size_t)(nl - c2 - 1) < size) {
        memcpy(out, c2 + 1, (size_t)(nl - c2 - 1));
        out[nl - c2 - 1] = '\0';
        return 1;
      }
    }
    line = *nl ? nl + 1 : nl;
  }
  return 0;
}

/* The counter, from the file found at the first call (the worker's cgroup
 * does not change while it runs): /proc/self/cgroup is read once, and the
 * second call, after a SIGKILL, reads only the counter. */
long mn_oom_kills(void) {
  static char path[8192];
  static int found = -1;
  char text[4096], cg[4096];
  long n;
  if (found >= 0)
    return found ? read_counter(path) : -1;
  found = 0;
  if (read_small("/proc/self/cgroup", text, sizeof text) < 0)
    return -1;
  /* cgroup v2: our group (the root of a container's own namespace is "/") */
  if (own_cgroup(text, 1, cg, sizeof cg)) {
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.events", strcmp(cg, "/") ? cg : "");
    if ((n = read_counter(path)) >= 0)
      return found = 1, n;
  }
  /* cgroup v1: the memory controller's group, or its mount's root inside a
   * container (where /proc/self/cgroup still shows the host's path) */
  if (own_cgroup(text, 0, cg, sizeof cg)) {
    snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.oom_control",
             strcmp(cg, "/") ? cg : "");
    if ((n = read_counter(path)) >= 0)
      return found = 1, n;
    snprintf(path, sizeof path, "/sys/fs/cgroup/memory/memory.oom_control");
    if ((n = read_counter(path)) >= 0)
      return found = 1, n;
  }
  return -1;
}
