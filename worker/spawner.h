/* `multinode-worker --spawner`: the local provider's pre-started worker
 * spawner ("zygote"). Started once per provider instance with its control
 * socket as standard input (multinode/spawner.h has the wire format), it
 * forks one fresh process per execution, which sets itself up as the local
 * provider's fork + exec path would (own session, cgroup, stdin /dev/null,
 * stdout and stderr to the log, no other descriptor), waits for the
 * provider's go, takes the request's environment and then runs the worker
 * in-process — without exec, so without loading 30-odd shared libraries
 * again. It reaps its children and reports their exit statuses; it exits at
 * end-of-file on the control socket, leaving its children running. */
#ifndef MN_WORKER_SPAWNER_H
#define MN_WORKER_SPAWNER_H

/* What a spawned child runs: the worker's main, with the request's argv
 * (argv[argc] == NULL) and environment. Returns the exit status. */
typedef int mn_spawner_run_fn(int argc, char **argv);

/* The spawner loop; argv is main's (its memory is reused for each child's
 * command line as ps shows it). Returns the spawner's exit status. */
int mn_spawner_main(char **argv, mn_spawner_run_fn *run);

#endif
