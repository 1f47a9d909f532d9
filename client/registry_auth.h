/* The credentials `multinode deploy` pushes with, for a registry named by
 * GET /container_repository_credentials: the answer's own login (ECR, whose
 * token the daemon fetched), else $MULTINODE_REGISTRY_USERNAME and
 * $MULTINODE_REGISTRY_PASSWORD, else the Docker config's "auths" entry of
 * the registry's host ($DOCKER_CONFIG/config.json, default
 * ~/.docker/config.json; "auth" only, no credential helpers), else none. */
#ifndef MN_CLI_REGISTRY_AUTH_H
#define MN_CLI_REGISTRY_AUTH_H

#include <stddef.h>

struct mn_registry_login {
  char server[256]; /* host[:port] of the repository */
  char username[256];
  char password[4096];
  const char *source; /* where they came from, for messages */
};

/* Fills OUT for REPOSITORY ("host[:port]/path"); API_USERNAME and
 * API_PASSWORD are the daemon's answer (may be empty). 0, or -1 with why
 * (a repository without a host, an unreadable Docker config). */
int mn_registry_login_find(const char *repository, const char *api_username,
                           const char *api_password, struct mn_registry_login *out, char *why,
                           size_t why_size);

/* Wipes the password. */
void mn_registry_login_clear(struct mn_registry_login *login);

#endif
