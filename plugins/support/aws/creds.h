/* aws/creds.h — the AWS credentials chain of the provider toolkit
 * (plugins/support/aws, library mn_plugin_aws), for any provider that calls
 * AWS (ECS today; EC2 or Batch would link the same).
 *
 * Sources are tried in the AWS SDKs' order: environment variables, web
 * identity (STS AssumeRoleWithWebIdentity), the shared credentials/config
 * files, the ECS container credentials endpoint, EC2 IMDSv2. The first
 * source that is configured wins; temporary credentials are refreshed when
 * they are within 5 minutes of their expiry. */
#ifndef MN_AWS_CREDS_H
#define MN_AWS_CREDS_H

#include <multinode/provider.h>
#include <stdint.h>

struct mn_aws_creds {
  char access_key[128];
  char secret_key[256];
  char session_token[4096];
  int64_t expires_us; /* 0: does not expire */
};

struct mn_aws_creds_config {
  const char *profile; /* NULL: AWS_PROFILE or "default" */
  const char *region;
  const char *sts_endpoint; /* NULL: regional */
};

struct mn_aws_creds_chain;

int mn_aws_creds_chain_new(const struct mn_aws_creds_config *cfg, const struct mn_host *host,
                           struct mn_aws_creds_chain **out, struct mn_provider_error *err);
/* current credentials; refreshes before expiry; thread-safe */
int mn_aws_creds_get(struct mn_aws_creds_chain *c, struct mn_aws_creds *out,
                     struct mn_provider_error *err);
void mn_aws_creds_chain_free(struct mn_aws_creds_chain *c);

#endif
