/* The project manifest: DIR/multinode.yaml, what `multinode deploy` and
 * `multinode upgrade` turn into a version definition.
 *
 *     # default image of every function (container providers; the local
 *     # provider ignores it)
 *     image: multinode-worker:local
 *     functions:
 *       run_expensive_task:
 *         command: ["sh", "${PROJECT_DIR}/task.sh"]   # argv list, or a string run with sh -c
 *         provider: local          # optional: the daemon's default provider
 *         image: other:tag         # optional: overrides the default image
 *         cpu: 4                   # vCPUs, default 0.1
 *         memory: 16 GiB           # a size with a unit (KiB/MiB/GiB/TiB, K/M/G/T), default 256 MiB
 *         max_retries: 1           # default 0
 *         max_concurrency: 10      # default 10
 *         timeout: 1h              # a duration ("90s", "1h30m", "1m 30s"), default 1h
 *         env: { KEY: value }      # optional
 *
 * Durations and sizes follow the one grammar of multinode/common/duration.h
 * (docs/architecture.md, "The common library").
 *
 * Every problem is reported, each as one line
 *     FILE:LINE:COL: key.path: message
 * (FILE is DIR/multinode.yaml as given; LINE and COL are 1-based and point
 * at the key whose value is wrong, or at the list item). Unknown keys are
 * problems; a syntax error or a duplicate key is the one problem reported. The
 * bounds are the server's (multinode/common/limits.h), with the server's
 * rule for lengths (a name of 1024 characters is refused).
 *
 * "${PROJECT_DIR}" in command strings and env values is replaced by the
 * absolute path of DIR; relative paths are not resolved otherwise.
 *
 * Needs libyaml: only the `multinode` executable links this file, never
 * libmultinode-client. */
#ifndef MN_CLI_MANIFEST_H
#define MN_CLI_MANIFEST_H

#include <stddef.h>

#include "multinode/client.h"

#define MN_MANIFEST_FILE "multinode.yaml"

struct mn_manifest {
  char *file;        /* DIR/multinode.yaml, as named in messages */
  char *project_dir; /* the absolute path of DIR */
  char *image;       /* the default image ("" when not given) */
  /* The functions in file order. Their strings, command and env arrays
   * (NULL-terminated; env items are "KEY=VALUE") belong to the manifest. */
  struct mn_client_function_spec *functions;
  size_t n_functions;
  /* The problems found, one message per line, in file order. */
  char **errors;
  size_t n_errors;
};

/* Reads and checks DIR/multinode.yaml. Returns 0 when the manifest is
 * valid, -1 otherwise: then m->errors holds why (a missing file, a syntax
 * error, or every problem found). m is always to be released. */
int mn_manifest_load(const char *dir, struct mn_manifest *m);
void mn_manifest_release(struct mn_manifest *m);

/* The version definition of a valid manifest (borrowing from it). */
struct mn_client_version_definition mn_manifest_definition(const struct mn_manifest *m);

#endif
