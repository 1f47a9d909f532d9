/* terminate.c — StopTask with a reason. ECS sends SIGTERM and, after the
 * task definition's stopTimeout (the stop_timeout key), SIGKILL; the grace
 * the daemon asks for cannot be set per call. */
#include <stdio.h>
#include <string.h>

#include "ecs.h"

int mn_ecs_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                     struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  json_t *resp = NULL;
  if (strncmp(ref->identifier, "arn:", 4) != 0)
    return 0; /* never a task: nothing runs */
  if (grace_seconds != e->conf.stop_timeout)
    e->host->log(e->host, MN_HOST_LOG_DEBUG,
                 "task %s: the grace of %d s is the task definition's stopTimeout %d s on ECS",
                 ref->identifier, grace_seconds, (int)e->conf.stop_timeout);
  json_t *req = json_pack("{s:s, s:s, s:s}", "cluster", e->conf.cluster, "task", ref->identifier,
                          "reason", "Stopped by Multinode (cancelled or timed out)");
  if (!req)
    return e->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  int rc = mn_ecs_call(e, MN_ECS_SVC_ECS, "StopTask", req, &resp, err);
  json_decref(req);
  json_decref(resp);
  /* A task ECS no longer knows has stopped: terminating it is success. */
  if (rc == MN_PROVIDER_E_INVALID && strstr(err->msg, "task was not found")) {
    err->code = 0;
    err->msg[0] = '\0';
    rc = 0;
  }
  return rc;
}
