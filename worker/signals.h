/* Signals of the worker process, turned into bytes on a self-pipe that the
 * run loop polls: SIGTERM and SIGINT (to forward to the command, once per
 * arrival) and SIGCHLD (the command ended). SIGPIPE is ignored, so a command
 * that does not read its input cannot kill the worker. Process-wide state:
 * install once, from main. */
#ifndef MN_WORKER_SIGNALS_H
#define MN_WORKER_SIGNALS_H

/* 0, or -errno. */
int mn_signals_install(void);

/* In a child about to exec (run.c), with every signal blocked: the
 * dispositions changed here (SIGPIPE, SIGTERM, SIGINT, SIGCHLD) back to
 * SIG_DFL. The worker changes no other; async-signal-safe. */
void mn_signals_child_defaults(void);

/* The read end of the self-pipe (non-blocking): poll it for POLLIN. */
int mn_signals_fd(void);

/* The next signal that arrived, in order of arrival; 0 when none is
 * pending. */
int mn_signals_next(void);

/* The first termination signal (SIGTERM or SIGINT) that arrived, 0 when
 * none has. */
int mn_signals_termination(void);

#endif
