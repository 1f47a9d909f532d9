/* The daemon's error codes live in the common library
 * (multinode/common/error.h), shared with the CLI and the providers; core/
 * keeps including them by this name. */
#ifndef MN_UTIL_ERROR_H
#define MN_UTIL_ERROR_H
#include "multinode/common/error.h"
#endif
