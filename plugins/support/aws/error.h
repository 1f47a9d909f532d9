/* aws/error.h — what an AWS error answer means for the daemon (provider
 * toolkit, plugins/support/aws). */
#ifndef MN_AWS_ERROR_H
#define MN_AWS_ERROR_H

#include <stddef.h>

/* The provider error code (MN_PROVIDER_E_*) for an AWS JSON-protocol error:
 * the HTTP status and the error type (the __type of the body, with or
 * without its "namespace#" prefix; NULL when the body had none).
 * Throttling, 5xx and server-side faults are TRANSIENT; refused
 * credentials AUTH; a missing resource NOT_FOUND; invalid requests and
 * other 4xx INVALID. */
int mn_aws_error_code(long http_status, const char *aws_type);

/* Copies the bare error type of a __type value ("ns#Type" or
 * "Type:http://..." -> "Type") into out. */
void mn_aws_error_type(const char *raw, char *out, size_t size);

#endif
