/* config.c — the section providers.<name> of this provider, its keys
 * declared once as a table (provider.h, "Declarative configuration"): the
 * daemon checks the section against it before init and check_config,
 * reporting every problem at once with FILE:LINE:COL, and prints it in
 * `multinoded --print-config-reference`. tpl_config_read, shared by init
 * and check_config, loads the section and does the one check a table
 * cannot: that the token file can be read.
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

/* A key's own check: 0, or nonzero with the problem in why. */
static int http_url(const char *value, char *why, size_t why_size) {
  if (strncmp(value, "http://", 7) == 0 || strncmp(value, "https://", 8) == 0)
    return 0;
  snprintf(why, why_size, "is not an http(s) URL");
  return 1;
}

#define AT(T, field) MN_CONFIG_AT(struct tpl_config, T, field)
const struct mn_config_key tpl_config_keys[] = {
    {.name = "endpoint", AT(STRING, endpoint), .def = "http://127.0.0.1:8470", .check = http_url,
     .doc = "The compute API's base URL (http or https)."},
    {.name = "token_file", AT(STRING, token_file), .flags = MN_CONFIG_NONEMPTY,
     .doc = "A file holding the API's bearer token (one line); none: no Authorization header."},
    {.name = "timeout", AT(DURATION, timeout_s), .def = "30s", .min = 1, .max = 600,
     .doc = "The most one call to the API may take."},
    {0},
};
#undef AT

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
  /* config_load is in the host table since 1.2 (MN_HOST_HAS: a field the
   * daemon's table may lack). */
  if (!MN_HOST_HAS(host, config_load) || !host->config_load)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "the template provider needs a daemon of provider ABI 1.2 or later");
  memset(conf, 0, sizeof *conf);
  int rc = host->config_load(config, tpl_config_keys, conf, err); /* each value or default */
  if (rc)
    return rc;
  auth[0] = '\0';
  return conf->token_file ? read_token(config, host, conf->token_file, auth, auth_size, err) : 0;
}
