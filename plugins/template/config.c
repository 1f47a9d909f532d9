/* config.c — the section providers.<name> of this provider, read in one
 * function that init and check_config share (docs/writing-a-provider.md
 * "Configuration"):
 *
 *   providers:
 *     template:
 *       endpoint: http://127.0.0.1:8470   # the compute API (http or https)
 *       token_file: /run/secrets/compute  # its bearer token; optional
 *       timeout: 30s                      # the most one call may take
 *
 * A secret never sits in the YAML itself: the section names a file (or any
 * key may be given as `<key>_env: VAR`, which the daemon resolves). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "template.h"

#define DEFAULT_ENDPOINT "http://127.0.0.1:8470"

static const char *const known_keys[] = {"endpoint", "token_file", "timeout"};

/* Reads the token file into auth as an Authorization header. */
static int read_token(const struct mn_cfg_node *config, const struct mn_host *host,
                      const char *path, char *auth, size_t auth_size,
                      struct mn_provider_error *err) {
  char token[4096];
  FILE *f = fopen(path, "r");
  if (!f)
    return host->config_error(config, "token_file", err, "cannot read \"%s\": %s", path,
                              strerror(errno));
  size_t n = fread(token, 1, sizeof token - 1, f);
  int too_long = n == sizeof token - 1 && fgetc(f) != EOF;
  fclose(f);
  while (n && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
    n--;
  token[n] = '\0';
  if (too_long || n == 0 || strpbrk(token, "\r\n"))
    return host->config_error(config, "token_file", err,
                              "\"%s\" must hold one line, the token (1 to 4095 bytes)", path);
  snprintf(auth, auth_size, "Authorization: Bearer %s", token);
  return 0;
}

int tpl_config_read(const struct mn_cfg_node *config, const struct mn_host *host,
                    struct tpl_config *conf, char *auth, size_t auth_size,
                    struct mn_provider_error *err) {
  int rc;
  /* Unknown keys first (every one is listed), then each key with its type:
   * set the default, and an absent key leaves it alone. */
  if ((rc = host->config_check_keys(config, known_keys, sizeof known_keys / sizeof *known_keys,
                                    err)))
    return rc;
  conf->endpoint = DEFAULT_ENDPOINT;
  conf->token_file = NULL;
  conf->timeout_s = 30;
  if ((rc = host->config_string(config, "endpoint", 0, &conf->endpoint, err)) ||
      (rc = host->config_string(config, "token_file", 0, &conf->token_file, err)) ||
      (rc = host->config_duration(config, "timeout", 0, &conf->timeout_s, err)))
    return rc;
  /* Checks of our own point at the key's value: file:line:col. */
  if (strncmp(conf->endpoint, "http://", 7) != 0 && strncmp(conf->endpoint, "https://", 8) != 0)
    return host->config_error(config, "endpoint", err, "\"%s\" is not an http(s) URL",
                              conf->endpoint);
  if (conf->timeout_s < 1 || conf->timeout_s > 600)
    return host->config_error(config, "timeout", err, "must be between 1s and 10m");
  auth[0] = '\0';
  if (conf->token_file)
    return read_token(config, host, conf->token_file, auth, auth_size, err);
  return 0;
}
