/* k8s_conf.c — providers.k8s: its keys, and where the credentials come from.
 *
 *   providers:
 *     k8s:
 *       kubeconfig: /etc/multinode/kubeconfig  # else $KUBECONFIG, ~/.kube/config, in-cluster
 *       context: prod                         # else the current-context
 *       namespace: multinode                  # else the context's, else "default"
 *       in_cluster: false                     # force the service-account credentials
 *       in_cluster_dir: /var/run/secrets/kubernetes.io/serviceaccount
 *       service_account: multinode-worker     # the pods' service account
 *       image_pull_secrets: [regcred]              # the pods pull with these Secrets
 *       registry: registry.example.com/multinode   # where `multinode deploy` pushes
 *       node_selector: ["kubernetes.io/arch=amd64"]
 *       tolerations: ["dedicated=multinode:NoSchedule"]
 *       api_url: http://multinode.multinode.svc:5000   # the URL pods call (the
 *                                             # daemon's key: provider.h)
 *       ttl_seconds_after_finished: 1h
 *       termination_grace_seconds: 120        # the pods' terminationGracePeriodSeconds
 *       pending_timeout: 5m                   # a pod Pending this long fails the attempt
 *       request_timeout: 30s
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s.h"
#include "names.h"
#include "registry_ref.h"

static const char *const known_keys[] = {
    "kubeconfig",         "context",
    "namespace",          "in_cluster",
    "in_cluster_dir",     "service_account",
    "image_pull_secrets", "node_selector",
    "tolerations",
    "ttl_seconds_after_finished", "termination_grace_seconds",
    "pending_timeout",    "request_timeout",
    "registry",
};

/* A DNS-1123 label / subdomain. */
static int dns_name_ok(const char *s, size_t max, int dots) {
  size_t n = strlen(s);
  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-' && !(dots && c == '.'))
      return 0;
    if ((i == 0 || i == n - 1) && !alnum)
      return 0;
  }
  return 1;
}

/* "key=value" with a label key and value. */
static int selector_ok(const char *s) {
  const char *eq = strchr(s, '=');
  if (!eq || eq == s)
    return 0;
  char value[64];
  if (strlen(eq + 1) > 63)
    return 0;
  snprintf(value, sizeof value, "%s", eq + 1);
  return mn_k8s_label_value_valid(value);
}

static int toleration_ok(const char *s) {
  const char *colon = strrchr(s, ':');
  if (colon && strcmp(colon + 1, "NoSchedule") && strcmp(colon + 1, "PreferNoSchedule") &&
      strcmp(colon + 1, "NoExecute"))
    return 0;
  return s[0] && s[0] != '=' && s[0] != ':';
}

