/* Names the calling thread, as ps -L, top -H, perf and /proc/<pid>/task/<tid>/comm
 * show it (docs/observability.md, "The daemon's threads"): a name of up to 15
 * bytes, longer ones cut. Best effort: a failure changes nothing else. */
#ifndef MN_UTIL_THREAD_NAME_H
#define MN_UTIL_THREAD_NAME_H

void mn_thread_name(const char *name);

#endif
