/* server.api_keys: operator keys with roles (docs/security.md, "Operator
 * keys"), as a list of mappings:
 *
 *   server:
 *     api_keys:
 *       - name: ci                 # required, unique: shown in logs instead of the key
 *         sha256: 64 hex digits    # the key's SHA-256 (sha256sum), or
 *         key_env: CI_KEY          # the key itself from the environment
 *         role: invoker            # admin | invoker | reader
 *         projects: [shop, batch]  # optional: the only projects it may touch
 *
 * Every problem is reported with file:line:col, as for the other keys. */
#ifndef MN_CONFIG_CONFIG_API_KEYS_H
#define MN_CONFIG_CONFIG_API_KEYS_H

#include "config/config_check.h"

#define MN_API_KEY_MIN_LENGTH 16

/* The `server.api_keys` list (NODE NULL when absent) into c->cfg. */
void mn_cfg_check_api_keys(struct mn_cfg_checker *c, const struct mn_cfg_node *node,
                           const struct mn_cfg_node *anchor, const char *path);

#endif
