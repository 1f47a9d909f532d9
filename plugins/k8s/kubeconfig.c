/* kubeconfig.c — kubeconfig and in-cluster credentials (see kubeconfig.h). */
#include "kubeconfig.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "multinode/common/buf.h"
#include "yaml_json.h"

static char *read_file(const char *path, size_t *len_out, char *err, size_t err_size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, err_size, "cannot open \"%s\": %s", path, strerror(errno));
    return NULL;
  }
  struct mn_buf b = {0};
  int rc = mn_buf_read_fd(&b, fd, 64u << 20);
  int why = errno;
  close(fd);
  if (rc < 0) {
    mn_buf_release(&b);
    snprintf(err, err_size, "cannot read \"%s\": %s", path,
             why == EFBIG ? "too large" : strerror(why));
    return NULL;
  }
  size_t len = 0;
  char *buf = mn_buf_take(&b, &len);
  if (!buf)
    snprintf(err, err_size, "cannot read \"%s\": out of memory", path);
  else if (len_out)
    *len_out = len;
  return buf;
}

unsigned char *mn_k8s_base64_decode(const char *text, size_t *len_out) {
  size_t n = strlen(text), k = 0;
  char *clean = malloc(n + 1);
  if (!clean)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
      clean[k++] = text[i];
  clean[k] = '\0';
  if (k == 0 || k % 4 != 0) {
    free(clean);
    return NULL;
  }
  unsigned char *out = malloc(k / 4 * 3 + 1);
  int got = out ? EVP_DecodeBlock(out, (const unsigned char *)clean, (int)k) : -1;
  if (got < 0) {
    free(out);
    free(clean);
    return NULL;
  }
  /* EVP_DecodeBlock counts the padding as zero bytes */
  if (clean[k - 1] == '=')
    got--;
  if (clean[k - 2] == '=')
    got--;
  free(clean);
  out[got] = '\0';
  *len_out = (size_t)got;
  return out;
}

/* The entry of list `section` (clusters/users/contexts) named `name`: its
 * inner object (`cluster`, `user`, `context`). */
static json_t *named(json_t *root, const char *section, const char *inner, const char *name) {
  json_t *arr = json_object_get(root, section), *it;
  size_t i;
  json_array_foreach(arr, i, it) {
    const char *n = json_string_value(json_object_get(it, "name"));
    if (n && strcmp(n, name) == 0) {
      json_t *o = json_object_get(it, inner);
      return json_is_object(o) ? o : NULL;
    }
  }
  return NULL;
}

static const char *str(json_t *obj, const char *key) {
  return json_string_value(json_object_get(obj, key));
}

/* A path from the kubeconfig, relative to its directory when relative. */
static void resolve_path(const char *base_dir, const char *p, char *out, size_t size) {
  if (p[0] == '/' || !base_dir[0])
    snprintf(out, size, "%s", p);
  else
    snprintf(out, size, "%s/%s", base_dir, p);
}

static int decode_field(json_t *obj, const char *key, unsigned char **data, size_t *len,
                        const char *path, char *err, size_t err_size) {
  const char *v = str(obj, key);
  if (!v)
    return 0;
  if (!(*data = mn_k8s_base64_decode(v, len))) {
    snprintf(err, err_size, "%s: %s is not valid base64", path, key);
    return -1;
  }
  return 0;
}

