/* k8s.c — the Kubernetes provider: one batch/v1 Job per execution.
 * init/shutdown and the table the daemon loads; the operations live in
 * launch.c, status.c, terminate.c and logs.c, the configuration in
 * k8s_conf.c, credentials in kubeconfig.c, HTTP in api.c. See docs/k8s.md. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s.h"
#include "names.h"

static void k8s_shutdown(void *state) {
  struct mn_k8s *k = state;
  if (!k)
    return;
  if (k->http_ready)
    mn_http_release(&k->http);
  mn_k8s_auth_release(&k->auth);
  free(k->token);
  pthread_mutex_destroy(&k->lock);
  free(k);
}

static int k8s_init(const struct mn_cfg_node *config, const struct mn_host *host,
                    void **state_out, struct mn_provider_error *err) {
  struct mn_k8s *k = calloc(1, sizeof *k);
  if (!k)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  k->host = host;
  pthread_mutex_init(&k->lock, NULL);
  int rc = mn_k8s_conf_read(config, host, &k->conf, err);
  if (!rc)
    rc = mn_k8s_auth_resolve(k, config, err);
  if (rc) {
    k8s_shutdown(k);
    return rc;
  }
  const char *ns = k->conf.namespace_ ? k->conf.namespace_
                   : k->auth.namespace_[0] ? k->auth.namespace_
                                           : "default";
  snprintf(k->namespace_, sizeof k->namespace_, "%s", ns);
  mn_k8s_label_value(host->cluster_id ? host->cluster_id : "", k->cluster_label);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    k8s_shutdown(k);
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot initialise libcurl");
  }
  if (mn_k8s_http_init(k) != 0) {
    k8s_shutdown(k);
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of resources");
  }
  k->http_ready = 1;
  host->log(host, MN_HOST_LOG_INFO, "kubernetes API %s (%s), namespace \"%s\"", k->auth.server,
            k->auth.source, k->namespace_);
  *state_out = k;
  return 0;
}

/* --check-config: the section's keys and values; the kubeconfig or the
 * in-cluster files belong to the machine the daemon runs on, not read here. */
static int k8s_check_config(const struct mn_cfg_node *config, const struct mn_host *host,
                            struct mn_provider_error *err) {
  struct mn_k8s_conf conf;
  memset(&conf, 0, sizeof conf);
  return mn_k8s_conf_read(config, host, &conf, err);
}

/* GET /container_repository_credentials (docs/k8s.md "A registry"): the
 * configured repository and no login. The deployer pushes with its own;
 * the cluster's nodes pull with theirs (image_pull_secrets). */
static int k8s_registry_credentials(void *state, struct mn_registry_credentials *out,
                                    struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  const char *r = k->conf.registry;
  if (!r)
    return k->host->error(err, MN_PROVIDER_E_UNSUPPORTED,
                          "no registry: set providers.k8s.registry");
  memset(out, 0, sizeof *out);
  snprintf(out->repository_name, sizeof out->repository_name, "%s", r);
  snprintf(out->endpoint_url, sizeof out->endpoint_url, "https://%.*s", (int)strcspn(r, "/"), r);
  return 0;
}

static const struct mn_provider k8s_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "k8s",
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_LIST_OWNED |
            MN_PROVIDER_CAP_CPU_LIMIT | MN_PROVIDER_CAP_MEMORY_LIMIT,
    .init = k8s_init,
    .check_config = k8s_check_config,
    .config_keys = mn_k8s_conf_keys,
    .shutdown = k8s_shutdown,
    .prepare = mn_k8s_prepare,
    .launch = mn_k8s_launch,
    .inspect_many = mn_k8s_inspect_many,
    .terminate = mn_k8s_terminate,
    .release = mn_k8s_release,
    .list_owned = mn_k8s_list_owned,
    .logs = mn_k8s_logs,
    .registry_credentials = k8s_registry_credentials,
};

const struct mn_provider *mn_provider_entry(void) { return &k8s_provider; }
