/* GET /providers: the provider sections this daemon loaded, so that a
 * client (`multinode deploy`) can tell which kind of worker will run a
 * function (a container provider needs an image). */
#include "plugin/handle.h"
#include "plugin/host.h"

int mn_plugins_api_providers(void *ctx, json_t **out, struct mn_error *err) {
  struct mn_plugins *plugins = ctx;
  struct mn_provider_handle *def = mn_plugins_find(plugins, NULL);
  json_t *list = json_array();
  *out = NULL;
  for (size_t i = 0; list && i < mn_plugins_count(plugins); i++) {
    struct mn_provider_handle *h = mn_plugins_at(plugins, i);
    if (json_array_append_new(list, json_pack("{s:s, s:s}", "name", mn_provider_name(h),
                                              "type", mn_provider_type(h))) < 0) {
      json_decref(list);
      list = NULL;
    }
  }
  if (list)
    *out = json_pack("{s:s, s:o}", "default", def ? mn_provider_name(def) : "", "providers",
                     list);
  return *out ? 0 : mn_fail(err, MN_ENOMEM, "out of memory");
}
