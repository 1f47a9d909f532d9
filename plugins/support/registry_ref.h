/* The `registry` key of the container providers (docs/docker.md "A
 * registry", docs/k8s.md): HOST[:PORT]/REPOSITORY, where `multinode deploy`
 * pushes its images. HOST has a dot or a port, or is "localhost" (as Docker
 * tells a registry from a Docker Hub user); no tag, no digest. Shared by
 * every provider that takes the key. */
#ifndef MN_SUPPORT_REGISTRY_REF_H
#define MN_SUPPORT_REGISTRY_REF_H

/* 1 when TEXT is such a repository, else 0. */
int mn_support_registry_valid(const char *text);

/* The message for a value that is not, with %s for the value. */
#define MN_SUPPORT_REGISTRY_HINT                                                              \
  "\"%s\" is not HOST[:PORT]/REPOSITORY (e.g. registry.example.com:5000/multinode; no tag)"

#endif
