/* Joining file-system paths. */
#ifndef MN_UTIL_PATH_H
#define MN_UTIL_PATH_H

/* "dir/file", malloc'ed (the caller frees it); NULL when out of memory. */
char *mn_path_join(const char *dir, const char *file);

#endif
