/* Image push through a Docker Engine (docker_push.h). */
#include "docker_push.h"
#include "engine_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define PUSH_TIMEOUT_S 1800L

/* The push answers a stream of JSON lines: {"status", "id", "progress"}
 * while layers go, {"aux": {"Tag", "Digest", "Size"}} at the end, and
 * {"error"} when it fails (still HTTP 200). */
struct stream {
  char error[1024];
  char digest[128];
  int tty;
};

static void on_line(void *ctx, const char *line, size_t len) {
  struct stream *s = ctx;
  json_t *doc = json_loadb(line, len, 0, NULL);
  const char *status = json_string_value(json_object_get(doc, "status"));
  const char *id = json_string_value(json_object_get(doc, "id"));
  const char *progress = json_string_value(json_object_get(doc, "progress"));
  const char *error = json_string_value(json_object_get(doc, "error"));
  const char *digest = json_string_value(json_object_get(json_object_get(doc, "aux"), "Digest"));
  if (!error)
    error = json_string_value(json_object_get(doc, "message"));
  if (status) {
    /* on a terminal each layer's progress overwrites its line; elsewhere
     * only the steps (no progress bars) */
    if (s->tty && progress)
      fprintf(stderr, "\r%s%s%s %s\033[K", id ? id : "", id ? ": " : "", status, progress);
    else if (!progress)
      fprintf(stderr, "%s%s%s%s\n", s->tty ? "\r" : "", id ? id : "", id ? ": " : "", status);
  }
  if (digest && strncmp(digest, "sha256:", 7) == 0 && strlen(digest) < sizeof s->digest)
    snprintf(s->digest, sizeof s->digest, "%s", digest);
  if (error && !s->error[0])
    snprintf(s->error, sizeof s->error, "%s", error);
  json_decref(doc);
}

static char *auth_header(const char *username, const char *password, const char *server) {
  json_t *j = json_pack("{s:s, s:s, s:s}", "username", username ? username : "", "password",
                        password ? password : "", "serveraddress", server ? server : "");
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!text)
    return NULL;
  size_t n = strlen(text), cap = 4 * ((n + 2) / 3) + 1;
  char *out = malloc(sizeof "X-Registry-Auth: " + cap);
  if (out) {
    strcpy(out, "X-Registry-Auth: ");
    char *b = out + strlen(out);
    EVP_EncodeBlock((unsigned char *)b, (const unsigned char *)text, (int)n);
    for (; *b; b++) /* base64url, as the engine decodes it */
      *b = *b == '+' ? '-' : *b == '/' ? '_' : *b;
  }
  OPENSSL_cleanse(text, n);
  free(text);
  return out;
}

/* One call to the engine; the answer's stream goes through s. */
/* Splits REF "repo[:tag]" (a registry port's colon is not a tag's). */
static int split_ref(const char *ref, char *repo, size_t repo_size, const char **tag) {
  const char *colon = strrchr(ref, ':'), *slash = strrchr(ref, '/');
  size_t n = colon && (!slash || colon > slash) ? (size_t)(colon - ref) : strlen(ref);
  if (n == 0 || n >= repo_size)
    return -1;
  memcpy(repo, ref, n);
  repo[n] = '\0';
  *tag = n < strlen(ref) ? ref + n + 1 : "latest";
  return 0;
}

int mn_docker_push(const char *image, const char *username, const char *password,
                   const char *server, char *digest, size_t digest_size, char *why,
                   size_t why_size) {
  struct stream *s = calloc(1, sizeof *s);
  char repo[1024], path[2048], *header = NULL, *etag = NULL;
  const char *tag;
  long status = 0;
  int rc = -1;
  CURL *esc = curl_easy_init();
  if (!s || !esc) {
    snprintf(why, why_size, "out of memory");
    goto done;
  }
  s->tty = isatty(STDERR_FILENO);
  if (split_ref(image, repo, sizeof repo, &tag) != 0) {
    snprintf(why, why_size, "\"%s\" is not an image name", image);
    goto done;
  }
  if (!(header = auth_header(username, password, server)) ||
      !(etag = curl_easy_escape(esc, tag, 0))) {
    snprintf(why, why_size, "out of memory");
    goto done;
  }
  /* the name stays as it is in the path: its slashes are the engine's route */
  snprintf(path, sizeof path, "/images/%s/push?tag=%s", repo, etag);
  struct mn_engine_post req = {path, header, NULL, 0, PUSH_TIMEOUT_S, on_line, s};
  if (mn_engine_post_lines(&req, &status, why, why_size) != 0)
    goto done;
  if (s->tty)
    fputc('\n', stderr);
  if (status != 200)
    snprintf(why, why_size, "the Docker Engine answered %ld%s%s", status, s->error[0] ? ": " : "",
             s->error);
  else if (s->error[0])
    snprintf(why, why_size, "%s", s->error);
  else if (!s->digest[0] || strlen(s->digest) >= digest_size)
    snprintf(why, why_size, "the push ended without the image's digest");
  else {
    snprintf(digest, digest_size, "%s", s->digest);
    rc = 0;
  }
done:
  if (header) {
    OPENSSL_cleanse(header, strlen(header));
    free(header);
  }
  curl_free(etag);
  if (esc)
    curl_easy_cleanup(esc);
  free(s);
  return rc;
}
