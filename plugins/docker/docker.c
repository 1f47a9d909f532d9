/* docker.c — the Docker provider: every execution is one container on a
 * Docker Engine reached over its unix socket. This file holds the provider
 * table, init, shutdown and prepare; one file per other operation. */
#include "docker.h"

#include <errno.h>
#include <stddef.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container_spec.h"

static void docker_free(struct mn_docker *d) {
  if (!d)
    return;
  mn_docker_events_stop(d);
  mn_docker_stopper_stop(d);
  mn_docker_http_release(&d->http);
  pthread_mutex_destroy(&d->prune_lock);
  free(d);
  curl_global_cleanup(); /* reference-counted with docker_init's */
}

static int make_dir(const struct mn_host *host, const char *path, struct mn_provider_error *err) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST)
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot create \"%s\": %s", path,
                       strerror(errno));
  return 0;
}

/* GET path listing every container labelled with this cluster */
static int list_path(struct mn_docker *d, struct mn_provider_error *err) {
  char escaped[900];
  json_t *f = json_pack("{s:[s+]}", "label", MN_DOCKER_LABEL_CLUSTER "=",
                        d->host->cluster_id ? d->host->cluster_id : "");
  char *text = f ? json_dumps(f, JSON_COMPACT) : NULL;
  int ok = text && mn_http_escape(text, escaped, sizeof escaped) == 0;
  json_decref(f);
  free(text);
  if (!ok)
    return d->host->error(err, MN_PROVIDER_E_INVALID, "cluster id too long for a label filter");
  snprintf(d->list_path, sizeof d->list_path, "/containers/json?all=1&filters=%s", escaped);
  return 0;
}

static int docker_init(const struct mn_cfg_node *config, const struct mn_host *host,
                       void **state_out, struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char dir[PATH_MAX], why[512];
  int rc;

  *state_out = NULL;
  if (host->struct_size <
      offsetof(struct mn_host, config_error) + sizeof host->config_error)
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon's host table is too old");
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot initialise libcurl");
  struct mn_docker *d = calloc(1, sizeof *d);
  if (!d)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  d->host = host;
  pthread_mutex_init(&d->prune_lock, NULL);
  if ((rc = mn_docker_conf_load(config, host, &d->conf, err)) != 0)
    goto fail;
  if (mn_docker_http_init(&d->http, d->conf.socket) != 0) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto fail;
  }
  int n = snprintf(dir, sizeof dir, "%s/%s", host->data_dir, host->provider_name);
  int m = snprintf(d->log_dir, sizeof d->log_dir, "%s/logs", dir);
  if (n < 0 || (size_t)n >= sizeof dir || m < 0 || (size_t)m + 300 >= sizeof d->log_dir) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "data_dir \"%s\" is too long", host->data_dir);
    goto fail;
  }
  if ((rc = make_dir(host, dir, err)) != 0 || (rc = make_dir(host, d->log_dir, err)) != 0 ||
      (rc = list_path(d, err)) != 0 || (rc = mn_docker_stopper_start(d, err)) != 0 ||
      (rc = mn_docker_events_start(d, err)) != 0)
    goto fail;
  /* an engine that is down now may be up later: warn, do not fail */
  if (mn_docker_http_call(&d->http, "GET", "/_ping", NULL, 5000L, &reply, why, sizeof why) != 0) {
    host->log(host, MN_HOST_LOG_WARN, "%s; launches wait until it answers", why);
  } else {
    host->log(host, MN_HOST_LOG_INFO, "docker engine at \"%s\", API %s, network \"%s\"",
              d->conf.socket, d->http.prefix + 2, d->conf.network);
    mn_docker_reply_release(&reply);
  }
  *state_out = d;
  return 0;

fail:
  docker_free(d);
  return rc;
}

static void docker_shutdown(void *state) { docker_free(state); }

static int image_valid(const char *image) {
  size_t n = strlen(image);
  return n > 0 && n < 512 &&
         strspn(image, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") ==
             n &&
         image[0] != '/' && image[0] != '.' && image[0] != '-';
}

/* GET /images/{image}/json: 0 found (details filled), 1 missing */
static int image_lookup(struct mn_docker *d, const char *image, struct mn_prepared *prepared,
                        struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char path[600], why[512];
  int rc = 0;
  snprintf(path, sizeof path, "/images/%s/json", image);
  if (mn_docker_http_call(&d->http, "GET", path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why))
    return mn_docker_unreachable(d, err, why);
  if (reply.status == 404) {
    rc = 1;
  } else if (reply.status != 200) {
    rc = mn_docker_refused(d, err, &reply, "cannot inspect the image");
  } else {
    json_t *j = json_loads(reply.body, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "Id"));
    json_t *details = json_pack("{s:s, s:s}", "image", image, "image_id", id ? id : "");
    char *text = details ? json_dumps(details, JSON_COMPACT) : NULL;
    if (text && strlen(text) < sizeof prepared->details_json)
      snprintf(prepared->details_json, sizeof prepared->details_json, "%s", text);
    free(text);
    json_decref(details);
    json_decref(j);
  }
  mn_docker_reply_release(&reply);
  return rc;
}

