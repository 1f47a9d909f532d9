/* container_state.h — a container's State object as a worker state. Pure
 * (unit-tested). */
#ifndef MN_DOCKER_CONTAINER_STATE_H
#define MN_DOCKER_CONTAINER_STATE_H

#include <jansson.h>

#include "multinode/provider.h"

/* The reason given for a container the kernel killed for memory. */
#define MN_DOCKER_OOM_REASON "out of memory (the container exceeded its memory limit)"

/* From GET /containers/{id}/json's "State" object. */
void mn_docker_state_from_json(const json_t *state, struct mn_worker_state *out);

/* From the list call's "State" string alone (no exit code). */
int mn_docker_phase_of(const char *state);

#endif
