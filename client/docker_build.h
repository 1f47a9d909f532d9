/* Builds an image on a Docker Engine from a build-context tar (Engine API
 * POST /build over the engine's unix socket, with libcurl), for
 * `multinode deploy` of a Python project on a container provider. The
 * engine is $DOCKER_HOST (unix://PATH only) or /var/run/docker.sock. */
#ifndef MN_CLI_DOCKER_BUILD_H
#define MN_CLI_DOCKER_BUILD_H

#include <stddef.h>

/* Builds CONTEXT_TAR (its Dockerfile at the root) as TAG. The engine's
 * build output goes to stderr. 0, or -1 with why in WHY. */
int mn_docker_build(const char *context_tar, const char *tag, char *why, size_t why_size);

/* The image tag of a deployed folder: REPOSITORY:<project>-<first 24 hex
 * digits of HASH>, the project name cut to what a tag may hold (64
 * characters, others as '_'): the same content gives the same tag. */
void mn_docker_image_tag(char *buf, size_t size, const char *repository, const char *project,
                         const char *hash);

#endif