/* POST /images/create?fromImage=: errors come inside a 200 stream */
static int image_pull(struct mn_docker *d, const char *image, struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char escaped[1600], path[1700], why[512];
  int rc = 0;
  if (mn_http_escape(image, escaped, sizeof escaped) != 0)
    return d->host->error(err, MN_PROVIDER_E_INVALID, "image name \"%s\" is too long", image);
  snprintf(path, sizeof path, "/images/create?fromImage=%s", escaped);
  d->host->log(d->host, MN_HOST_LOG_INFO, "pulling image \"%s\"", image);
  char auth[4096];
  if (mn_docker_registry_auth(d, image, auth, sizeof auth) != 0)
    return d->host->error(err, MN_PROVIDER_E_INVALID, "the registry login is too long");
  int called = mn_docker_http_call_header(&d->http, "POST", path, auth[0] ? auth : NULL,
                                          30 * MN_DOCKER_CALL_TIMEOUT_MS, &reply, why, sizeof why);
  OPENSSL_cleanse(auth, sizeof auth);
  if (called)
    return mn_docker_unreachable(d, err, why);
  const char *e = reply.status == 200 && reply.body ? strstr(reply.body, "\"error\"") : NULL;
  if (reply.status != 200) {
    char what[700];
    snprintf(what, sizeof what, "image \"%s\" not found and cannot be pulled", image);
    rc = mn_docker_refused(d, err, &reply, what);
    if (rc == MN_PROVIDER_E_NOT_FOUND)
      rc = err->code = MN_PROVIDER_E_INVALID;
  } else if (e) {
    const char *line = e;
    while (line > reply.body && line[-1] != '\n')
      line--;
    json_t *j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
    rc = d->host->error(err, MN_PROVIDER_E_INVALID, "image \"%s\" not found and cannot be pulled: %s",
                        image, json_string_value(json_object_get(j, "error"))
                                   ? json_string_value(json_object_get(j, "error"))
                                   : "the pull failed");
    json_decref(j);
  }
  mn_docker_reply_release(&reply);
  return rc;
}

static int docker_prepare(void *state, const struct mn_function_desc *function,
                          struct mn_prepared *prepared_out, struct mn_provider_error *err) {
  struct mn_docker *d = state;
  const char *image = function->image ? function->image : "";
  int rc;

  prepared_out->details_json[0] = '\0';
  if (!image[0])
    return d->host->error(err, MN_PROVIDER_E_INVALID,
                          "function \"%s\" has no image: the docker provider runs a container image",
                          function->function_name);
  if (!image_valid(image))
    return d->host->error(err, MN_PROVIDER_E_INVALID, "image name \"%s\" is not valid", image);
  rc = image_lookup(d, image, prepared_out, err);
  if (rc == 1 && d->conf.pull) {
    if ((rc = image_pull(d, image, err)) != 0)
      return rc;
    rc = image_lookup(d, image, prepared_out, err);
  }
  if (rc == 1)
    return d->host->error(err, MN_PROVIDER_E_INVALID, "image \"%s\" not found%s", image,
                          d->conf.pull ? " after pulling it" : "");
  return rc;
}

/* --check-config: the section as init reads it, nothing started. */
static int docker_check_config(const struct mn_cfg_node *config, const struct mn_host *host,
                               struct mn_provider_error *err) {
  struct mn_docker_conf conf;
  return mn_docker_conf_load(config, host, &conf, err);
}

static const struct mn_provider docker_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "docker",
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_CPU_LIMIT |
            MN_PROVIDER_CAP_MEMORY_LIMIT | MN_PROVIDER_CAP_LIST_OWNED,
    .init = docker_init,
    .check_config = docker_check_config,
    .config_keys = mn_docker_conf_keys,
    .shutdown = docker_shutdown,
    .prepare = docker_prepare,
    .launch = mn_docker_launch,
    .inspect_many = mn_docker_inspect_many,
    .terminate = mn_docker_terminate,
    .release = mn_docker_release,
    .list_owned = mn_docker_list_owned,
    .logs = mn_docker_logs,
    .registry_credentials = mn_docker_registry_credentials,
};

MN_PROVIDER_EXPORT const struct mn_provider *mn_provider_entry(void) { return &docker_provider; }