int mn_k8s_kubeconfig_load(const char *path, const char *context, struct mn_k8s_auth *out,
                           char *err, size_t err_size) {
  size_t len = 0;
  int rc = -1;
  json_t *root = NULL;
  memset(out, 0, sizeof *out);
  char *text = read_file(path, &len, err, err_size);
  if (!text)
    return -1;
  if (!(root = mn_k8s_yaml_to_json(path, text, len, err, err_size)))
    goto out;
  char base_dir[4096];
  snprintf(base_dir, sizeof base_dir, "%s", path);
  char *slash = strrchr(base_dir, '/');
  if (slash)
    *slash = '\0';
  else
    base_dir[0] = '\0';

  const char *ctx_name = context && context[0] ? context : str(root, "current-context");
  if (!ctx_name || !ctx_name[0]) {
    snprintf(err, err_size, "%s: no current-context, and no context configured", path);
    goto out;
  }
  json_t *ctx = named(root, "contexts", "context", ctx_name);
  if (!ctx) {
    snprintf(err, err_size, "%s: no context named \"%s\"", path, ctx_name);
    goto out;
  }
  const char *cluster_name = str(ctx, "cluster"), *user_name = str(ctx, "user");
  json_t *cluster = cluster_name ? named(root, "clusters", "cluster", cluster_name) : NULL;
  if (!cluster) {
    snprintf(err, err_size, "%s: context \"%s\": no cluster named \"%s\"", path, ctx_name,
             cluster_name ? cluster_name : "");
    goto out;
  }
  json_t *user = user_name ? named(root, "users", "user", user_name) : NULL;
  if (user_name && user_name[0] && !user) {
    snprintf(err, err_size, "%s: context \"%s\": no user named \"%s\"", path, ctx_name,
             user_name);
    goto out;
  }
  const char *server = str(cluster, "server");
  if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)) {
    snprintf(err, err_size, "%s: cluster \"%s\": server must be an http:// or https:// URL",
             path, cluster_name);
    goto out;
  }
  snprintf(out->server, sizeof out->server, "%s", server);
  size_t sl = strlen(out->server);
  while (sl > 0 && out->server[sl - 1] == '/')
    out->server[--sl] = '\0';
  if (str(ctx, "namespace"))
    snprintf(out->namespace_, sizeof out->namespace_, "%s", str(ctx, "namespace"));
  const char *insecure = str(cluster, "insecure-skip-tls-verify");
  out->insecure = insecure && strcmp(insecure, "true") == 0;
  if (str(cluster, "certificate-authority"))
    resolve_path(base_dir, str(cluster, "certificate-authority"), out->ca_file,
                 sizeof out->ca_file);
  if (decode_field(cluster, "certificate-authority-data", &out->ca_data, &out->ca_len, path, err,
                   err_size))
    goto out;
  if (user) {
    if (json_object_get(user, "exec") || json_object_get(user, "auth-provider") ||
        json_object_get(user, "username")) {
      snprintf(err, err_size,
               "%s: user \"%s\": only token, tokenFile and client certificates are supported "
               "(not exec, auth-provider or basic auth)",
               path, user_name);
      goto out;
    }
    if (str(user, "token") && !(out->token = strdup(str(user, "token")))) {
      snprintf(err, err_size, "out of memory");
      goto out;
    }
    if (str(user, "tokenFile"))
      resolve_path(base_dir, str(user, "tokenFile"), out->token_file, sizeof out->token_file);
    if (str(user, "client-certificate"))
      resolve_path(base_dir, str(user, "client-certificate"), out->cert_file,
                   sizeof out->cert_file);
    if (str(user, "client-key"))
      resolve_path(base_dir, str(user, "client-key"), out->key_file, sizeof out->key_file);
    if (decode_field(user, "client-certificate-data", &out->cert_data, &out->cert_len, path, err,
                     err_size) ||
        decode_field(user, "client-key-data", &out->key_data, &out->key_len, path, err,
                     err_size))
      goto out;
    int has_cert = out->cert_file[0] || out->cert_data;
    int has_key = out->key_file[0] || out->key_data;
    if (has_cert != has_key) {
      snprintf(err, err_size, "%s: user \"%s\": a client certificate needs a client key and "
               "vice versa", path, user_name);
      goto out;
    }
  }
  snprintf(out->source, sizeof out->source, "kubeconfig \"%s\" context \"%s\"", path, ctx_name);
  rc = 0;
out:
  if (rc)
    mn_k8s_auth_release(out);
  json_decref(root);
  free(text);
  return rc;
}

int mn_k8s_in_cluster_load(const char *dir, const char *host, const char *port,
                           struct mn_k8s_auth *out, char *err, size_t err_size) {
  struct stat sb;
  memset(out, 0, sizeof *out);
  if (!host || !host[0] || !port || !port[0]) {
    snprintf(err, err_size, "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
             "must be set");
    return -1;
  }
  snprintf(out->token_file, sizeof out->token_file, "%s/token", dir);
  if (stat(out->token_file, &sb) != 0) {
    snprintf(err, err_size, "in-cluster: cannot read \"%s\": %s", out->token_file,
             strerror(errno));
    return -1;
  }
  snprintf(out->ca_file, sizeof out->ca_file, "%s/ca.crt", dir);
  if (stat(out->ca_file, &sb) != 0)
    out->ca_file[0] = '\0'; /* the system's CAs then */
  if (strchr(host, ':'))
    snprintf(out->server, sizeof out->server, "https://[%s]:%s", host, port);
  else
    snprintf(out->server, sizeof out->server, "https://%s:%s", host, port);
  char path[4200], small[256];
  snprintf(path, sizeof path, "%s/namespace", dir);
  char *ns = read_file(path, NULL, small, sizeof small);
  if (ns) {
    ns[strcspn(ns, " \r\n\t")] = '\0';
    snprintf(out->namespace_, sizeof out->namespace_, "%s", ns);
    free(ns);
  }
  snprintf(out->source, sizeof out->source, "in-cluster \"%s\"", dir);
  return 0;
}

void mn_k8s_auth_release(struct mn_k8s_auth *auth) {
  if (!auth)
    return;
  free(auth->token);
  free(auth->cert_data);
  free(auth->key_data);
  free(auth->ca_data);
  auth->token = NULL;
  auth->cert_data = auth->key_data = auth->ca_data = NULL;
}
