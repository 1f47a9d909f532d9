/* procstate.h — what /proc says about a process: identity (pid + start
 * time, field 22 of /proc/<pid>/stat) and liveness. */
#ifndef MN_LOCAL_PROCSTATE_H
#define MN_LOCAL_PROCSTATE_H

#include <stdint.h>
#include <sys/types.h>

struct mn_local_procstat {
  char state;          /* field 3: R, S, D, Z, X, ... */
  pid_t pgrp;          /* field 5 */
  pid_t session;       /* field 6 */
  uint64_t start_time; /* field 22, clock ticks since boot */
};

/* Reads /proc/<pid>/stat. Returns 0, or -1 when the process does not exist
 * (or the file cannot be parsed). */
int mn_local_procstat_read(pid_t pid, struct mn_local_procstat *out);

/* 1 when pid is a live (not zombie) process started at start_time, else 0. */
int mn_local_proc_is_alive(pid_t pid, uint64_t start_time);

/* Sends sig to every process of session sid (the worker and whatever its
 * command started in other process groups of the same session). */
void mn_local_kill_session(pid_t sid, int sig);

#endif
