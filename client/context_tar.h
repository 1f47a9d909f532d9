/* The build context of a project folder with its own Dockerfile: the folder
 * as a tar (libarchive), for `multinode deploy` on a container provider.
 * Every entry is made reproducible (mtime 0, owner 0:0, no names), so the
 * same content gives the same tar, and the same image tag. */
#ifndef MN_CLI_CONTEXT_TAR_H
#define MN_CLI_CONTEXT_TAR_H

#include <stddef.h>

/* Writes DIR (without its .git) to OUT_TAR, paths relative to DIR, and puts
 * the first 24 hex digits of the tar's SHA-256 in HASH (25 bytes). 0, or
 * -1 with why. */
int mn_context_tar(const char *dir, const char *out_tar, char hash[25], char *why,
                   size_t why_size);

#endif
