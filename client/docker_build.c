/* Image builds on a Docker Engine (docker_build.h). */
#include "docker_build.h"
#include "engine_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#define BUILD_TIMEOUT_S 1800L

/* The engine answers a stream of JSON objects, one a line: {"stream": text}
 * for output, {"error": text, "errorDetail": ...} when the build fails. */
struct progress {
  char error[1024];
};

static void on_line(void *ctx, const char *line, size_t len) {
  struct progress *p = ctx;
  json_t *doc = json_loadb(line, len, 0, NULL);
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

int mn_docker_build(const char *context_tar, const char *tag, char *why, size_t why_size) {
  struct progress p = {{0}};
  FILE *body = NULL;
  struct stat st;
  long status = 0;
  char *escaped = NULL, path[1024];
  int rc = -1;
  if (!(body = fopen(context_tar, "rb")) || fstat(fileno(body), &st) < 0) {
    snprintf(why, why_size, "cannot read %s", context_tar);
    goto done;
  }
  if (!(escaped = curl_easy_escape(NULL, tag, 0))) {
    snprintf(why, why_size, "out of memory");
    goto done;
  }
  snprintf(path, sizeof path, "/build?t=%s&rm=1&forcerm=1", escaped);
  struct mn_engine_post req = {path, "Content-Type: application/x-tar", body,
                               (long long)st.st_size, BUILD_TIMEOUT_S, on_line, &p};
  if (mn_engine_post_lines(&req, &status, why, why_size) != 0)
    goto done;
  if (status != 200)
    snprintf(why, why_size, "the Docker Engine answered %ld%s%s", status,
             p.error[0] ? ": " : "", p.error);
  else if (p.error[0])
    snprintf(why, why_size, "%s", p.error);
  else
    rc = 0;
done:
  curl_free(escaped);
  if (body)
    fclose(body);
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
