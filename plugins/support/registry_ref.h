/* The `registry` key of the container providers (docs/docker.md "A
 * registry", docs/k8s.md): HOST[:PORT]/REPOSITORY, where `multinode deploy`
 * pushes its images. HOST has a dot or a port, or is "localhost" (as Docker
 * tells a registry from a Docker Hub user); no tag, no digest. Shared by
 * every provider that takes the key. */
#ifndef MN_SUPPORT_REGISTRY_REF_H
#define MN_SUPPORT_REGISTRY_REF_H

/* 1 when TEXT is such a repository, else 0. */
int mn_support_registry_valid(const char *text);

/* What a value that is not one is not. */
#define MN_SUPPORT_REGISTRY_WHY                                                               \
  "is not HOST[:PORT]/REPOSITORY (e.g. registry.example.com:5000/multinode; no tag)"
/* The message for a value that is not, with %s for the value. */
#define MN_SUPPORT_REGISTRY_HINT "\"%s\" " MN_SUPPORT_REGISTRY_WHY

#include <stddef.h>
/* The key's check in a provider's key table (struct mn_config_key.check). */
int mn_support_registry_check(const char *text, char *why, size_t why_size);

#endif
