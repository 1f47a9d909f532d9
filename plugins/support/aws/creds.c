/* creds.c — the AWS credentials chain: picks the first source that is set
 * up (creds_source.h lists them, in the AWS SDKs' order), keeps its
 * credentials, and fetches new ones from the same source when they come
 * within 5 minutes of their expiry. */
#include "creds_source.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After a failed refresh while the old credentials still hold, wait this
 * long before asking the source again. */
#define RETRY_AFTER_FAILURE_US (INT64_C(10) * 1000000)

struct source {
  const char *name;
  int (*fetch)(const struct creds_ctx *, struct mn_aws_creds *, struct mn_provider_error *);
};

static const struct source sources[] = {
    {"environment variables", creds_env_fetch},
    {"web identity (AssumeRoleWithWebIdentity)", creds_web_identity_fetch},
    {"shared credentials/config files", creds_files_fetch},
    {"ECS container credentials endpoint", creds_container_fetch},
    {"EC2 instance metadata (IMDSv2)", creds_imds_fetch},
};
#define N_SOURCES (sizeof sources / sizeof sources[0])

struct mn_aws_creds_chain {
  struct creds_ctx ctx;
  pthread_mutex_t lock;
  pthread_cond_t fetched; /* signalled when a fetch ends */
  int refreshing;         /* a caller is fetching (without the lock) */
  int source;             /* index into sources, -1 until one answered */
  int have;              /* creds holds credentials */
  struct mn_aws_creds creds;
  int64_t next_retry_us; /* after a failed refresh */
};

