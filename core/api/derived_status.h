/* The derived status of an invocation (PENDING, RUNNING, CANCELLING,
 * SUCCEEDED, FAILED, CANCELLED, TIMED OUT), decided on the server exactly as
 * the original client decides it (docs/compatibility.md §6.4), for event
 * streams and for GET ...?wait_seconds=N, which answers once it is finished. */
#ifndef MN_API_DERIVED_STATUS_H
#define MN_API_DERIVED_STATUS_H

#include <jansson.h>
#include <stdbool.h>

#include "store/model.h"

const char *mn_derived_status(const struct mn_invocation *inv);
/* The same from the JSON snapshot the store writes with each invocation
 * event (times in microseconds; keys as in migration 8). */
const char *mn_derived_status_json(const json_t *snapshot);
/* SUCCEEDED, FAILED, CANCELLED or TIMED OUT. */
bool mn_derived_status_finished(const char *status);

#endif
