/* cmocka assertions over API calls, for the API integration tests. */
#ifndef MN_TEST_API_ASSERT_H
#define MN_TEST_API_ASSERT_H

#include <jansson.h>

#include "api_fixture.h"

/* Calls METHOD PATH (body: JSON text or NULL) and asserts the status; returns
 * the parsed body (never NULL; the caller decrefs). A 200 body is also
 * checked against the OpenAPI schema of the route's response. */
json_t *api_expect(struct api_fixture *fx, const char *method, const char *path,
                   const char *body, long status);
/* Asserts status and the exact body {"detail": detail}. */
void api_expect_detail(struct api_fixture *fx, const char *method, const char *path,
                       const char *body, long status, const char *detail);
/* Asserts a 422 whose detail is a non-empty list of {loc, msg, type}; returns
 * the first item's loc joined with '.' and its msg as "loc: msg" (static buffer). */
const char *api_expect_422(struct api_fixture *fx, const char *method, const char *path,
                           const char *body);

/* Asserts value matches components.schemas[name] of the OpenAPI document:
 * required fields present, no undocumented fields, types and enums right. */
void api_assert_schema(const json_t *value, const char *name);

/* Shortcuts that must succeed. Returned strings are heap copies. */
void api_make_project(struct api_fixture *fx, const char *name);
/* A version with functions "fa" and "fb" (fb: max_retries 2, timeout 60);
 * returns its id. */
char *api_make_version(struct api_fixture *fx, const char *project);
char *api_make_invocation(struct api_fixture *fx, const char *project, const char *version,
                          const char *function, const char *parent_function,
                          const char *parent_invocation);
/* String field of an object (asserts it is there). */
const char *api_str(const json_t *obj, const char *key);

/* printf into one of 4 rotating static buffers (4096 bytes each), for paths. */
const char *api_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
