/* api.c — one HTTP exchange with the Kubernetes API server over the
 * toolkit's client (plugins/support/http.h; its connection and TLS session
 * are kept from call to call): TLS (CA, client certificate and key as files
 * or in-memory blobs, insecure-skip-tls-verify), the bearer token (re-read from its file when
 * the file changes, as a projected service-account token rotates), JSON
 * bodies (PATCH: JSON merge patch), Retry-After, and the mapping of
 * statuses to provider errors. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http.h"
#include "k8s.h"

#define MAX_BODY (64u << 20)

void mn_k8s_response_release(struct mn_k8s_response *r) {
  if (!r)
    return;
  free(r->text);
  json_decref(r->json);
  memset(r, 0, sizeof *r);
}

/* The bearer token: the file's content (re-read when its inode, size or
 * mtime changed), else the static token. Returns a copy, or NULL. */
static char *current_token(struct mn_k8s *k) {
  char *out = NULL;
  pthread_mutex_lock(&k->lock);
  if (k->auth.token) {
    out = strdup(k->auth.token);
  } else if (k->auth.token_file[0]) {
    struct stat sb;
    if (stat(k->auth.token_file, &sb) == 0 &&
        (!k->token || sb.st_ino != k->token_ino || sb.st_size != k->token_size ||
         sb.st_mtim.tv_sec != k->token_mtime.tv_sec ||
         sb.st_mtim.tv_nsec != k->token_mtime.tv_nsec)) {
      FILE *f = fopen(k->auth.token_file, "r");
      char buf[16384];
      size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
      if (f)
        fclose(f);
      if (f && n > 0) {
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
          buf[--n] = '\0';
        char *copy = strdup(buf);
        if (copy) {
          if (k->token)
            k->host->log(k->host, MN_HOST_LOG_INFO, "token file \"%s\" changed: re-read",
                         k->auth.token_file);
          free(k->token);
          k->token = copy;
          k->token_ino = sb.st_ino;
          k->token_size = sb.st_size;
          k->token_mtime = sb.st_mtim;
        }
      }
    }
    if (k->token)
      out = strdup(k->token);
  }
  pthread_mutex_unlock(&k->lock);
  return out;
}

int mn_k8s_http_init(struct mn_k8s *k) {
  const struct mn_k8s_auth *a = &k->auth;
  snprintf(k->http_name, sizeof k->http_name, "kubernetes API at %s", a->server);
  struct mn_http_config cfg = {
      .name = k->http_name,
      .user_agent = "multinoded-k8s/1",
      .tls = {.insecure = a->insecure,
              .ca_data = a->ca_data, .ca_len = a->ca_len,
              .ca_file = a->ca_file[0] ? a->ca_file : NULL,
              .cert_data = a->cert_data, .cert_len = a->cert_len,
              .cert_file = a->cert_file[0] ? a->cert_file : NULL,
              .key_data = a->key_data, .key_len = a->key_len,
              .key_file = a->key_file[0] ? a->key_file : NULL},
  };
  return mn_http_init(&k->http, &cfg);
}

int mn_k8s_request(struct mn_k8s *k, const char *method, const char *path, json_t *body,
                   struct mn_k8s_response *resp, struct mn_provider_error *err) {
  const struct mn_host *host = k->host;
  char *payload = NULL, *token = NULL, *auth = NULL;
  const char *headers[4];
  size_t n_headers = 0;
  char url[4096], why[512];
  int rc = 0;
  memset(resp, 0, sizeof *resp);
  resp->retry_after_us = -1;

  char rule[320] = "";
  if (mn_k8s_call_rule(method, path, rule, sizeof rule) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "internal: %s %s is not among the provider's API calls (%s; "
                       "plugins/k8s/api_calls.c)", method, path, rule[0] ? rule : "no rule");
  if (snprintf(url, sizeof url, "%s%s", k->auth.server, path) >= (int)sizeof url)
    return host->error(err, MN_PROVIDER_E_INVALID, "request path too long");
  if ((token = current_token(k))) {
    size_t size = strlen(token) + 32;
    if (!(auth = malloc(size))) {
      rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
      goto out;
    }
    snprintf(auth, size, "Authorization: Bearer %s", token);
    headers[n_headers++] = auth;
  }
  headers[n_headers++] = "Accept: application/json, */*";
  if (body) {
    payload = json_dumps(body, JSON_COMPACT);
    if (!payload) {
      rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
      goto out;
    }
    /* PATCH bodies are JSON merge patches (RFC 7386) */
    headers[n_headers++] = strcmp(method, "PATCH") == 0
                               ? "Content-Type: application/merge-patch+json"
                               : "Content-Type: application/json";
  }
  headers[n_headers] = NULL;
  struct mn_http_request rq = {
      .method = method,
      .url = url,
      .headers = headers,
      .body = payload,
      .timeout_ms = (long)k->conf.request_timeout_seconds * 1000L,
      .max_body = MAX_BODY,
  };
  struct mn_http_response r;
  if (mn_http_call(&k->http, &rq, &r, why, sizeof why) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot reach the %s", why);
    goto out;
  }
  resp->status = r.status;
  resp->len = r.len;
  resp->text = r.body;
  resp->retry_after_us = r.retry_after_us;
  if (resp->len && (resp->text[0] == '{' || resp->text[0] == '['))
    resp->json = json_loadb(resp->text, resp->len, 0, NULL);
out:
  if (payload) /* it may carry a Secret's data */
    OPENSSL_cleanse(payload, strlen(payload));
  free(payload);
  if (auth)
    OPENSSL_cleanse(auth, strlen(auth));
  free(auth);
  free(token);
  return rc;
}

int mn_k8s_fail(struct mn_k8s *k, const struct mn_k8s_response *r, const char *what,
                struct mn_provider_error *err) {
  const char *msg = json_string_value(json_object_get(r->json, "message"));
  char detail[400];
  if (!msg) {
    snprintf(detail, sizeof detail, "%.200s", r->text ? r->text : "");
    detail[strcspn(detail, "\r\n")] = '\0';
    msg = detail;
  }
  int code = mn_http_status_code(r->status, NULL);
  if (code == MN_PROVIDER_OK) /* a 2xx or 3xx a caller did not expect */
    code = MN_PROVIDER_E_INVALID;
  if (r->retry_after_us >= 0 && code == MN_PROVIDER_E_TRANSIENT) {
    /* the daemon waits that long before the next call of this kind */
    k->host->error(err, code, "%s: kubernetes API answered %ld (retry after %lld s): %s", what,
                   r->status, (long long)(r->retry_after_us / 1000000), msg);
    mn_provider_retry_after(k->host, err, r->retry_after_us);
    return code;
  }
  return k->host->error(err, code, "%s: kubernetes API answered %ld: %s", what, r->status, msg);
}

int mn_k8s_selector_query(const char *selector, char *out, size_t size) {
  char esc[2048];
  if (mn_http_escape(selector, esc, sizeof esc) != 0)
    return -1;
  int n = snprintf(out, size, "labelSelector=%s", esc);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

int mn_k8s_ref_split(const struct mn_worker_ref *ref, char ns[256], char job[64]) {
  const char *slash = strchr(ref->identifier, '/');
  if (!slash || slash == ref->identifier || (size_t)(slash - ref->identifier) >= 256 ||
      strlen(slash + 1) >= 64 || !slash[1])
    return -1;
  snprintf(ns, 256, "%.*s", (int)(slash - ref->identifier), ref->identifier);
  snprintf(job, 64, "%s", slash + 1);
  return 0;
}