static const struct {
  const char *name;
  size_t offset;
} env_vars[] = {
#define V(name, field) {name, offsetof(struct creds_env, field)}
    V("AWS_ACCESS_KEY_ID", access_key_id),
    V("AWS_SECRET_ACCESS_KEY", secret_access_key),
    V("AWS_SESSION_TOKEN", session_token),
    V("AWS_WEB_IDENTITY_TOKEN_FILE", web_identity_token_file),
    V("AWS_ROLE_ARN", role_arn),
    V("AWS_ROLE_SESSION_NAME", role_session_name),
    V("AWS_ENDPOINT_URL_STS", endpoint_url_sts),
    V("AWS_ENDPOINT_URL", endpoint_url),
    V("AWS_REGION", region),
    V("AWS_DEFAULT_REGION", default_region),
    V("AWS_SHARED_CREDENTIALS_FILE", shared_credentials_file),
    V("AWS_CONFIG_FILE", config_file),
    V("AWS_PROFILE", profile),
    V("AWS_DEFAULT_PROFILE", default_profile),
    V("HOME", home),
    V("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", container_relative_uri),
    V("AWS_CONTAINER_CREDENTIALS_FULL_URI", container_full_uri),
    V("AWS_CONTAINER_AUTHORIZATION_TOKEN", container_auth_token),
    V("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", container_auth_token_file),
    V("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_endpoint),
    V("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", imds_endpoint_mode),
    V("AWS_EC2_METADATA_DISABLED", imds_disabled),
#undef V
};
#define N_ENV_VARS (sizeof env_vars / sizeof env_vars[0])

static char **env_field(struct creds_env *e, size_t i) {
  return (char **)((char *)e + env_vars[i].offset);
}

static const char *first_set(const char *a, const char *b, const char *c) {
  return a && *a ? a : b && *b ? b : c && *c ? c : NULL;
}

static int dup_opt(char **dst, const char *src) {
  *dst = NULL;
  return src && !(*dst = strdup(src)) ? -1 : 0;
}

static int valid_region(const char *r) {
  if (!*r || strlen(r) > 64)
    return 0;
  for (; *r; r++)
    if (!((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') || (*r >= '0' && *r <= '9') ||
          *r == '-'))
      return 0;
  return 1;
}

int mn_aws_creds_chain_new(const struct mn_aws_creds_config *cfg, const struct mn_host *host,
                           struct mn_aws_creds_chain **out, struct mn_provider_error *err) {
  static const struct mn_aws_creds_config none = {0};
  struct mn_aws_creds_chain *c;
  struct creds_env *e;
  const char *region;

  if (!cfg)
    cfg = &none;
  *out = NULL;
  if (!(c = calloc(1, sizeof *c)))
    return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->fetched, NULL);
  c->source = -1;
  c->ctx.host = host;
  c->ctx.container_host = "169.254.170.2";
  e = &c->ctx.env;
  for (size_t i = 0; i < N_ENV_VARS; i++) {
    const char *v = getenv(env_vars[i].name);
    if (v && *v && dup_opt(env_field(e, i), v))
      goto oom;
  }
  region = first_set(cfg->region, e->region, e->default_region);
  if (region && !valid_region(region)) {
    creds_fail(err, MN_PROVIDER_E_INVALID,
               "region \"%.64s\" is not an AWS region name (letters, digits and '-')", region);
    mn_aws_creds_chain_free(c);
    return err ? err->code : MN_PROVIDER_E_INVALID;
  }
  /* Like the SDKs' explicitly given profile: it outranks AWS_ACCESS_KEY_ID. */
  c->ctx.profile_configured = cfg->profile && *cfg->profile;
  c->ctx.profile_chosen = first_set(cfg->profile, e->profile, e->default_profile) != NULL;
  if (dup_opt(&c->ctx.profile, first_set(cfg->profile, e->profile,
                                         first_set(e->default_profile, "default", NULL))) ||
      dup_opt(&c->ctx.region, region) ||
      dup_opt(&c->ctx.sts_endpoint, first_set(cfg->sts_endpoint, e->endpoint_url_sts,
                                              e->endpoint_url)))
    goto oom;
  *out = c;
  return 0;
oom:
  mn_aws_creds_chain_free(c);
  return creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
}

void mn_aws_creds_chain_free(struct mn_aws_creds_chain *c) {
  if (!c)
    return;
  for (size_t i = 0; i < N_ENV_VARS; i++)
    free(*env_field(&c->ctx.env, i));
  free(c->ctx.profile);
  free(c->ctx.region);
  free(c->ctx.sts_endpoint);
  pthread_cond_destroy(&c->fetched);
  pthread_mutex_destroy(&c->lock);
  memset(&c->creds, 0, sizeof c->creds);
  free(c);
}

static int fresh(const struct mn_aws_creds *cr, int64_t now) {
  return cr->expires_us == 0 || now < cr->expires_us - CREDS_REFRESH_MARGIN_US;
}

/* Walks the chain for the first source that is set up; *index_out names it. */
static int resolve(const struct creds_ctx *ctx, struct mn_aws_creds *out, int *index_out,
                   struct mn_provider_error *err) {
  char why[MN_PROVIDER_ERROR_MSG_MAX] = "";
  struct mn_provider_error serr;
  size_t used = 0;

  for (size_t i = 0; i < N_SOURCES; i++) {
    int rc;
    memset(&serr, 0, sizeof serr);
    rc = sources[i].fetch(ctx, out, &serr);
    if (rc == 0) {
      *index_out = (int)i;
      creds_log(ctx, MN_HOST_LOG_INFO, "using AWS credentials from %s (access key %.8s...)",
                sources[i].name, out->access_key);
      return 0;
    }
    if (rc != CREDS_SKIP)
      return creds_fail(err, rc, "AWS credentials from %s: %s", sources[i].name, serr.msg);
    if (serr.msg[0] && used < sizeof why)
      used += (size_t)snprintf(why + used, sizeof why - used, "; %s", serr.msg);
  }
  return creds_fail(err, MN_PROVIDER_E_AUTH,
                    "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                    "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or a profile in "
                    "~/.aws/credentials (AWS_PROFILE), or run where the ECS container or EC2 "
                    "instance metadata credentials endpoint answers%s",
                    why);
}

/* One caller fetches (without holding the lock: sources may take seconds);
 * meanwhile the others keep using the current credentials while they have
 * not expired, and wait for the fetch otherwise. */
int mn_aws_creds_get(struct mn_aws_creds_chain *c, struct mn_aws_creds *out,
                     struct mn_provider_error *err) {
  struct mn_aws_creds next;
  struct mn_provider_error serr = {0};
  int64_t now;
  int rc = 0, source;

  pthread_mutex_lock(&c->lock);
  for (;;) {
    now = creds_now_us(&c->ctx);
    if (c->have && (fresh(&c->creds, now) || now < c->next_retry_us))
      goto done;
    if (!c->refreshing)
      break;
    if (c->have && now < c->creds.expires_us)
      goto done;
    pthread_cond_wait(&c->fetched, &c->lock);
  }
  c->refreshing = 1;
  source = c->source;
  pthread_mutex_unlock(&c->lock);

  if (source < 0)
    rc = resolve(&c->ctx, &next, &source, err);
  else
    rc = sources[source].fetch(&c->ctx, &next, &serr);

  pthread_mutex_lock(&c->lock);
  c->refreshing = 0;
  pthread_cond_broadcast(&c->fetched);
  now = creds_now_us(&c->ctx);
  if (rc == 0) {
    if (c->have)
      creds_log(&c->ctx, MN_HOST_LOG_DEBUG, "refreshed AWS credentials from %s",
                sources[source].name);
    c->creds = next;
    c->have = 1;
    c->source = source;
    c->next_retry_us = 0;
  } else if (c->source < 0) {
    /* resolve() filled err */
  } else if (c->have && now < c->creds.expires_us) {
    /* Keep using what still holds; try again a little later. */
    creds_log(&c->ctx, MN_HOST_LOG_WARN,
              "cannot refresh AWS credentials from %s (the current ones expire in %lld s): %s",
              sources[source].name, (long long)((c->creds.expires_us - now) / 1000000),
              serr.msg);
    c->next_retry_us = now + RETRY_AFTER_FAILURE_US;
    rc = 0;
  } else {
    if (rc == CREDS_SKIP) /* the source went away (a token file was removed) */
      rc = serr.code ? serr.code : MN_PROVIDER_E_AUTH;
    creds_fail(err, rc, "cannot refresh AWS credentials from %s: %s", sources[source].name,
               serr.msg[0] ? serr.msg : "the source is no longer set up");
  }
done:
  if (rc == 0)
    *out = c->creds;
  pthread_mutex_unlock(&c->lock);
  memset(&next, 0, sizeof next);
  return rc;
}
