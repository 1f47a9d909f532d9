/* Client error codes, and typed API errors rebuilt from (status, detail)
 * with the catalogue of docs/compatibility.md §2.2 — as the original client does. */
#include "client_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api_error {
  int status;
  const char *name;
  const char *detail;
};

/* docs/compatibility.md §2.2, byte for byte, plus the framework's own answers */
static const struct api_error catalogue[] = {
    {403, "ApiKeyIsInvalid", "The API key is invalid"},
    {400, "OffsetIsInvalid", "The next offset is in an invalid format"},
    {400, "ParentFunctionNameIsMissing", "The parent function name is missing"},
    {400, "ProjectNameIsTooLong", "The project name is too long"},
    {400, "ProjectIsBeingDeleted", "The project is being deleted"},
    {400, "ParentInvocationIdIsMissing", "The parent invocation ID is missing"},
    {409, "ExecutionAlreadyExists",
     "An execution with this ID already exists for this invocation"},
    {404, "ExecutionDoesNotExist", "An execution with this ID does not exist for this invocation"},
    {409, "ExecutionHasAlreadyStarted", "This execution has already started"},
    {409, "ExecutionHasNotStarted", "This execution has not yet started"},
    {409, "ExecutionHasAlreadyFinished", "This execution has already finished"},
    {409, "ExecutionHasNotFinished", "This execution has not yet finished"},
    {409, "ExecutionIsAlreadyTerminated", "This execution has already terminated"},
    {409, "InvocationAlreadyExists", "An invocation with this ID already exists for this function"},
    {404, "InvocationDoesNotExist", "An invocation with this ID does not exist for this function"},
    {409, "InvocationIsAlreadyTerminated", "This invocation has already terminated"},
    {400, "ParentInvocationDoesNotExist", "The ID of the parent invocation is invalid"},
    {409, "FunctionAlreadyExists",
     "A function with this name already exists for this project version"},
    {404, "FunctionDoesNotExist", "A function with this name does not exist for this project version"},
    {409, "VersionAlreadyExists", "A version with this ID already exists for this project"},
    {404, "VersionDoesNotExist", "A version with this ID does not exist for this project"},
    {409, "ProjectAlreadyExists", "A project with this name already exists."},
    {404, "ProjectDoesNotExist", "A project with this name does not exist"},
    {403, "NotAuthenticated", "Not authenticated"},
    {403, "InvalidCredentials", "Invalid authentication credentials"},
};

const char *mn_client_strerror(int code) {
  switch (code) {
  case MN_CLIENT_OK:
    return "ok";
#define MN_CLIENT_X_CASE(name, value, msg)                                     \
  case MN_CLIENT_E_##name:                                                     \
    return msg;
    MN_CLIENT_ERROR_MAP(MN_CLIENT_X_CASE)
#undef MN_CLIENT_X_CASE
  }
  return "unknown error";
}

int mn_client_error_is(const struct mn_client_error *err, const char *name) {
  return err && name && err->code == MN_CLIENT_E_HTTP && strcmp(err->name, name) == 0;
}

int mn_client_error_unreachable(const struct mn_client_error *err) {
  if (!err || err->code != MN_CLIENT_E_TRANSPORT)
    return 0;
  switch (err->transport) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return 1;
  }
  return 0;
}

void mn_client__error_clear(struct mn_client_error *err) {
  if (err)
    memset(err, 0, sizeof *err);
}

int mn_client__fail(struct mn_client_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    mn_client__error_clear(err);
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void copy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src);
}

int mn_client__http_error(struct mn_client_error *err, long status, const char *body,
                          size_t len) {
  json_t *doc = NULL;
  json_t *detail;

  if (!err)
    return MN_CLIENT_E_HTTP;
  mn_client__error_clear(err);
  err->code = MN_CLIENT_E_HTTP;
  err->http_status = (int)status;

  doc = body && len ? json_loadb(body, len, 0, NULL) : NULL;
  detail = json_is_object(doc) ? json_object_get(doc, "detail") : NULL;
  if (json_is_string(detail)) {
    copy(err->detail, sizeof err->detail, json_string_value(detail));
  } else if (detail) {
    /* a validation error: {"detail": [ ... ]} */
    char *text = json_dumps(detail, JSON_COMPACT);
    copy(err->detail, sizeof err->detail, text ? text : "");
    free(text);
  } else if (body && len) {
    snprintf(err->detail, sizeof err->detail, "%.*s", (int)(len > 512 ? 512 : len), body);
  } else {
    snprintf(err->detail, sizeof err->detail, "HTTP %ld", status);
  }

  for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
    if (catalogue[i].status == status && strcmp(catalogue[i].detail, err->detail) == 0) {
      copy(err->name, sizeof err->name, catalogue[i].name);
      break;
    }
  }
  if (!err->name[0] && status == 422)
    copy(err->name, sizeof err->name, "ValidationError");
  json_decref(doc);
  return MN_CLIENT_E_HTTP;
}
