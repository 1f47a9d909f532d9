/* creds_env.c — credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 * and AWS_SESSION_TOKEN, the first source of the chain — unless the
 * provider's configuration names a profile (e.g. providers.ecs.profile). */
#include "creds_source.h"

int creds_env_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                    struct mn_provider_error *err) {
  const struct creds_env *e = &ctx->env;

  if ((!e->access_key_id && !e->secret_access_key) || ctx->profile_configured)
    return CREDS_SKIP;
  if (!e->access_key_id)
    return creds_fail(err, MN_PROVIDER_E_AUTH,
                      "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!e->secret_access_key)
    return creds_fail(err, MN_PROVIDER_E_AUTH,
                      "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  return creds_set(out, e->access_key_id, e->secret_access_key, e->session_token, 0,
                   "the environment (AWS_ACCESS_KEY_ID)", err);
}
