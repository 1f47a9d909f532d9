/* container_state.c — Docker container states as worker states. */
#include "container_state.h"

#include <stdio.h>
#include <string.h>

int mn_docker_phase_of(const char *state) {
  if (!state)
    return MN_WORKER_PHASE_MISSING;
  if (strcmp(state, "created") == 0)
    return MN_WORKER_PHASE_PENDING;
  if (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0 ||
      strcmp(state, "restarting") == 0)
    return MN_WORKER_PHASE_RUNNING;
  if (strcmp(state, "exited") == 0 || strcmp(state, "dead") == 0 ||
      strcmp(state, "removing") == 0)
    return MN_WORKER_PHASE_EXITED;
  return MN_WORKER_PHASE_MISSING;
}

void mn_docker_state_from_json(const json_t *state, struct mn_worker_state *out) {
  const char *status = json_string_value(json_object_get(state, "Status"));
  const char *error = json_string_value(json_object_get(state, "Error"));
  json_t *code = json_object_get(state, "ExitCode");

  memset(out, 0, sizeof *out);
  out->exit_code = -1;
  out->phase = mn_docker_phase_of(status);
  if (out->phase == MN_WORKER_PHASE_MISSING) {
    snprintf(out->reason, sizeof out->reason, "unknown container state \"%s\"",
             status ? status : "");
    return;
  }
  if (out->phase != MN_WORKER_PHASE_EXITED)
    return;
  if (json_is_integer(code))
    out->exit_code = (int)json_integer_value(code);
  if (json_is_true(json_object_get(state, "OOMKilled")))
    snprintf(out->reason, sizeof out->reason, "%s", MN_DOCKER_OOM_REASON);
  else if (error && error[0])
    snprintf(out->reason, sizeof out->reason, "%.250s", error);
  else if (strcmp(status, "dead") == 0)
    snprintf(out->reason, sizeof out->reason, "the container is dead");
}
