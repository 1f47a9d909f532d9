/* procstate.c — parse /proc/<pid>/stat. */
#include "procstate.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mn_local_procstat_read(pid_t pid, struct mn_local_procstat *out) {
  char path[64];
  char buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n;
  do {
    n = read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';

  /* The command name (field 2) is in parentheses and may itself hold spaces
   * and parentheses: the fields resume after the LAST ')'. */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ')
    return -1;
  p += 2;
  /* p now points at field 3. */
  int field = 3;
  char *save = NULL;
  memset(out, 0, sizeof *out);
  for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
    switch (field) {
    case 3: out->state = tok[0]; break;
    case 5: out->pgrp = (pid_t)strtol(tok, NULL, 10); break;
    case 6: out->session = (pid_t)strtol(tok, NULL, 10); break;
    case 22: out->start_time = strtoull(tok, NULL, 10); return 0;
    default: break;
    }
  }
  return -1;
}

int mn_local_proc_is_alive(pid_t pid, uint64_t start_time) {
  struct mn_local_procstat st;
  if (pid <= 0 || mn_local_procstat_read(pid, &st) != 0)
    return 0;
  if (st.start_time != start_time)
    return 0; /* the pid was reused by another process */
  return st.state != 'Z' && st.state != 'X' && st.state != 'x';
}

void mn_local_kill_session(pid_t sid, int sig) {
  DIR *d = opendir("/proc");
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    struct mn_local_procstat st;
    if (*end || pid <= 0 || mn_local_procstat_read((pid_t)pid, &st) != 0)
      continue;
    if (st.session == sid)
      kill((pid_t)pid, sig);
  }
  closedir(d);
}
