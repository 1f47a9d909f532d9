/* container_spec.h — what a worker container is: its name, its labels and
 * the body of POST /containers/create. Pure functions (unit-tested). */
#ifndef MN_DOCKER_CONTAINER_SPEC_H
#define MN_DOCKER_CONTAINER_SPEC_H

#include <jansson.h>
#include <stddef.h>

#include "multinode/provider.h"

#define MN_DOCKER_NAME_PREFIX "multinode-"
#define MN_DOCKER_ID_MAX 200 /* longest execution id accepted */

#define MN_DOCKER_LABEL_PROJECT "multinode.project"
#define MN_DOCKER_LABEL_VERSION "multinode.version_id"
#define MN_DOCKER_LABEL_FUNCTION "multinode.function"
#define MN_DOCKER_LABEL_INVOCATION "multinode.invocation_id"
#define MN_DOCKER_LABEL_EXECUTION "multinode.execution_id"
#define MN_DOCKER_LABEL_CLUSTER "multinode.cluster"

/* Seconds the engine waits after SIGTERM when it stops a container on its
 * own (terminate passes the daemon's grace explicitly). */
#define MN_DOCKER_STOP_TIMEOUT 1

struct mn_docker_spec_opts {
  const char *cluster_id;
  const char *network;         /* "host" or a network name */
  const char *const *binds;
  size_t n_binds;
  double max_vcpus; /* the engine's CPUs: NanoCpus is capped there (the engine
                       refuses more); 0: no cap */
};

/* The container of an execution: "multinode-<execution id>". The id must be
 * 1..MN_DOCKER_ID_MAX of [A-Za-z0-9_.-]; returns -1 otherwise. */
int mn_docker_container_name(const char *execution_id, char *out, size_t size);

/* The execution id of a container name made by mn_docker_container_name
 * ("/multinode-x" as the engine lists it, or "multinode-x"), or NULL. */
const char *mn_docker_name_execution(const char *name);

/* The create body (new reference), or NULL when out of memory. */
json_t *mn_docker_create_body(const struct mn_launch_spec *spec,
                              const struct mn_docker_spec_opts *opts);

#endif
