/* A streaming POST to the Docker Engine (engine_stream.h). */
#include "engine_stream.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define DEFAULT_SOCKET "/var/run/docker.sock"
#define CONNECT_TIMEOUT_S 10L

struct lines {
  const struct mn_engine_post *req;
  char line[65536];
  size_t len;
};

const char *mn_engine_socket(void) {
  const char *host = getenv("DOCKER_HOST");
  if (host && strncmp(host, "unix://", 7) == 0)
    return host + 7;
  return DEFAULT_SOCKET;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx) {
  struct lines *l = ctx;
  size_t n = size * nmemb;
  for (size_t i = 0; i < n; i++) {
    if (data[i] == '\n') {
      l->req->on_line(l->req->ctx, l->line, l->len);
      l->len = 0;
    } else if (l->len < sizeof l->line) {
      l->line[l->len++] = data[i];
    }
  }
  return n;
}

int mn_engine_post_lines(const struct mn_engine_post *req, long *status, char *why,
                         size_t why_size) {
  const char *host = getenv("DOCKER_HOST");
  struct lines *l = NULL;
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  char url[2048];
  int rc = -1;
  *status = 0;
  if (host && *host && strncmp(host, "unix://", 7) != 0) {
    snprintf(why, why_size, "DOCKER_HOST=%s: only unix:// engines are supported", host);
    return -1;
  }
  if (!(l = calloc(1, sizeof *l)) || !(curl = curl_easy_init()) ||
      (req->header && !(headers = curl_slist_append(NULL, req->header)))) {
    snprintf(why, why_size, "out of memory");
    goto done;
  }
  l->req = req;
  snprintf(url, sizeof url, "http://localhost%s", req->path);
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, mn_engine_socket());
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (req->body) {
    curl_easy_setopt(curl, CURLOPT_READDATA, req->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, l);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout_s);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
  CURLcode cc = curl_easy_perform(curl);
  if (l->len) /* a last line without its newline */
    req->on_line(req->ctx, l->line, l->len);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  if (cc != CURLE_OK)
    snprintf(why, why_size, "Docker Engine at %s: %s", mn_engine_socket(),
             curl_easy_strerror(cc));
  else
    rc = 0;
done:
  curl_slist_free_all(headers);
  if (curl)
    curl_easy_cleanup(curl);
  free(l);
  return rc;
}
