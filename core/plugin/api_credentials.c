/* The container repository credentials endpoint's bridge to the default
 * provider (GET /container_repository_credentials, docs/compatibility.md §2.4 row 18). */
#include <string.h>

#include "plugin/host.h"
#include "util/log.h"

int mn_plugins_api_credentials(void *ctx, json_t **out, struct mn_error *err) {
  struct mn_provider_handle *h = mn_plugins_find(ctx, NULL);
  struct mn_registry_credentials c;
  struct mn_provider_error perr;
  int rc = h ? mn_provider_registry_credentials(h, &c, &perr) : MN_PROVIDER_E_UNSUPPORTED;
  if (rc == MN_PROVIDER_E_UNSUPPORTED) { /* no registry: images are local */
    memset(&c, 0, sizeof c);
    strcpy(c.repository_name, "multinode-local");
  } else if (rc != 0) {
    return mn_fail(err, MN_EIO, "provider \"%s\": %s", mn_provider_name(h), perr.msg);
  }
  *out = json_pack("{s:s, s:s, s:s, s:s}", "repository_name", c.repository_name, "username",
                   c.username, "password", c.password, "endpoint_url", c.endpoint_url);
  return *out ? 0 : mn_fail(err, MN_ENOMEM, "out of memory");
}
