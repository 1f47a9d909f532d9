/* workdir.h — the private working directory of each execution:
 * <data_dir>/<provider>/work/<execution_id>, mode 0700, owned by the
 * workers' user (worker_user.h). The worker starts there and HOME points
 * there (unless the function sets HOME). It is kept, like the execution's
 * record and log, until providers.<name>.retention has passed after the
 * worker's release, then removed with what the command left in it.
 *
 * Everything above it is the daemon's: <data_dir> and <data_dir>/<provider>
 * and .../work are mode 0711 when the workers run as another user (they may
 * pass through, never list or read), the records and logs 0600. */
#ifndef MN_LOCAL_WORKDIR_H
#define MN_LOCAL_WORKDIR_H

#include <stddef.h>

#include "worker_user.h"

/* Creates (or, after a crash, takes over) root/id for the identity; its
 * path in out. 0, or a negative errno with why. */
int mn_local_workdir_create(const char *root, const char *id, const struct mn_local_identity *idn,
                            char *out, size_t size, char *why, size_t why_size);

/* Removes root/name and everything in it, never following a symbolic link
 * (its owner may still run processes that swap a directory for a link: all
 * work is relative to open directory descriptors), however deep. A missing
 * one is success. 0 or a negative errno. */
int mn_local_tree_remove(const char *root, const char *name);

#endif
