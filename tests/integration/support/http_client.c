#include "http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_client {
  CURL *curl;
  char *base_url;
  char *auth_header;
  long connects;
};

struct buffer {
  char *data;
  size_t len;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct buffer *b = userdata;
  size_t n = size * nmemb;
  char *grown = realloc(b->data, b->len + n + 1);
  if (!grown)
    return 0;
  memcpy(grown + b->len, ptr, n);
  b->data = grown;
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

char *http_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = malloc((size_t)n + 1);
  if (!s)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

struct http_client *http_client_new(const char *base_url, const char *api_key) {
  struct http_client *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->curl = curl_easy_init();
  c->base_url = strdup(base_url);
  if (api_key)
    c->auth_header = http_strf("Authorization: Bearer %s", api_key);
  if (!c->curl || !c->base_url || (api_key && !c->auth_header)) {
    http_client_free(c);
    return NULL;
  }
  return c;
}

void http_client_free(struct http_client *c) {
  if (!c)
    return;
  if (c->curl)
    curl_easy_cleanup(c->curl);
  free(c->base_url);
  free(c->auth_header);
  free(c);
}

long http_client_connects(struct http_client *c) { return c->connects; }

int http_request_ex(struct http_client *c, const char *method, const char *path,
                    const char *body, size_t body_len, const char *const *headers, bool auth,
                    long *status, json_t **json, char **raw) {
  struct buffer out = {0};
  struct curl_slist *list = NULL;
  char *url = http_strf("%s%s", c->base_url, path);
  int rc = -1;
  *status = 0;
  if (json)
    *json = NULL;
  if (raw)
    *raw = NULL;
  CURL *h = c->curl;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    list = curl_slist_append(list, "Content-Type: application/json");
  }
  if (auth && c->auth_header)
    list = curl_slist_append(list, c->auth_header);
  for (const char *const *hd = headers; hd && *hd; hd++)
    list = curl_slist_append(list, *hd);
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  CURLcode cc = curl_easy_perform(h);
  if (cc == CURLE_OK) {
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    c->connects += connects;
    if (json && out.data)
      *json = json_loadb(out.data, out.len, JSON_DECODE_ANY, NULL);
    if (raw) {
      *raw = out.data;
      out.data = NULL;
    }
    rc = 0;
  } else {
    fprintf(stderr, "http_request %s %s: %s\n", method, path, curl_easy_strerror(cc));
  }
  curl_slist_free_all(list);
  free(out.data);
  free(url);
  return rc;
}

int http_request(struct http_client *c, const char *method, const char *path, const char *body,
                 long *status, json_t **json) {
  return http_request_ex(c, method, path, body, body ? strlen(body) : 0, NULL, true, status,
                         json, NULL);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_raw_exchange(int port, const char *request, size_t len, int timeout_ms,
                      char **response) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  struct buffer in = {0};
  long long deadline = now_ms() + timeout_ms;
  int rc = -1;
  *response = NULL;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    goto out;
  for (size_t sent = 0; sent < len;) {
    ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
    if (n <= 0)
      goto out;
    sent += (size_t)n;
  }
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0)
      goto out; /* the server neither answered nor closed in time */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)left) <= 0)
      continue;
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET && in.len > 0))
      break;
    if (n < 0)
      goto out;
    on_write(chunk, 1, (size_t)n, &in);
  }
  *response = in.data ? in.data : strdup("");
  in.data = NULL;
  rc = 0;
out:
  free(in.data);
  close(fd);
  return rc;
}
