/* What may be a name: project and function names, the ids and version refs
 * of paths, parent references. A name holds no control character (C0, DEL
 * or C1) and is neither "." nor "..". The whole request target is checked
 * too, before libmicrohttpd's decoding can cut it at a %00. Pure functions:
 * the router, the codec and the tests share them. */
#ifndef MN_API_NAMES_H
#define MN_API_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Why s (len bytes) cannot be a name, as a pydantic-style message
 * ("string must not contain control characters"), or NULL when it can. */
const char *mn_name_problem(const char *s, size_t len);

/* Where a control character sits in a request target. */
struct mn_uri_problem {
  bool in_query;  /* else in the path */
  size_t segment; /* path: 0-based index of the segment ("/projects/x": x is 1) */
  char key[64];   /* query: the parameter's (decoded) name, "" when unknown */
};

/* Scans a raw request target (the path, then an optional ?query), decoding
 * %XX (and + in the query) as it goes. false when it holds no control
 * character; true with *out filled when it does. */
bool mn_uri_find_control(const char *target, struct mn_uri_problem *out);

#endif
