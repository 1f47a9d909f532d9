/* aws/json_call.h — AWS calls in the JSON protocol (1.1 or 1.0: POST / with
 * X-Amz-Target and Content-Type application/x-amz-json-<version>), signed
 * with SigV4 by libcurl (CURLOPT_AWS_SIGV4) through the toolkit's HTTP
 * client (plugins/support/http.h: connections kept from call to call), with
 * the credentials of the chain (aws/creds.h) and X-Amz-Security-Token for
 * temporary ones. Part of the provider toolkit (library mn_plugin_aws): ECS
 * uses it; an EC2 or Batch provider would too.
 *
 *     static const struct mn_aws_service ecs = {"ecs", "ecs",
 *                                               "AmazonEC2ContainerServiceV20141113", "1.1"};
 *     struct mn_aws_client aws;
 *     struct mn_aws_creds_config cc = {.region = "eu-west-1"};
 *     mn_aws_client_init(&aws, host, "multinode-ecs/1.0", &cc, 30000, err);
 *     mn_aws_endpoint(NULL, "ecs", "eu-west-1", url, sizeof url);
 *     mn_aws_json_call(&aws, &ecs, url, "DescribeTasks", request, &response, err);
 *     mn_aws_client_release(&aws);
 *
 * No call is retried here: a TRANSIENT error goes back to the daemon, whose
 * tracker retries it (provider.h: no provider sleeps), after the answer's
 * Retry-After when it had one. */
#ifndef MN_AWS_JSON_CALL_H
#define MN_AWS_JSON_CALL_H

#include <jansson.h>

#include <multinode/provider.h>

#include "creds.h"
#include "http.h"

/* One AWS service. Strings are borrowed (static, as a rule). */
struct mn_aws_service {
  const char *name;         /* in messages: "ecs" */
  const char *signing;      /* the SigV4 service name: "ecs" */
  const char *target;       /* the X-Amz-Target prefix: "AmazonEC2ContainerServiceV20141113" */
  const char *json_version; /* "1.1" (NULL) or "1.0" */
};

struct mn_aws_client {
  const struct mn_host *host;
  struct mn_http http;
  int http_ready;
  struct mn_aws_creds_chain *creds;
  const char *region; /* borrowed from the configuration */
  long timeout_ms;    /* per call */
};

/* Sets up the HTTP client and the credentials chain of cc (cc->region is
 * the region calls are signed for; no credentials are fetched yet).
 * 0, or an MN_PROVIDER_E_* code with err filled. The client is then
 * released with mn_aws_client_release, whatever init returned. */
int mn_aws_client_init(struct mn_aws_client *c, const struct mn_host *host, const char *user_agent,
                       const struct mn_aws_creds_config *cc, long timeout_ms,
                       struct mn_provider_error *err);
void mn_aws_client_release(struct mn_aws_client *c);

/* The endpoint URL: configured when not NULL (a simulator, a VPC
 * endpoint), else https://<host_prefix>.<region>.amazonaws.com[.cn]/.
 * 0, or -1 when it does not fit. */
int mn_aws_endpoint(const char *configured, const char *host_prefix, const char *region, char *out,
                    size_t size);

/* One call of ACTION at url. On success *response is the decoded JSON
 * object (the caller frees it); else NULL, and err reads
 * "<service> <action>: <AWS type>: <message> (HTTP <status>)", with the code
 * of aws/error.h and the Retry-After of a TRANSIENT answer. The failure is
 * also logged (a warning when TRANSIENT, else an error). */
int mn_aws_json_call(struct mn_aws_client *c, const struct mn_aws_service *svc, const char *url,
                     const char *action, const json_t *request, json_t **response,
                     struct mn_provider_error *err);

#endif
