/* Client configuration: ~/.multinode/config.json and the environment
 * (MULTINODE_API_URL, MULTINODE_API_KEY win over the file). */
#include "client_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "multinode/common/worker_env.h"

#define CONFIG_DIR ".multinode"
#define CONFIG_FILE "config.json"

void mn_client_config_release(struct mn_client_config *cfg) {
  if (!cfg)
    return;
  free(cfg->api_url);
  free(cfg->api_key);
  cfg->api_url = cfg->api_key = NULL;
}

static const char *home_dir(void) {
  const char *home = getenv("HOME");
  if (home && *home)
    return home;
  struct passwd *pw = getpwuid(getuid());
  return pw ? pw->pw_dir : NULL;
}

static int dir_path(char *buf, size_t size, struct mn_client_error *err) {
  const char *home = home_dir();
  if (!home)
    return mn_client__fail(err, MN_CLIENT_E_CONFIG, "cannot find the home folder: set HOME");
  if ((size_t)snprintf(buf, size, "%s/" CONFIG_DIR, home) >= size)
    return mn_client__fail(err, MN_CLIENT_E_CONFIG, "the home folder path is too long");
  return 0;
}

int mn_client_config_path(char *buf, size_t size, struct mn_client_error *err) {
  int rc = dir_path(buf, size, err);
  if (rc < 0)
    return rc;
  size_t n = strlen(buf);
  if ((size_t)snprintf(buf + n, size - n, "/" CONFIG_FILE) >= size - n)
    return mn_client__fail(err, MN_CLIENT_E_CONFIG, "the home folder path is too long");
  return 0;
}

/* The file's JSON object (a new one when the file does not exist). */
static int read_doc(const char *path, json_t **out, struct mn_client_error *err) {
  json_error_t jerr;
  json_t *doc;

  *out = NULL;
  if (access(path, F_OK) < 0 && errno == ENOENT) {
    *out = json_object();
    return *out ? 0 : mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
  }
  doc = json_load_file(path, 0, &jerr);
  if (!doc)
    return mn_client__fail(err, MN_CLIENT_E_CONFIG, "%s:%d: %s", path, jerr.line, jerr.text);
  if (!json_is_object(doc)) {
    json_decref(doc);
    return mn_client__fail(err, MN_CLIENT_E_CONFIG, "%s: must hold a JSON object", path);
  }
  *out = doc;
  return 0;
}

static int take_string(const char *path, json_t *doc, const char *key, char **dst,
                       struct mn_client_error *err) {
  json_t *v = json_object_get(doc, key);
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return mn_client__fail(err, MN_CLIENT_E_CONFIG, "%s: %s: must be a string", path, key);
  *dst = strdup(json_string_value(v));
  return *dst ? 0 : mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
}

int mn_client_config_load_file(struct mn_client_config *out, struct mn_client_error *err) {
  char path[4096];
  json_t *doc = NULL;
  int rc;

  memset(out, 0, sizeof *out);
  rc = mn_client_config_path(path, sizeof path, err);
  if (rc < 0)
    goto done;
  rc = read_doc(path, &doc, err);
  if (rc < 0)
    goto done;
  rc = take_string(path, doc, "api_url", &out->api_url, err);
  if (rc == 0)
    rc = take_string(path, doc, "api_key", &out->api_key, err);
done:
  json_decref(doc);
  if (rc < 0)
    mn_client_config_release(out);
  return rc;
}

static int override(char **dst, const char *env, struct mn_client_error *err) {
  const char *v = getenv(env);
  if (!v || !*v)
    return 0;
  char *copy = strdup(v);
  if (!copy)
    return mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
  free(*dst);
  *dst = copy;
  return 0;
}

int mn_client_config_load(struct mn_client_config *out, struct mn_client_error *err) {
  int rc = mn_client_config_load_file(out, err);
  if (rc < 0)
    return rc;
  if ((rc = override(&out->api_url, MN_WORKER_ENV_API_URL, err)) < 0 ||
      (rc = override(&out->api_key, MN_WORKER_ENV_API_KEY, err)) < 0)
    goto fail;
  if (!out->api_url && !(out->api_url = strdup(MN_CLIENT_DEFAULT_URL))) {
    rc = mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
    goto fail;
  }
  return 0;
fail:
  mn_client_config_release(out);
  return rc;
}

static int set_or_delete(json_t *doc, const char *key, const char *value) {
  if (!value)
    return json_object_del(doc, key), 0;
  return json_object_set_new(doc, key, json_string(value)) < 0 ? -1 : 0;
}

int mn_client_config_save(const struct mn_client_config *cfg, struct mn_client_error *err) {
  char dir[4096], path[4096], tmp[4200] = "";
  json_t *doc = NULL;
  int fd = -1;
  int rc;

  rc = dir_path(dir, sizeof dir, err);
  if (rc == 0)
    rc = mn_client_config_path(path, sizeof path, err);
  if (rc < 0)
    goto done;
  /* 0711: the key is in a 0600 file; others may pass through (never list)
   * to the snapshots `multinode deploy` keeps beside it, which a local
   * provider's workers — another user when the daemon is root — must read */
  if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
    rc = mn_client__fail(err, MN_CLIENT_E_IO, "cannot create \"%s\": %s", dir, strerror(errno));
    goto done;
  }
  rc = read_doc(path, &doc, err);
  if (rc < 0)
    goto done;
  if (set_or_delete(doc, "api_url", cfg->api_url) < 0 ||
      set_or_delete(doc, "api_key", cfg->api_key) < 0) {
    rc = mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
    goto done;
  }

  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) < 0 || json_dumpfd(doc, fd, JSON_INDENT(2)) < 0 ||
      write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
    rc = mn_client__fail(err, MN_CLIENT_E_IO, "cannot write \"%s\": %s", tmp, strerror(errno));
    goto done;
  }
  if (close(fd) < 0) {
    fd = -1;
    rc = mn_client__fail(err, MN_CLIENT_E_IO, "cannot write \"%s\": %s", tmp, strerror(errno));
    goto done;
  }
  fd = -1;
  if (rename(tmp, path) < 0) {
    rc = mn_client__fail(err, MN_CLIENT_E_IO, "cannot replace \"%s\": %s", path,
                         strerror(errno));
    goto done;
  }
  rc = 0;

done:
  if (fd >= 0)
    close(fd);
  if (rc < 0 && tmp[0])
    unlink(tmp);
  json_decref(doc);
  return rc;
}

int mn_client_from_env(struct mn_client **out, struct mn_client_error *err) {
  struct mn_client_config cfg;
  int rc;

  *out = NULL;
  rc = mn_client_config_load(&cfg, err);
  if (rc < 0)
    return rc;
  if (!cfg.api_key) {
    rc = mn_client__fail(err, MN_CLIENT_E_CONFIG,
                         "no API key: set " MN_WORKER_ENV_API_KEY " or run `multinode login`");
    goto done;
  }
  *out = mn_client_new(cfg.api_url, cfg.api_key);
  if (!*out)
    rc = mn_client__fail(err, MN_CLIENT_E_NOMEM, "cannot create a client for \"%s\"",
                         cfg.api_url);
done:
  mn_client_config_release(&cfg);
  return rc;
}
