/* From how the command ended to what /finish reports (docs/architecture.md §6):
 * - exit 0: SUCCEEDED with its standard output as final_output (one
 *   trailing newline removed; an empty output is sent as null, which keeps
 *   the last progress output); an output the API cannot take is FAILED;
 * - a termination signal was forwarded and the command then exited 0 or died
 *   of a forwarded signal: ABORTED (exit 0 still sends its output);
 * - killed by the OOM killer at the memory limit: FAILED "out of memory: ...";
 * - otherwise FAILED with the error_message the command wrote to its report
 *   pipe (run.h), else the tail of standard error as error_message, or
 *   "exited with code N" / "killed by signal N" when it wrote none. */
#ifndef MN_WORKER_REPORT_H
#define MN_WORKER_REPORT_H

#include "run.h"

struct mn_report {
  const char *outcome; /* "SUCCEEDED", "FAILED" or "ABORTED" */
  const char *final_output; /* borrowed from the run result, or NULL */
  char *error_message;      /* heap, non-NULL exactly when FAILED */
};

/* argv0 names the command in messages. 0, or -1 when out of memory. */
int mn_report_decide(struct mn_run_result *r, const char *argv0, struct mn_report *out);
void mn_report_release(struct mn_report *o);

#endif
