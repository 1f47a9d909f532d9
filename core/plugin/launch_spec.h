/* Builds the provider ABI's input structs from the store's model, so every
 * provider gets the same contract: a launch spec whose env is the
 * function's env followed by the MULTINODE_* variables the worker reads. */
#ifndef MN_PLUGIN_LAUNCH_SPEC_H
#define MN_PLUGIN_LAUNCH_SPEC_H

#include "multinode/provider.h"
#include "plugin/host.h"
#include "store/model.h"
#include "util/error.h"

/* The worker environment variables (provider.h, "What runs in the
 * worker"), in the order they are appended; SHARED of them are the same for
 * every execution of a function (prepare's worker_env). */
#define MN_WORKER_ENV_COUNT 7
#define MN_WORKER_ENV_SHARED 4

/* A struct mn_launch_spec plus the memory behind it. Strings are borrowed
 * from the invocation and the provider handle: keep both alive while the
 * spec is in use. */
struct mn_launch_buf {
  struct mn_launch_spec spec;
  const char **argv;
  struct mn_kv *env;
  char *prepared_json; /* json_dumps of prepared_function_details, or NULL */
};

/* For one execution of INV (EXECUTION_ID), run by provider H:
 * MULTINODE_API_URL is H's worker_api_url, MULTINODE_API_KEY is
 * API_KEY, the execution's own key (util/token.h), marked as the secret.
 * 0, MN_EINVAL (a command or env that is not strings) or MN_ENOMEM. */
int mn_launch_spec_build(struct mn_launch_buf *buf, const struct mn_provider_handle *h,
                         const struct mn_invocation *inv, const char *execution_id,
                         const char *api_key, struct mn_error *err);
void mn_launch_buf_release(struct mn_launch_buf *buf);

/* A struct mn_function_desc for prepare by provider H (its worker_env
 * built for H); strings borrowed from FN and H. */
struct mn_function_desc_buf {
  struct mn_function_desc desc;
  const char **argv;
  struct mn_kv *env;
  struct mn_kv *worker_env;
};

int mn_function_desc_build(struct mn_function_desc_buf *buf, const struct mn_provider_handle *h,
                           const struct mn_function *fn, struct mn_error *err);
void mn_function_desc_buf_release(struct mn_function_desc_buf *buf);

#endif
