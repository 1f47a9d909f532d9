/* The client handle: URL, key, one reused curl easy handle, options. */
#include "client_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void) {
  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct mn_client *mn_client_new(const char *api_url, const char *api_key) {
  struct mn_client *c = NULL;

  if (!api_url || !*api_url)
    return NULL;
  pthread_once(&curl_once, curl_init);
  if (curl_init_rc != CURLE_OK)
    return NULL;
  c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->connect_timeout_ms = 5000;
  c->request_timeout_ms = 30000;
  c->retry_deadline_ms = 300000;

  c->api_url = strdup(api_url);
  if (!c->api_url)
    goto fail;
  size_t n = strlen(c->api_url);
  while (n > 0 && c->api_url[n - 1] == '/')
    c->api_url[--n] = '\0';

  if (api_key && *api_key) {
    static const char prefix[] = "Authorization: Bearer ";
    c->auth_header = malloc(sizeof prefix + strlen(api_key));
    if (!c->auth_header)
      goto fail;
    strcpy(c->auth_header, prefix);
    strcat(c->auth_header, api_key);
  }

  c->curl = curl_easy_init();
  if (!c->curl)
    goto fail;
  const char *hdrs[] = {"Accept: application/json", "Content-Type: application/json",
                        "Expect:", c->auth_header};
  for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
    if (!hdrs[i])
      continue;
    struct curl_slist *next = curl_slist_append(c->headers, hdrs[i]);
    if (!next)
      goto fail;
    c->headers = next;
  }
  return c;

fail:
  mn_client_free(c);
  return NULL;
}

int mn_client_set_claim_token(struct mn_client *c, const char *token) {
  char line[256];
  if (!c || !token || !*token || strlen(token) > 128 || strpbrk(token, "\r\n"))
    return MN_CLIENT_E_INVAL;
  snprintf(line, sizeof line, "X-Multinode-Claim-Token: %s", token);
  struct curl_slist *next = curl_slist_append(c->headers, line);
  if (!next)
    return MN_CLIENT_E_NOMEM;
  c->headers = next;
  return 0;
}

void mn_client_free(struct mn_client *c) {
  if (!c)
    return;
  if (c->curl)
    curl_easy_cleanup(c->curl);
  curl_slist_free_all(c->headers);
  if (c->auth_header) {
    /* the key is a secret: do not leave it in freed memory */
    volatile char *p = c->auth_header;
    while (*p)
      *p++ = '\0';
    free(c->auth_header);
  }
  free(c->api_url);
  free(c);
}

const char *mn_client_api_url(const struct mn_client *c) {
  return c ? c->api_url : NULL;
}

void mn_client_set_timeouts(struct mn_client *c, long connect_ms, long request_ms) {
  if (!c)
    return;
  if (connect_ms > 0)
    c->connect_timeout_ms = connect_ms;
  if (request_ms > 0)
    c->request_timeout_ms = request_ms;
}

void mn_client_set_retry(struct mn_client *c, int enabled, long deadline_ms) {
  if (!c)
    return;
  c->retry = enabled != 0;
  if (deadline_ms > 0)
    c->retry_deadline_ms = deadline_ms;
}

const char *mn_client_json_str(const json_t *obj, const char *key) {
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int mn_client_json_int(const json_t *obj, const char *key, long long *out) {
  json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return 1;
  }
  if (json_is_real(v)) {
    *out = (long long)json_real_value(v);
    return 1;
  }
  return 0;
}

long long mn_client__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mn_client__sleep_ms(long ms) {
  struct timespec req = {ms / 1000, (ms % 1000) * 1000000L};
  while (ms > 0 && nanosleep(&req, &req) < 0 && errno == EINTR)
    ;
}