int mn_k8s_conf_read(const struct mn_cfg_node *config, const struct mn_host *host,
                     struct mn_k8s_conf *c, struct mn_provider_error *err) {
  int rc = host->config_check_keys(config, known_keys, sizeof known_keys / sizeof *known_keys,
                                   err);
  if (rc)
    return rc;
  memset(c, 0, sizeof *c);
  c->ttl_seconds_after_finished = 3600;
  c->termination_grace_seconds = 120;
  c->pending_timeout_seconds = 300;
  c->request_timeout_seconds = 30;
  if ((rc = host->config_string(config, "kubeconfig", 0, &c->kubeconfig, err)) ||
      (rc = host->config_string(config, "context", 0, &c->context, err)) ||
      (rc = host->config_string(config, "namespace", 0, &c->namespace_, err)) ||
      (rc = host->config_bool(config, "in_cluster", 0, &c->in_cluster, err)) ||
      (rc = host->config_string(config, "in_cluster_dir", 0, &c->in_cluster_dir, err)) ||
      (rc = host->config_string(config, "service_account", 0, &c->service_account, err)) ||
      (rc = host->config_string(config, "registry", 0, &c->registry, err)) ||
      (rc = host->config_strings(config, "image_pull_secrets", 0, &c->image_pull_secrets,
                                 &c->n_image_pull_secrets, err)) ||
      (rc = host->config_strings(config, "node_selector", 0, &c->node_selector,
                                 &c->n_node_selector, err)) ||
      (rc = host->config_strings(config, "tolerations", 0, &c->tolerations, &c->n_tolerations,
                                 err)) ||
      (rc = host->config_duration(config, "ttl_seconds_after_finished", 0,
                                  &c->ttl_seconds_after_finished, err)) ||
      (rc = host->config_duration(config, "termination_grace_seconds", 0,
                                  &c->termination_grace_seconds, err)) ||
      (rc = host->config_duration(config, "pending_timeout", 0, &c->pending_timeout_seconds,
                                  err)) ||
      (rc = host->config_duration(config, "request_timeout", 0, &c->request_timeout_seconds,
                                  err)))
    return rc;
  if (c->namespace_ && !dns_name_ok(c->namespace_, 63, 0))
    return host->config_error(config, "namespace", err,
                              "\"%s\" is not a valid namespace (a DNS-1123 label)",
                              c->namespace_);
  if (c->service_account && !dns_name_ok(c->service_account, 253, 1))
    return host->config_error(config, "service_account", err,
                              "\"%s\" is not a valid service account name", c->service_account);
  if (c->registry && !mn_support_registry_valid(c->registry))
    return host->config_error(config, "registry", err, MN_SUPPORT_REGISTRY_HINT, c->registry);
  for (size_t i = 0; i < c->n_image_pull_secrets; i++)
    if (!dns_name_ok(c->image_pull_secrets[i], 253, 1))
      return host->config_error(config, "image_pull_secrets", err,
                                "\"%s\" is not a valid secret name", c->image_pull_secrets[i]);
  for (size_t i = 0; i < c->n_node_selector; i++)
    if (!selector_ok(c->node_selector[i]))
      return host->config_error(config, "node_selector", err,
                                "\"%s\" is not KEY=VALUE with a valid label value",
                                c->node_selector[i]);
  for (size_t i = 0; i < c->n_tolerations; i++)
    if (!toleration_ok(c->tolerations[i]))
      return host->config_error(config, "tolerations", err,
                                "\"%s\" is not KEY[=VALUE][:NoSchedule|PreferNoSchedule|"
                                "NoExecute]",
                                c->tolerations[i]);
  if (c->ttl_seconds_after_finished < 0 || c->ttl_seconds_after_finished > 2147483647)
    return host->config_error(config, "ttl_seconds_after_finished", err, "out of range");
  if (c->termination_grace_seconds < 0 || c->termination_grace_seconds > 86400)
    return host->config_error(config, "termination_grace_seconds", err,
                              "out of range (0 to 1d)");
  if (c->pending_timeout_seconds < 1)
    return host->config_error(config, "pending_timeout", err, "must be at least 1 s");
  if (c->request_timeout_seconds < 1 || c->request_timeout_seconds > 3600)
    return host->config_error(config, "request_timeout", err, "out of range (1 s to 1 h)");
  return 0;
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

int mn_k8s_auth_resolve(struct mn_k8s *k, const struct mn_cfg_node *config,
                        struct mn_provider_error *err) {
  const struct mn_host *host = k->host;
  const struct mn_k8s_conf *c = &k->conf;
  char msg[1024], path[4096];
  const char *sa_dir = c->in_cluster_dir;
  if (!sa_dir)
    sa_dir = getenv("MULTINODE_K8S_SA_DIR");
  if (!sa_dir || !sa_dir[0])
    sa_dir = MN_K8S_DEFAULT_SA_DIR;
  const char *svc_host = getenv("KUBERNETES_SERVICE_HOST");
  const char *svc_port = getenv("KUBERNETES_SERVICE_PORT");

  if (c->in_cluster) {
    if (mn_k8s_in_cluster_load(sa_dir, svc_host, svc_port, &k->auth, msg, sizeof msg))
      return host->config_error(config, "in_cluster", err, "%s", msg);
    return 0;
  }
  if (c->kubeconfig) {
    if (mn_k8s_kubeconfig_load(c->kubeconfig, c->context, &k->auth, msg, sizeof msg))
      return host->config_error(config, c->context && strstr(msg, "context") ? "context"
                                                                            : "kubeconfig",
                                err, "%s", msg);
    return 0;
  }
  const char *env = getenv("KUBECONFIG");
  if (env && env[0]) {
    snprintf(path, sizeof path, "%s", env);
    path[strcspn(path, ":")] = '\0'; /* the first file of the list */
    if (mn_k8s_kubeconfig_load(path, c->context, &k->auth, msg, sizeof msg))
      return host->error(err, MN_PROVIDER_E_INVALID, "KUBECONFIG: %s", msg);
    return 0;
  }
  const char *home = getenv("HOME");
  if (home && home[0]) {
    snprintf(path, sizeof path, "%s/.kube/config", home);
    if (exists(path)) {
      if (mn_k8s_kubeconfig_load(path, c->context, &k->auth, msg, sizeof msg))
        return host->error(err, MN_PROVIDER_E_INVALID, "%s", msg);
      return 0;
    }
  }
  if (svc_host && svc_host[0]) {
    if (mn_k8s_in_cluster_load(sa_dir, svc_host, svc_port, &k->auth, msg, sizeof msg))
      return host->error(err, MN_PROVIDER_E_INVALID, "%s", msg);
    return 0;
  }
  return host->config_error(config, "kubeconfig", err,
                            "no Kubernetes credentials: set providers.k8s.kubeconfig or "
                            "KUBECONFIG, create ~/.kube/config, or run in a cluster");
}
