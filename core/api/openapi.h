/* The OpenAPI 3.0.3 document of the API, generated from the route table
 * (routes.h) and a table of the JSON shapes, so it cannot drift from what the
 * router serves. */
#ifndef MN_API_OPENAPI_H
#define MN_API_OPENAPI_H

#include <jansson.h>

/* A new document (NULL on allocation failure). */
json_t *mn_openapi_document(void);

/* The schema object of one shape (a new reference), as it appears under
 * components.schemas; NULL when no shape has that name. */
json_t *mn_openapi_schema(const char *name);

#endif
