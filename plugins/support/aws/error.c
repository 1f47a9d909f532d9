/* error.c — classify AWS errors (see aws/error.h). The type names are
 * the ones AWS's SDKs treat as throttling and as transient, plus the
 * services' own (ECS ServerException, CloudWatch Logs
 * ServiceUnavailableException). */
#include "error.h"

#include <string.h>

#include <multinode/provider.h>

#include "http.h"

static const char *const transient_types[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException", /* CloudWatch Logs: too many concurrent requests */
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalServerError",
    "InternalError",
    "IDPCommunicationError",
};

static const char *const auth_types[] = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "AuthFailure",
    "NotAuthorized",
};

static const char *const not_found_types[] = {
    "ResourceNotFoundException",
};

static int in(const char *type, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(type, list[i]) == 0)
      return 1;
  return 0;
}
#define IN(type, list) in(type, list, sizeof list / sizeof list[0])

void mn_aws_error_type(const char *raw, char *out, size_t size) {
  if (!size)
    return;
  out[0] = '\0';
  if (!raw)
    return;
  const char *hash = strrchr(raw, '#');
  const char *start = hash ? hash + 1 : raw;
  size_t n = strcspn(start, ":");
  if (n >= size)
    n = size - 1;
  memcpy(out, start, n);
  out[n] = '\0';
}

int mn_aws_error_code(long http_status, const char *aws_type) {
  char type[128];
  mn_aws_error_type(aws_type, type, sizeof type);
  if (type[0]) {
    if (IN(type, transient_types))
      return MN_PROVIDER_E_TRANSIENT;
    if (IN(type, auth_types))
      return MN_PROVIDER_E_AUTH;
    if (IN(type, not_found_types))
      return MN_PROVIDER_E_NOT_FOUND;
  }
  /* AWS names a missing resource by its type: a bare 404 or 410 is a
   * request that cannot succeed */
  static const struct mn_http_status_rule aws[] = {
      {404, MN_PROVIDER_E_INVALID}, {410, MN_PROVIDER_E_INVALID}, {0, 0}};
  int code = mn_http_status_code(http_status, aws);
  return code == MN_PROVIDER_OK ? MN_PROVIDER_E_INVALID : code;
}
