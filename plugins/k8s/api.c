/* api.c — one HTTP exchange with the Kubernetes API server over libcurl:
 * TLS (CA, client certificate and key as files or in-memory blobs,
 * insecure-skip-tls-verify), the bearer token (re-read from its file when
 * the file changes, as a projected service-account token rotates), JSON
 * bodies (PATCH: JSON merge patch), Retry-After, and the mapping of
 * statuses to provider errors. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "body_buf.h"
#include "k8s.h"

#define MAX_BODY (64u << 20)

/* the body, and Retry-After from the headers */
struct sink {
  struct mn_body_buf body;
  int retry_after;
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg) {
  struct sink *s = arg;
  size_t n = size * nmemb;
  if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
    char v[32];
    snprintf(v, sizeof v, "%.*s", (int)(n - 12 < 31 ? n - 12 : 31), data + 12);
    char *end;
    long secs = strtol(v, &end, 10);
    if (end != v && secs >= 0 && secs < 3600)
      s->retry_after = (int)secs;
  }
  return n;
}

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

int mn_k8s_request(struct mn_k8s *k, const char *method, const char *path, json_t *body,
                   struct mn_k8s_response *resp, struct mn_provider_error *err) {
  const struct mn_host *host = k->host;
  struct sink s = {.retry_after = -1};
  mn_body_buf_init(&s.body, MAX_BODY);
  struct curl_slist *headers = NULL;
  char *payload = NULL, *token = NULL;
  char url[4096], auth[16400];
  int rc = 0;
  memset(resp, 0, sizeof *resp);
  resp->retry_after = -1;

  char rule[320] = "";
  if (mn_k8s_call_rule(method, path, rule, sizeof rule) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "internal: %s %s is not among the provider's API calls (%s; "
                       "plugins/k8s/api_calls.c)", method, path, rule[0] ? rule : "no rule");

  pthread_mutex_lock(&k->lock);
  int64_t wait_us = k->not_before_us - host->now_us();
  pthread_mutex_unlock(&k->lock);
  if (wait_us > 0)
    return host->error(err, MN_PROVIDER_E_TRANSIENT,
                       "kubernetes API asked to retry after %lld s: backing off",
                       (long long)((wait_us + 999999) / 1000000));

  CURL *c = curl_easy_init();
  if (!c)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot create a curl handle");
  snprintf(url, sizeof url, "%s%s", k->auth.server, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)k->conf.request_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mn_body_buf_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "multinoded-k8s/1");
  if (k->auth.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (k->auth.ca_data) {
    struct curl_blob b = {k->auth.ca_data, k->auth.ca_len, CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
  } else if (k->auth.ca_file[0]) {
    curl_easy_setopt(c, CURLOPT_CAINFO, k->auth.ca_file);
  }
  if (k->auth.cert_data) {
    struct curl_blob b = {k->auth.cert_data, k->auth.cert_len, CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &b);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (k->auth.cert_file[0]) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, k->auth.cert_file);
  }
  if (k->auth.key_data) {
    struct curl_blob b = {k->auth.key_data, k->auth.key_len, CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (k->auth.key_file[0]) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, k->auth.key_file);
  }
  if ((token = current_token(k))) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    headers = curl_slist_append(headers, auth);
  }
  headers = curl_slist_append(headers, "Accept: application/json, */*");
  if (body) {
    payload = json_dumps(body, JSON_COMPACT);
    if (!payload) {
      rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
      goto out;
    }
    /* PATCH bodies are JSON merge patches (RFC 7386) */
    headers = curl_slist_append(headers, strcmp(method, "PATCH") == 0
                                             ? "Content-Type: application/merge-patch+json"
                                             : "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  CURLcode cc = curl_easy_perform(c);
  if (cc != CURLE_OK) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot reach the kubernetes API at %s: %s%s",
                     k->auth.server, curl_easy_strerror(cc),
                     s.body.too_big ? " (answer too large)" : "");
    goto out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  resp->len = s.body.len;
  resp->text = s.body.data ? mn_body_buf_take(&s.body) : strdup("");
  resp->retry_after = s.retry_after;
  if (resp->text && resp->len && (resp->text[0] == '{' || resp->text[0] == '['))
    resp->json = json_loadb(resp->text, resp->len, 0, NULL);
  if ((resp->status == 429 || resp->status == 503) && resp->retry_after > 0) {
    pthread_mutex_lock(&k->lock);
    k->not_before_us = host->now_us() + (int64_t)resp->retry_after * 1000000;
    pthread_mutex_unlock(&k->lock);
  }
  if (!resp->text) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    mn_k8s_response_release(resp);
  }
out:
  mn_body_buf_release(&s.body);
  if (payload) /* it may carry a Secret's data */
    OPENSSL_cleanse(payload, strlen(payload));
  free(payload);
  free(token);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
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
  int code;
  if (r->status == 429 || r->status >= 500)
    code = MN_PROVIDER_E_TRANSIENT;
  else if (r->status == 401 || r->status == 403)
    code = MN_PROVIDER_E_AUTH;
  else if (r->status == 404)
    code = MN_PROVIDER_E_NOT_FOUND;
  else
    code = MN_PROVIDER_E_INVALID;
  if (r->retry_after >= 0)
    return k->host->error(err, code, "%s: kubernetes API answered %ld (retry after %d s): %s",
                          what, r->status, r->retry_after, msg);
  return k->host->error(err, code, "%s: kubernetes API answered %ld: %s", what, r->status, msg);
}

int mn_k8s_selector_query(const char *selector, char *out, size_t size) {
  char *esc = curl_easy_escape(NULL, selector, 0);
  if (!esc)
    return -1;
  int n = snprintf(out, size, "labelSelector=%s", esc);
  curl_free(esc);
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
