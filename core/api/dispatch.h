/* Runs one routed request to its serialised response: path parameter
 * checks, body decoding, the route's handler, error mapping, JSON text.
 * Independent of the HTTP server, so any thread can run it. */
#ifndef MN_API_DISPATCH_H
#define MN_API_DISPATCH_H

#include <stddef.h>

#include "api/routes.h"

/* A response ready to send: status and JSON text (heap; NULL only when
 * even the fallback could not be allocated). */
struct mn_api_output {
  int status;
  char *text;
  size_t len;
  struct mn_event_stream *stream; /* instead of text: an event stream (owned) */
  struct mn_events_wait *wait;    /* text is the answer if it is not waited for */
};

/* body/body_len: the raw request body (may be NULL/0). Always fills out. */
void mn_api_dispatch(const struct mn_api_ctx *ctx, struct mn_api_request *req,
                     const char *body, size_t body_len, struct mn_api_output *out);

/* {"detail": mn_strerror(code)} with the code's status. Always fills out. */
void mn_api_output_error(int code, struct mn_api_output *out);
/* Serialises body (stolen); a 500 when that fails. */
void mn_api_output_json(int status, json_t *body, struct mn_api_output *out);

#endif
