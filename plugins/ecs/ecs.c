/* ecs.c — the ECS/Fargate provider: every execution is one Fargate task.
 * This file holds the provider table, init and shutdown; one file per
 * other operation (taskdef.c prepare, launch.c, inspect.c, terminate.c,
 * logs.c), its AWS calls in aws.c (over the toolkit's plugins/support/aws),
 * the configuration in ecs_conf.c.
 * The provider keeps no state of its own between calls: ECS is the record
 * (clientToken makes RunTask idempotent; startedBy and tags find tasks). */
#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "names.h"

static void ecs_free(struct mn_ecs *e) {
  if (!e)
    return;
  mn_aws_client_release(&e->aws);
  mn_ecs_bucket_release(&e->launches);
  free(e);
  curl_global_cleanup();
}

static int set_url(struct mn_ecs *e, enum mn_ecs_service svc, const char *configured,
                   const char *host_prefix) {
  return mn_aws_endpoint(configured, host_prefix, e->conf.region, e->urls[svc],
                         sizeof e->urls[svc]);
}

static int ecs_init(const struct mn_cfg_node *config, const struct mn_host *host, void **state_out,
                    struct mn_provider_error *err) {
  int rc;
  *state_out = NULL;
  /* prepare reads the worker environment the daemon builds since 1.2 */
  if (!MN_HOST_HAS(host, config_error) || !MN_HOST_AT_LEAST(host, 1, 2))
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon is too old (ABI 1.2 needed)");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot initialise libcurl");
  struct mn_ecs *e = calloc(1, sizeof *e);
  if (!e) {
    curl_global_cleanup();
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  }
  e->host = host;
  if ((rc = mn_ecs_conf_load(config, host, &e->conf, err)) != 0) {
    mn_ecs_bucket_init(&e->launches, 1, 1, 0);
    goto fail;
  }
  mn_ecs_bucket_init(&e->launches, (double)e->conf.launch_rate, (double)e->conf.launch_burst,
                     host->now_us());
  if (set_url(e, MN_ECS_SVC_ECS, e->conf.endpoint, "ecs") ||
      set_url(e, MN_ECS_SVC_LOGS, e->conf.logs_endpoint, "logs") ||
      set_url(e, MN_ECS_SVC_ECR, e->conf.ecr_endpoint, "api.ecr")) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "providers.%s: an endpoint URL is too long",
                     host->provider_name);
    goto fail;
  }
  if (mn_ecs_started_by(host->cluster_id, e->started_by, sizeof e->started_by) != 0) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "cluster id \"%s\" is too long",
                     host->cluster_id);
    goto fail;
  }
  struct mn_aws_creds_config cc = {
      .profile = e->conf.profile, .region = e->conf.region, .sts_endpoint = e->conf.sts_endpoint};
  if ((rc = mn_aws_client_init(&e->aws, host, "multinode-ecs/1.0", &cc,
                               (long)e->conf.request_timeout * 1000L, err)) != 0)
    goto fail;
  host->log(host, MN_HOST_LOG_INFO,
            "ecs: cluster \"%s\" in %s (%s), %zu subnet(s), launches at most %.0f/s (burst %d)",
            e->conf.cluster, e->conf.region, e->urls[MN_ECS_SVC_ECS], e->conf.n_subnets,
            (double)e->conf.launch_rate, (int)e->conf.launch_burst);
  *state_out = e;
  return 0;

fail:
  ecs_free(e);
  return rc;
}

static void ecs_shutdown(void *state) { ecs_free(state); }

static int ecs_release(void *state, const struct mn_worker_ref *ref,
                       struct mn_provider_error *err) {
  /* ECS forgets stopped tasks by itself; the log stays in CloudWatch. */
  return 0;
}

/* --check-config: the section as init reads it, no credentials fetched. */
static int ecs_check_config(const struct mn_cfg_node *config, const struct mn_host *host,
                            struct mn_provider_error *err) {
  struct mn_ecs_conf conf;
  return mn_ecs_conf_load(config, host, &conf, err);
}

static const struct mn_provider ecs_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "ecs",
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_CPU_LIMIT |
            MN_PROVIDER_CAP_MEMORY_LIMIT | MN_PROVIDER_CAP_LIST_OWNED,
    .init = ecs_init,
    .check_config = ecs_check_config,
    .config_keys = mn_ecs_conf_keys,
    .shutdown = ecs_shutdown,
    .prepare = mn_ecs_prepare,
    .launch = mn_ecs_launch,
    .inspect_many = mn_ecs_inspect_many,
    .terminate = mn_ecs_terminate,
    .release = ecs_release,
    .list_owned = mn_ecs_list_owned,
    .logs = mn_ecs_logs,
    .registry_credentials = mn_ecs_registry_credentials,
};

MN_PROVIDER_EXPORT const struct mn_provider *mn_provider_entry(void) { return &ecs_provider; }
