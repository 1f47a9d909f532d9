/* kubeconfig.h — how to reach and authenticate to the Kubernetes API, the
 * way kubectl does: a kubeconfig (current or named context; bearer token or
 * token file, client certificate and key as files or -data, CA as file or
 * -data, insecure-skip-tls-verify, http:// servers), or in-cluster (the
 * service-account directory and KUBERNETES_SERVICE_HOST/PORT). Pure: no
 * network (tests/unit/test_k8s_kubeconfig.c). */
#ifndef MN_K8S_KUBECONFIG_H
#define MN_K8S_KUBECONFIG_H

#include <stddef.h>

#define MN_K8S_DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct mn_k8s_auth {
  char server[1024];      /* "https://host:port[/prefix]", no trailing '/' */
  char namespace_[256];   /* the context's (or service account's) namespace, or "" */
  char *token;            /* a static bearer token, or NULL */
  char token_file[4096];  /* a token file, re-read when it changes, or "" */
  char cert_file[4096];   /* client certificate (PEM) file, or "" */
  char key_file[4096];    /* client key (PEM) file, or "" */
  char ca_file[4096];     /* CA bundle file, or "" */
  unsigned char *cert_data, *key_data, *ca_data; /* decoded -data fields, or NULL */
  size_t cert_len, key_len, ca_len;
  int insecure;           /* insecure-skip-tls-verify */
  char source[4352];      /* for logs: `kubeconfig "/p" context "c"` / `in-cluster "/dir"` */
};

/* Loads context `context` (NULL/"": current-context) of the kubeconfig at
 * path. Returns 0, or -1 with a message naming the file and what is wrong. */
int mn_k8s_kubeconfig_load(const char *path, const char *context, struct mn_k8s_auth *out,
                           char *err, size_t err_size);

/* In-cluster: dir holds token, ca.crt and namespace (namespace optional);
 * host/port are KUBERNETES_SERVICE_HOST/PORT. */
int mn_k8s_in_cluster_load(const char *dir, const char *host, const char *port,
                           struct mn_k8s_auth *out, char *err, size_t err_size);

void mn_k8s_auth_release(struct mn_k8s_auth *auth);

/* Decodes base64 (whitespace ignored) into a new buffer. Returns NULL on
 * bad input. */
unsigned char *mn_k8s_base64_decode(const char *text, size_t *len_out);

#endif
