/* The logs endpoint's bridge to the provider that ran the worker. */
#include <stdlib.h>
#include <string.h>

#include "plugin/host.h"
#include "store/model.h"
#include "util/log.h"

static int empty_page(const char *offset, json_t **lines_out, char **next_offset_out,
                      struct mn_error *err) {
  *lines_out = json_array();
  if (offset && !(*next_offset_out = strdup(offset))) {
    json_decref(*lines_out);
    *lines_out = NULL;
  }
  return *lines_out ? 0 : mn_fail(err, MN_ENOMEM, "out of memory");
}

int mn_plugins_api_logs(void *ctx, const struct mn_invocation *inv, const char *initial_offset,
                        int max_lines, json_t **lines_out, char **next_offset_out,
                        struct mn_error *err) {
  struct mn_plugins *plugins = ctx;
  struct mn_provider_error perr;
  struct mn_worker_ref ref;
  const char *type;
  *lines_out = NULL;
  *next_offset_out = NULL;
  if (!inv || inv->n_executions == 0 || !inv->executions[0].worker_details)
    return empty_page(NULL, lines_out, next_offset_out, err);
  const struct mn_execution *ex = &inv->executions[0];
  if (mn_worker_details_parse(ex->worker_details, &type, &ref)) {
    mn_log_warn("plugin", "execution %s has unreadable worker_details", ex->execution_id);
    return empty_page(NULL, lines_out, next_offset_out, err);
  }
  struct mn_provider_handle *h = mn_plugins_find(plugins, type);
  if (!h) {
    mn_log_warn("plugin", "no provider \"%s\" configured for the log of execution %s", type,
                ex->execution_id);
    return empty_page(NULL, lines_out, next_offset_out, err);
  }
  if (max_lines <= 0)
    return empty_page(initial_offset, lines_out, next_offset_out, err);
  int rc = mn_provider_logs(h, &ref, initial_offset, max_lines, lines_out, next_offset_out,
                            &perr);
  switch (rc) {
  case 0: return 0;
  case MN_PROVIDER_E_UNSUPPORTED:
  case MN_PROVIDER_E_NOT_FOUND: return empty_page(NULL, lines_out, next_offset_out, err);
  case MN_PROVIDER_E_INVALID:
    if (initial_offset)
      return mn_fail(err, MN_EOFFSET_INVALID, "%s", perr.msg);
    break;
  default: break;
  }
  mn_log_warn("plugin", "cannot read the log of execution %s: %s", ex->execution_id, perr.msg);
  return mn_fail(err, MN_EIO, "cannot read the log: %s", perr.msg);
}
