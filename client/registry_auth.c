/* Credentials for a push (registry_auth.h). */
#include "registry_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* The Docker config's auths[server].auth, base64 of "user:password". 1
 * found, 0 not there, -1 unreadable (why). */
static int from_docker_config(struct mn_registry_login *out, char *why, size_t why_size) {
  const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
  char path[4096];
  json_error_t jerr;
  if (dir && *dir)
    snprintf(path, sizeof path, "%s/config.json", dir);
  else if (home && *home)
    snprintf(path, sizeof path, "%s/.docker/config.json", home);
  else
    return 0;
  json_t *doc = json_load_file(path, 0, &jerr);
  if (!doc) {
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT)
      return 0;
    if (f)
      fclose(f);
    snprintf(why, why_size, "%s: %s", path, jerr.text);
    return -1;
  }
  json_t *auths = json_object_get(doc, "auths");
  const char *key;
  json_t *entry;
  const char *b64 = NULL;
  json_object_foreach(auths, key, entry) {
    const char *host = key;
    if (strncmp(host, "https://", 8) == 0)
      host += 8;
    size_t n = strcspn(host, "/");
    if (n == strlen(out->server) && strncmp(host, out->server, n) == 0)
      b64 = json_string_value(json_object_get(entry, "auth"));
  }
  int rc = 0;
  if (b64) {
    size_t n = strlen(b64);
    unsigned char *plain = malloc(n + 4);
    int len = plain && n % 4 == 0 ? EVP_DecodeBlock(plain, (const unsigned char *)b64, (int)n) : -1;
    if (len >= 0) {
      while (len > 0 && plain[len - 1] == '\0') /* the padding decodes as zeros */
        len--;
      plain[len] = '\0';
    }
    char *colon = len > 0 ? strchr((char *)plain, ':') : NULL;
    if (!colon || (size_t)(colon - (char *)plain) >= sizeof out->username ||
        strlen(colon + 1) >= sizeof out->password) {
      snprintf(why, why_size, "%s: the \"auth\" of %s is not base64 of user:password", path,
               out->server);
      rc = -1;
    } else {
      *colon = '\0';
      snprintf(out->username, sizeof out->username, "%s", (char *)plain);
      snprintf(out->password, sizeof out->password, "%s", colon + 1);
      out->source = "the Docker config";
      rc = 1;
    }
    if (plain) {
      OPENSSL_cleanse(plain, n + 4);
      free(plain);
    }
  }
  json_decref(doc);
  return rc;
}

int mn_registry_login_find(const char *repository, const char *api_username,
                           const char *api_password, struct mn_registry_login *out, char *why,
                           size_t why_size) {
  memset(out, 0, sizeof *out);
  const char *slash = strchr(repository, '/');
  size_t n = slash ? (size_t)(slash - repository) : 0;
  /* a registry host has a dot or a port, or is localhost (Docker's rule) */
  if (n == 0 || n >= sizeof out->server ||
      !(memchr(repository, '.', n) || memchr(repository, ':', n) ||
        (n == 9 && strncmp(repository, "localhost", 9) == 0))) {
    snprintf(why, why_size,
             "repository \"%s\" names no registry host (HOST[:PORT]/PATH expected)", repository);
    return -1;
  }
  memcpy(out->server, repository, n);
  out->source = "no credentials";
  if (api_username && *api_username) {
    snprintf(out->username, sizeof out->username, "%s", api_username);
    snprintf(out->password, sizeof out->password, "%s", api_password ? api_password : "");
    out->source = "the daemon's login (GET /container_repository_credentials)";
    return 0;
  }
  const char *user = getenv("MULTINODE_REGISTRY_USERNAME");
  const char *pass = getenv("MULTINODE_REGISTRY_PASSWORD");
  if (user && *user) {
    snprintf(out->username, sizeof out->username, "%s", user);
    snprintf(out->password, sizeof out->password, "%s", pass ? pass : "");
    out->source = "MULTINODE_REGISTRY_USERNAME/PASSWORD";
    return 0;
  }
  return from_docker_config(out, why, why_size) < 0 ? -1 : 0;
}

void mn_registry_login_clear(struct mn_registry_login *login) {
  OPENSSL_cleanse(login->password, sizeof login->password);
}
