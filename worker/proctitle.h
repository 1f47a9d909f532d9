/* The command line a process shows (/proc/PID/cmdline, ps, pgrep -f),
 * rewritten in place the way setproctitle(3) does: the kernel shows the
 * rewritten text once the last byte of the original arguments is no longer
 * NUL. A spawned worker shows its own command line this way, as if it had
 * been exec'd with it. Process-wide state: one call to init, from main. */
#ifndef MN_WORKER_PROCTITLE_H
#define MN_WORKER_PROCTITLE_H

/* Notes the memory of main's argv and of the initial environment, which
 * must follow it. Call before anything changes environ. */
void mn_proctitle_init(char **argv);

/* Shows argv (joined with spaces, cut to the room there is). The initial
 * environment strings are overwritten: point environ elsewhere first. */
void mn_proctitle_set(char *const *argv);

#endif
