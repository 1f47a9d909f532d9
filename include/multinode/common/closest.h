/* "Did you mean": the name nearest to a misspelt one (edit distance), shared
 * by the CLI (unknown options, projects, functions) and the daemon (unknown
 * provider keys). libc only. */
#ifndef MN_COMMON_CLOSEST_H
#define MN_COMMON_CLOSEST_H

#include <stddef.h>

/* The name of names[0..n) (NULL entries skipped) nearest to WORD: within a
 * third of WORD's length (at least 2 edits), a prefix of 3+ characters
 * counting as 1; NULL when none is that near or WORD is one of them. */
const char *mn_closest_name(const char *word, const char *const *names, size_t n);

#endif
