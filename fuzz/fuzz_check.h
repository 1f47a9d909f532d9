/* The harnesses' assertion: a promise of the code under test that does not
 * hold is a finding, so it aborts (libFuzzer saves the input as a crash)
 * whatever NDEBUG says. */
#ifndef MN_FUZZ_CHECK_H
#define MN_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                     \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);        \
      abort();                                                                          \
    }                                                                                   \
  } while (0)

#endif
