/* k8s_conf.c — providers.k8s: its keys, declared once (provider.h,
 * "Declarative configuration"; docs/k8s.md's table is printed from them),
 * and where the credentials come from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s.h"
#include "names.h"
#include "registry_ref.h"

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

#define AT(T, field) MN_CONFIG_AT(struct mn_k8s_conf, T, field)
#define LIST_AT(field, count) MN_CONFIG_LIST_AT(struct mn_k8s_conf, field, count)
#define WHY(...) (snprintf(why, size, __VA_ARGS__), -1)

static int namespace_check(const char *s, char *why, size_t size) {
  return dns_name_ok(s, 63, 0) ? 0 : WHY("is not a valid namespace (a DNS-1123 label)");
}
static int account_check(const char *s, char *why, size_t size) {
  return dns_name_ok(s, 253, 1) ? 0 : WHY("is not a valid service account name");
}
static int secret_check(const char *s, char *why, size_t size) {
  return dns_name_ok(s, 253, 1) ? 0 : WHY("is not a valid secret name");
}
static int selector_check(const char *s, char *why, size_t size) {
  return selector_ok(s) ? 0 : WHY("is not KEY=VALUE with a valid label value");
}
static int toleration_check(const char *s, char *why, size_t size) {
  return toleration_ok(s) ? 0
                          : WHY("is not KEY[=VALUE][:NoSchedule|PreferNoSchedule|NoExecute]");
}

/* api_url (the URL the pods call) is the daemon's key of every section. */
const struct mn_config_key mn_k8s_conf_keys[] = {
    {.name = "kubeconfig", AT(STRING, kubeconfig),
     .doc = "The kubeconfig file; default `$KUBECONFIG`, then `~/.kube/config`, then "
            "in-cluster."},
    {.name = "context", AT(STRING, context),
     .doc = "The kubeconfig context; default its `current-context`."},
    {.name = "namespace", AT(STRING, namespace_),
     .check = namespace_check,
     .doc = "Where Jobs are created; default the context's, else `default`."},
    {.name = "in_cluster", AT(BOOL, in_cluster), .def = "false",
     .doc = "Use the service account even when a kubeconfig exists."},
    {.name = "in_cluster_dir", AT(STRING, in_cluster_dir),
     .doc = "The service-account directory; default `$MULTINODE_K8S_SA_DIR`, else the "
            "standard path."},
    {.name = "service_account", AT(STRING, service_account),
     .check = account_check,
     .doc = "The pods' service account; default none (no token mounted)."},
    {.name = "image_pull_secrets", LIST_AT(image_pull_secrets, n_image_pull_secrets), .check = secret_check,
     .doc = "The Secrets the pods pull their image with (`imagePullSecrets`)."},
    {.name = "registry", AT(STRING, registry),
     .check = mn_support_registry_check,
     .doc = "`HOST[:PORT]/REPOSITORY` where `multinode deploy` pushes images."},
    {.name = "node_selector", LIST_AT(node_selector, n_node_selector), .check = selector_check,
     .doc = "`[\"key=value\", ...]`: the pods' nodeSelector."},
    {.name = "tolerations", LIST_AT(tolerations, n_tolerations), .check = toleration_check,
     .doc = "`[\"key[=value][:NoSchedule\\|PreferNoSchedule\\|NoExecute]\", ...]`."},
    {.name = "ttl_seconds_after_finished", AT(DURATION, ttl_seconds_after_finished), .def = "1h",
     .max = 2147483647,
     .doc = "Finished Jobs, and so their logs, stay this long."},
    {.name = "termination_grace_seconds", AT(DURATION, termination_grace_seconds), .def = "120",
     .max = 86400,
     .doc = "The pods' `terminationGracePeriodSeconds`."},
    {.name = "pending_timeout", AT(DURATION, pending_timeout_seconds), .def = "5m", .min = 1,
     .max = INT64_MAX,
     .doc = "A pod not running after this long fails the attempt."},
    {.name = "request_timeout", AT(DURATION, request_timeout_seconds), .def = "30s", .min = 1,
     .max = 3600, .doc = "Longest one API call may take."},
    {0},
};

int mn_k8s_conf_read(const struct mn_cfg_node *config, const struct mn_host *host,
                     struct mn_k8s_conf *c, struct mn_provider_error *err) {
  memset(c, 0, sizeof *c);
  if (!MN_HOST_HAS(host, config_load) || !host->config_load)
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon is too old (ABI 1.2 needed)");
  return host->config_load(config, mn_k8s_conf_keys, c, err);
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
