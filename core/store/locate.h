/* Where an invocation or an execution lives, from its id alone (issue 19:
 * GET /invocations/{id} and GET /executions/{id}). Ids are made by the
 * daemon and unique; the lookups use the indexes invocations_by_id
 * (migration 9) and executions_by_id. */
#ifndef MN_STORE_LOCATE_H
#define MN_STORE_LOCATE_H

#include "store/execution_keys.h"

/* Fills project_name, version_id, function_name and invocation_id (and
 * execution_id NULL); MN_EINVOCATION_NOT_FOUND when there is none. */
int mn_store_locate_invocation(struct mn_store *s, const char *invocation_id,
                               struct mn_execution_identity *out);
/* Fills all five names; MN_EEXECUTION_NOT_FOUND when there is none. */
int mn_store_locate_execution(struct mn_store *s, const char *execution_id,
                              struct mn_execution_identity *out);

#endif
