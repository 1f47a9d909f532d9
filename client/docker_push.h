/* Pushes an image from a Docker Engine to its registry (Engine API POST
 * /images/{name}/push with X-Registry-Auth, over the engine of $DOCKER_HOST,
 * unix://PATH only, or /var/run/docker.sock), for `multinode deploy` on a
 * container provider. Progress goes to stderr: each layer's progress on one
 * line on a terminal, the steps only otherwise. */
#ifndef MN_CLI_DOCKER_PUSH_H
#define MN_CLI_DOCKER_PUSH_H

#include <stddef.h>

/* Pushes IMAGE (REPOSITORY:TAG, as built) with USERNAME and PASSWORD for
 * SERVER (the registry's host[:port]; empty strings: no credentials). 0 with
 * the pushed manifest's digest ("sha256:...") in DIGEST, or -1 with why. */
int mn_docker_push(const char *image, const char *username, const char *password,
                   const char *server, char *digest, size_t digest_size, char *why,
                   size_t why_size);

#endif
