/* The worker's own log lines: stderr (the worker's log, which the daemon's
 * logs endpoint serves), each prefixed "multinode-worker: ". */
#ifndef MN_WORKER_LOG_H
#define MN_WORKER_LOG_H

void mn_worker__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
