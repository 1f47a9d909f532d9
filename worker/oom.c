/* oom.c — read the memory cgroup's OOM-kill counter (see oom.h). */
#include "oom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static long read_counter(const char *path) {
  char buf[1024];
  FILE *f = fopen(path, "re");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return mn_oom_kills_parse(buf);
}

/* The path of this process's cgroup in the v2 hierarchy ("0::/x") or in v1's
 * memory controller ("N:memory:/x" or "N:...,memory,...:/x"). */
static int own_cgroup(int v2, char *out, size_t size) {
  char line[4096];
  int found = 0;
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f)
    return 0;
  while (!found && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c2 = '\0';
    const char *controllers = c1 + 1;
    if (v2 ? controllers[0] == '\0'
           : (strcmp(controllers, "memory") == 0 || strstr(controllers, ",memory") ||
              strncmp(controllers, "memory,", 7) == 0))
      found = snprintf(out, size, "%s", c2 + 1) < (int)size;
  }
  fclose(f);
  return found;
}

long mn_oom_kills(void) {
  char cg[4096], path[8192];
  long n;
  /* cgroup v2: our group (the root of a container's own namespace is "/") */
  if (own_cgroup(1, cg, sizeof cg)) {
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.events", strcmp(cg, "/") ? cg : "");
    if ((n = read_counter(path)) >= 0)
      return n;
  }
  /* cgroup v1: the memory controller's group, or its mount's root inside a
   * container (where /proc/self/cgroup still shows the host's path) */
  if (own_cgroup(0, cg, sizeof cg)) {
    snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.oom_control",
             strcmp(cg, "/") ? cg : "");
    if ((n = read_counter(path)) >= 0)
      return n;
    if ((n = read_counter("/sys/fs/cgroup/memory/memory.oom_control")) >= 0)
      return n;
  }
  return -1;
}
