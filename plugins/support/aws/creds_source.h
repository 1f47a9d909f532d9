/* creds_source.h — what the credentials sources of plugins/support/aws/creds*.c
 * share (private to the chain; the rest of the provider uses creds.h).
 *
 * Every source has the same shape:
 *     int creds_<source>_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
 *                              struct mn_provider_error *err);
 * returning 0 with *out filled, CREDS_SKIP when the source is not set up
 * here (err->msg may then say why, for the final "no credentials" message),
 * or a negative MN_PROVIDER_E_* code with err filled. */
#ifndef MN_AWS_CREDS_SOURCE_H
#define MN_AWS_CREDS_SOURCE_H

#include <stdarg.h>
#include <stddef.h>

#include "creds.h"

#define CREDS_SKIP 1

/* Refresh temporary credentials this long before they expire. */
#define CREDS_REFRESH_MARGIN_US (INT64_C(300) * 1000000)

/* The environment variables the chain reads, snapshotted once by
 * mn_aws_creds_chain_new (NULL: unset; empty values count as unset). */
struct creds_env {
  char *access_key_id, *secret_access_key, *session_token;
  char *web_identity_token_file, *role_arn, *role_session_name;
  char *endpoint_url_sts, *endpoint_url, *region, *default_region;
  char *shared_credentials_file, *config_file, *profile, *default_profile, *home;
  char *container_relative_uri, *container_full_uri;
  char *container_auth_token, *container_auth_token_file;
  char *imds_endpoint, *imds_endpoint_mode, *imds_disabled;
};

struct creds_ctx {
  const struct mn_host *host; /* may be NULL: no logging */
  struct creds_env env;
  char *profile;      /* cfg->profile, AWS_PROFILE, AWS_DEFAULT_PROFILE or "default" */
  int profile_chosen; /* 1: named explicitly (a missing profile is an error) */
  int profile_configured; /* 1: cfg->profile named it: the environment's keys do not count */
  char *region;       /* cfg->region, AWS_REGION, AWS_DEFAULT_REGION, or NULL */
  char *sts_endpoint; /* cfg->sts_endpoint, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, or NULL */
  /* Host of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ("169.254.170.2"; the
   * unit tests point it at their simulator). */
  const char *container_host;
};

/* The sources, in the chain's order. */
int creds_env_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                    struct mn_provider_error *err);
int creds_web_identity_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                             struct mn_provider_error *err);
int creds_files_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                      struct mn_provider_error *err);
int creds_container_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                          struct mn_provider_error *err);
int creds_imds_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                     struct mn_provider_error *err);

/* STS AssumeRoleWithWebIdentity with the token in token_file (read on
 * every call: it rotates); session_name may be NULL. For the environment
 * and for profiles with web_identity_token_file (creds_web_identity.c). */
int creds_assume_role_with_web_identity(const struct creds_ctx *ctx, const char *role_arn,
                                        const char *token_file, const char *session_name,
                                        struct mn_aws_creds *out, struct mn_provider_error *err);

/* A small HTTP exchange over libcurl (creds_http.c). */
struct creds_http_req {
  const char *method;       /* "GET", "PUT", "POST" */
  const char *url;
  const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
  const char *body;         /* may be NULL */
  long timeout_ms;          /* whole exchange */
  int no_proxy;             /* 1: never through a proxy (link-local endpoints) */
};
struct creds_http_resp {
  long status;
  char *body; /* malloc'ed, NUL-terminated; free with free() */
  size_t len;
};
/* 0 when an answer arrived (any status); MN_PROVIDER_E_TRANSIENT with
 * "<what>: <curl's reason>" when none did. */
int creds_http(const struct creds_http_req *req, const char *what, struct creds_http_resp *resp,
               struct mn_provider_error *err);

/* Helpers (creds_util.c). */
__attribute__((format(printf, 3, 4))) int creds_fail(struct mn_provider_error *err, int code,
                                                     const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void creds_log(const struct creds_ctx *ctx, int level,
                                                     const char *fmt, ...);
int64_t creds_now_us(const struct creds_ctx *ctx);
/* "2024-05-01T12:00:00Z", with optional fractional seconds and a Z or
 * +HH:MM / -HH:MM offset, to microseconds since the epoch; -1 when malformed. */
int creds_parse_time(const char *s, int64_t *us_out);
/* Copies the three strings into out (session_token may be NULL); fails
 * with AUTH naming `what` when one is empty, too long or holds a control
 * character (they end up in HTTP headers). */
int creds_set(struct mn_aws_creds *out, const char *access_key, const char *secret_key,
              const char *session_token, int64_t expires_us, const char *what,
              struct mn_provider_error *err);
/* Parses the JSON answer of the container and instance metadata endpoints:
 * {AccessKeyId, SecretAccessKey, Token, Expiration}. */
int creds_from_json(const char *body, size_t len, const char *what, struct mn_aws_creds *out,
                    struct mn_provider_error *err);
/* A printable, bounded excerpt of an answer body for error messages. */
const char *creds_excerpt(const char *body, size_t len, char *buf, size_t cap);
/* 1 when s holds a control character (it cannot go into a header). */
int creds_has_ctl(const char *s);
/* Reads a small file (a token) whole, without trailing whitespace; *out is
 * malloc'ed. 0, or -errno. */
int creds_read_small_file(const char *path, size_t max, char **out);

#endif
