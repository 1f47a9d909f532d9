/* Error mapping (code -> HTTP status, wire name, exact detail) and ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/clock.h"
#include "util/error.h"
#include "multinode/common/ids.h"

struct expected {
  int code;
  int status;
  const char *name;
  const char *detail;
};

/* Reference §2.2, byte for byte. */
static const struct expected catalogue[] = {
    {MN_EAPI_KEY_INVALID, 403, "ApiKeyIsInvalid", "The API key is invalid"},
    {MN_EOFFSET_INVALID, 400, "OffsetIsInvalid", "The next offset is in an invalid format"},
    {MN_EPARENT_FUNCTION_MISSING, 400, "ParentFunctionNameIsMissing",
     "The parent function name is missing"},
    {MN_EPROJECT_NAME_TOO_LONG, 400, "ProjectNameIsTooLong", "The project name is too long"},
    {MN_EPROJECT_BEING_DELETED, 400, "ProjectIsBeingDeleted", "The project is being deleted"},
    {MN_EPARENT_INVOCATION_MISSING, 400, "ParentInvocationIdIsMissing",
     "The parent invocation ID is missing"},
    {MN_EEXECUTION_EXISTS, 409, "ExecutionAlreadyExists",
     "An execution with this ID already exists for this invocation"},
    {MN_EEXECUTION_NOT_FOUND, 404, "ExecutionDoesNotExist",
     "An execution with this ID does not exist for this invocation"},
    {MN_EEXECUTION_STARTED, 409, "ExecutionHasAlreadyStarted", "This execution has already started"},
    {MN_EEXECUTION_NOT_STARTED, 409, "ExecutionHasNotStarted", "This execution has not yet started"},
    {MN_EEXECUTION_FINISHED, 409, "ExecutionHasAlreadyFinished",
     "This execution has already finished"},
    {MN_EEXECUTION_NOT_FINISHED, 409, "ExecutionHasNotFinished",
     "This execution has not yet finished"},
    {MN_EEXECUTION_TERMINATED, 409, "ExecutionIsAlreadyTerminated",
     "This execution has already terminated"},
    {MN_EINVOCATION_EXISTS, 409, "InvocationAlreadyExists",
     "An invocation with this ID already exists for this function"},
    {MN_EINVOCATION_NOT_FOUND, 404, "InvocationDoesNotExist",
     "An invocation with this ID does not exist for this function"},
    {MN_EINVOCATION_TERMINATED, 409, "InvocationIsAlreadyTerminated",
     "This invocation has already terminated"},
    {MN_EPARENT_NOT_FOUND, 400, "ParentInvocationDoesNotExist",
     "The ID of the parent invocation is invalid"},
    {MN_EFUNCTION_EXISTS, 409, "FunctionAlreadyExists",
     "A function with this name already exists for this project version"},
    {MN_EFUNCTION_NOT_FOUND, 404, "FunctionDoesNotExist",
     "A function with this name does not exist for this project version"},
    {MN_EVERSION_EXISTS, 409, "VersionAlreadyExists",
     "A version with this ID already exists for this project"},
    {MN_EVERSION_NOT_FOUND, 404, "VersionDoesNotExist",
     "A version with this ID does not exist for this project"},
    {MN_EPROJECT_EXISTS, 409, "ProjectAlreadyExists", "A project with this name already exists."},
    {MN_EPROJECT_NOT_FOUND, 404, "ProjectDoesNotExist", "A project with this name does not exist"},
    {MN_ENOT_AUTHENTICATED, 403, "NotAuthenticated", "Not authenticated"},
    {MN_EBAD_CREDENTIALS, 403, "InvalidCredentials", "Invalid authentication credentials"},
};

static void catalogue_is_exact(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
    const struct expected *e = &catalogue[i];
    assert_int_equal(mn_error_http_status(e->code), e->status);
    assert_string_equal(mn_errname(e->code), e->name);
    assert_string_equal(mn_strerror(e->code), e->detail);
  }
}

static void unknown_codes_are_500(void **state) {
  (void)state;
  assert_int_equal(mn_error_http_status(-1), 500);
  assert_int_equal(mn_error_http_status(MN_EINTERNAL), 500);
  assert_int_equal(mn_error_http_status(MN_EUNAVAILABLE), 503);
  assert_int_equal(mn_error_http_status(MN_ETOOLARGE), 413);
  assert_int_equal(mn_error_http_status(MN_OK), 200);
}

static void fail_fills_the_detail(void **state) {
  (void)state;
  struct mn_error err = {0};
  assert_int_equal(mn_fail(&err, MN_EINVAL, "bad %s at %d", "key", 7), MN_EINVAL);
  assert_int_equal(err.code, MN_EINVAL);
  assert_string_equal(err.msg, "bad key at 7");
  assert_int_equal(mn_fail(NULL, MN_EIO, "ignored"), MN_EIO);
  mn_error_clear(&err);
  assert_int_equal(err.code, MN_OK);
  assert_string_equal(err.msg, "");
}

static void ids_have_prefix_and_32_hex(void **state) {
  (void)state;
  char a[MN_ID_MAX], b[MN_ID_MAX];
  assert_int_equal(mn_id_new("inv-", a), 0);
  assert_int_equal(mn_id_new("inv-", b), 0);
  assert_int_equal(strlen(a), 4 + 32);
  assert_true(mn_id_valid("inv-", a));
  assert_string_not_equal(a, b);
  assert_false(mn_id_valid("exe-", a));
  assert_false(mn_id_valid("inv-", "inv-0123"));
  assert_false(mn_id_valid("inv-", "inv-0123456789abcdef0123456789ABCDEF"));
  assert_true(mn_id_valid("ver-", "ver-0123456789abcdef0123456789abcdef"));
}

static void seconds_round_down(void **state) {
  (void)state;
  assert_int_equal(mn_us_to_s(1999999), 1);
  assert_int_equal(mn_us_to_s(2000000), 2);
  assert_int_equal(mn_us_to_s(0), 0);
  assert_int_equal(mn_us_to_s(-1), -1);
  assert_true(mn_now_us() > INT64_C(1700000000) * MN_US_PER_S);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(catalogue_is_exact),
      cmocka_unit_test(unknown_codes_are_500),
      cmocka_unit_test(fail_fills_the_detail),
      cmocka_unit_test(ids_have_prefix_and_32_hex),
      cmocka_unit_test(seconds_round_down),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
