/* What an execution's own key may do (docs/security.md, "Execution keys"):
 * read its own execution and /start, /update, /finish it; read its
 * project and its project's versions (and so their functions); create
 * invocations in its own version whose parent is its own invocation; read,
 * list and cancel its descendants. Anything else is 403 with a detail that
 * says so, and every request is 403 once its execution has ended. */
#ifndef MN_API_AUTHORIZE_H
#define MN_API_AUTHORIZE_H

#include "api/routes.h"

/* For a request whose principal is MN_PRINCIPAL_EXECUTION, after routing
 * and body parsing (req->body set): 0 when allowed, else non-zero with res
 * filled (403 and a detail, or the store's error). */
int mn_api_authorize_execution(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                               struct mn_api_response *res);

#endif
