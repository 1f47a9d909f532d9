/* Per-execution API keys in the store (docs/security.md, "Execution
 * keys"): the scheduler records the SHA-256 of a launch's key before it
 * calls the provider; the API finds the execution a key belongs to, and
 * whether an invocation descends from another (an execution may read and
 * cancel its descendants). */
#ifndef MN_STORE_EXECUTION_KEYS_H
#define MN_STORE_EXECUTION_KEYS_H

#include <stdbool.h>

#include "store/model.h"
#include "store/store.h"

/* Sets the key hash of an execution that has no worker yet (PENDING or
 * PROVISIONING); *applied false when it has one or has ended. */
int mn_store_set_execution_key(struct mn_store *s, const struct mn_function_key *fk,
                               const char *invocation_id, const char *execution_id,
                               const char *key_hash, bool *applied);

/* Who holds a key: the execution whose key hash this is. Strings are heap
 * copies (mn_execution_identity_release). MN_EAPI_KEY_INVALID when none. */
struct mn_execution_identity {
  char *project_name, *version_id, *function_name, *invocation_id, *execution_id;
  enum mn_worker_status worker_status;
};
int mn_store_execution_by_key(struct mn_store *s, const char *key_hash,
                              struct mn_execution_identity *out);
void mn_execution_identity_release(struct mn_execution_identity *id);

/* Whether invocation (project, version, function, invocation_id) has
 * (ancestor_function, ancestor_id) of the same version among its
 * ancestors (at any depth; itself excluded). */
int mn_store_is_descendant(struct mn_store *s, const char *project, const char *version,
                           const char *function, const char *invocation_id,
                           const char *ancestor_function, const char *ancestor_id, bool *out);

#endif
