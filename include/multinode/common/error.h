/* Error codes: one table, one enum, one lookup, in the common library
 * (docs/architecture.md §1.1) so the YAML tree and the duration grammar can
 * report through them; core/ includes this as util/error.h.
 *
 * Every fallible function returns 0 or a negative MN_E* code; the human
 * detail travels separately in a struct mn_error.  The API domain errors of
 * the original control plane are part of the same table, so a store function
 * can return MN_EPROJECT_NOT_FOUND and the API maps it to 404 with the exact
 * wire `detail` string without a second table. */
#ifndef MN_COMMON_ERROR_H
#define MN_COMMON_ERROR_H

#include <stdarg.h>

/* X(code, http status, wire name, detail string) */
#define MN_ERROR_MAP(X)                                                          \
  X(EINVAL, 422, "InvalidInput", "The request is invalid")                     \
  X(ENOMEM, 500, "OutOfMemory", "The server ran out of memory")               \
  X(EINTERNAL, 500, "InternalError", "Internal Server Error")                  \
  X(EUNAVAILABLE, 503, "StoreUnavailable", "The database is unavailable")      \
  X(ECONFIG, 500, "ConfigInvalid", "The configuration is invalid")             \
  X(EIO, 500, "IoError", "An input/output error occurred")                     \
  X(ETOOLARGE, 413, "PayloadTooLarge", "The request body is too large")        \
  X(ENOTFOUND_ROUTE, 404, "NotFound", "Not Found")                             \
  X(EMETHOD, 405, "MethodNotAllowed", "Method Not Allowed")                    \
  X(ENOT_AUTHENTICATED, 403, "NotAuthenticated", "Not authenticated")          \
  X(EBAD_CREDENTIALS, 403, "InvalidCredentials",                               \
    "Invalid authentication credentials")                                      \
  X(EAPI_KEY_INVALID, 403, "ApiKeyIsInvalid", "The API key is invalid")        \
  X(EOFFSET_INVALID, 400, "OffsetIsInvalid",                                   \
    "The next offset is in an invalid format")                                 \
  X(EPARENT_FUNCTION_MISSING, 400, "ParentFunctionNameIsMissing",              \
    "The parent function name is missing")                                     \
  X(EPROJECT_NAME_TOO_LONG, 400, "ProjectNameIsTooLong",                       \
    "The project name is too long")                                            \
  X(EPROJECT_BEING_DELETED, 400, "ProjectIsBeingDeleted",                      \
    "The project is being deleted")                                            \
  X(EPARENT_INVOCATION_MISSING, 400, "ParentInvocationIdIsMissing",            \
    "The parent invocation ID is missing")                                     \
  X(EEXECUTION_EXISTS, 409, "ExecutionAlreadyExists",                          \
    "An execution with this ID already exists for this invocation")            \
  X(EEXECUTION_NOT_FOUND, 404, "ExecutionDoesNotExist",                        \
    "An execution with this ID does not exist for this invocation")            \
  X(EEXECUTION_STARTED, 409, "ExecutionHasAlreadyStarted",                     \
    "This execution has already started")                                      \
  X(EEXECUTION_NOT_STARTED, 409, "ExecutionHasNotStarted",                     \
    "This execution has not yet started")                                      \
  X(EEXECUTION_FINISHED, 409, "ExecutionHasAlreadyFinished",                   \
    "This execution has already finished")                                     \
  X(EEXECUTION_NOT_FINISHED, 409, "ExecutionHasNotFinished",                   \
    "This execution has not yet finished")                                     \
  X(EEXECUTION_TERMINATED, 409, "ExecutionIsAlreadyTerminated",                \
    "This execution has already terminated")                                   \
  X(EINVOCATION_EXISTS, 409, "InvocationAlreadyExists",                        \
    "An invocation with this ID already exists for this function")             \
  X(EIDEMPOTENCY_CONFLICT, 409, "IdempotencyKeyConflict",                     \
    "An invocation with this idempotency key exists with a different input")    \
  X(EINVOCATION_NOT_FOUND, 404, "InvocationDoesNotExist",                      \
    "An invocation with this ID does not exist for this function")             \
  X(EINVOCATION_TERMINATED, 409, "InvocationIsAlreadyTerminated",              \
    "This invocation has already terminated")                                  \
  X(EPARENT_NOT_FOUND, 400, "ParentInvocationDoesNotExist",                    \
    "The ID of the parent invocation is invalid")                              \
  X(EFUNCTION_EXISTS, 409, "FunctionAlreadyExists",                            \
    "A function with this name already exists for this project version")       \
  X(EFUNCTION_NOT_FOUND, 404, "FunctionDoesNotExist",                          \
    "A function with this name does not exist for this project version")       \
  X(EVERSION_EXISTS, 409, "VersionAlreadyExists",                              \
    "A version with this ID already exists for this project")                  \
  X(EVERSION_NOT_FOUND, 404, "VersionDoesNotExist",                            \
    "A version with this ID does not exist for this project")                  \
  X(EPROJECT_EXISTS, 409, "ProjectAlreadyExists",                              \
    "A project with this name already exists.")                                \
  X(EPROJECT_NOT_FOUND, 404, "ProjectDoesNotExist",                            \
    "A project with this name does not exist")

enum mn_errno {
  MN_OK = 0,
#define MN_X_ENUM(code, status, name, detail) MN_##code,
  MN__EFIRST = -1000,
  MN_ERROR_MAP(MN_X_ENUM)
#undef MN_X_ENUM
  MN__ELAST
};

/* The detail of a failure: a code plus a message for people. */
struct mn_error {
  int code;
  char msg[512];
};

const char *mn_strerror(int code);     /* the wire `detail` string */
const char *mn_errname(int code);      /* e.g. "ProjectDoesNotExist" */
int mn_error_http_status(int code);    /* e.g. 404; 500 for unknown codes */

/* Sets err (when not NULL) and returns code, so call sites read
 * `return mn_fail(err, MN_EINVAL, "bad %s", what);` */
int mn_fail(struct mn_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mn_vfail(struct mn_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void mn_error_clear(struct mn_error *err);

#endif
