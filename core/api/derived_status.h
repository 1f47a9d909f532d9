/* The derived status of an invocation (common/derived_status.h, the one
 * implementation of docs/compatibility.md §6.4), decided on the server for
 * event streams and for GET ...?wait_seconds=N, which answers once it is
 * finished: the daemon's two inputs turned into its facts. */
#ifndef MN_API_DERIVED_STATUS_H
#define MN_API_DERIVED_STATUS_H

#include <jansson.h>

#include "multinode/common/derived_status.h"
#include "store/model.h"

enum mn_derived mn_derived_status(const struct mn_invocation *inv);
/* The same from the JSON snapshot the store writes with each invocation
 * event (times in microseconds; keys as in migration 8). */
enum mn_derived mn_derived_status_json(const json_t *snapshot);

#endif
