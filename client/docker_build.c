/* Image builds on a Docker Engine (docker_build.h). */
#include "docker_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#define DEFAULT_SOCKET "/var/run/docker.sock"
#define BUILD_TIMEOUT_S 1800L

/* The engine answers a stream of JSON objects, one a line: {"stream": text}
 * for output, {"error": text, "errorDetail": ...} when the build fails. */
struct progress {
  char line[65536];
  size_t len;
  char error[1024];
};

static void on_line(struct progress *p) {
  json_t *doc = json_loadb(p->line, p->len, 0, NULL);
  const char *text = json_string_value(json_object_get(doc, "stream"));
  const char *error = json_string_value(json_object_get(doc, "error"));
  if (!error) /* an answer other than 200 carries {"message": text} */
    error = json_string_value(json_object_get(doc, "message"));
  if (text)
    fputs(text, stderr);
  if (error && !p->error[0])
    snprintf(p->error, sizeof p->error, "%s", error);
  json_decref(doc);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx) {
  struct progress *p = ctx;
  size_t n = size * nmemb;
  for (size_t i = 0; i < n; i++) {
    if (data[i] == '\n') {
      on_line(p);
      p->len = 0;
    } else if (p->len < sizeof p->line) {
      p->line[p->len++] = data[i];
    }
  }
  return n;
}

static const char *engine_socket(void) {
  const char *host = getenv("DOCKER_HOST");
  if (host && strncmp(host, "unix://", 7) == 0)
    return host + 7;
  return DEFAULT_SOCKET;
}

int mn_docker_build(const char *context_tar, const char *tag, char *why, size_t why_size) {
  struct progress *p = calloc(1, sizeof *p);
  const char *host = getenv("DOCKER_HOST");
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  FILE *body = NULL;
  struct stat st;
  long status = 0;
  char *escaped = NULL, url[1024];
  int rc = -1;
  if (!p) {
    snprintf(why, why_size, "out of memory");
    return -1;
  }
  if (host && *host && strncmp(host, "unix://", 7) != 0) {
    snprintf(why, why_size, "DOCKER_HOST=%s: only unix:// engines are supported", host);
    goto done;
  }
  if (!(body = fopen(context_tar, "rb")) || fstat(fileno(body), &st) < 0) {
    snprintf(why, why_size, "cannot read %s", context_tar);
    goto done;
  }
  if (!(curl = curl_easy_init()) || !(escaped = curl_easy_escape(curl, tag, 0))) {
    snprintf(why, why_size, "out of memory");
    goto done;
  }
  snprintf(url, sizeof url, "http://localhost/build?t=%s&rm=1&forcerm=1", escaped);
  headers = curl_slist_append(headers, "Content-Type: application/x-tar");
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, engine_socket());
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_READDATA, body);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, p);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, BUILD_TIMEOUT_S);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  CURLcode cc = curl_easy_perform(curl);
  if (p->len)
    on_line(p);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (cc != CURLE_OK)
    snprintf(why, why_size, "Docker Engine at %s: %s", engine_socket(), curl_easy_strerror(cc));
  else if (status != 200)
    snprintf(why, why_size, "the Docker Engine answered %ld%s%s", status,
             p->error[0] ? ": " : "", p->error);
  else if (p->error[0])
    snprintf(why, why_size, "%s", p->error);
  else
    rc = 0;
done:
  curl_free(escaped);
  curl_slist_free_all(headers);
  if (curl)
    curl_easy_cleanup(curl);
  if (body)
    fclose(body);
  free(p);
  return rc;
}

void mn_docker_image_tag(char *buf, size_t size, const char *repository, const char *project,
                         const char *hash) {
  char safe[65];
  size_t n = 0;
  for (const char *s = project; *s && n < 64; s++) {
    char c = *s;
    safe[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '.' || c == '-'
                    ? c
                    : '_';
  }
  safe[n] = '\0';
  snprintf(buf, size, "%s:%s-%.24s", repository, safe, hash);
}
