/* template.c — the model provider: copy this folder to write one.
 *
 * It runs each execution as a "worker" of a made-up compute API over HTTP
 * (tests/sims/template/compute_sim.py simulates it, running every worker
 * as a local process), and shows every operation of ABI 1.2
 * (include/multinode/provider.h), the provider toolkit (plugins/support),
 * a background thread and host->wake. docs/writing-a-provider.md walks a
 * stranger through it; the parts are listed in template.h.
 *
 *   1. cp -r plugins/template plugins/<name>; in CMakeLists.txt,
 *      mn_add_provider(NAME <name> ...); rename "template" below.
 *   2. Replace the API's paths and JSON (api.c, launch.c, workers.c,
 *      logs.c, watch.c) with your platform's. Keep the contracts of
 *      provider.h: above all, launch is idempotent on the execution id.
 *   3. Configure it as `providers: { <name>: {...} }` (config.c), and make
 *      the conformance suite pass (docs/writing-a-provider.md "Done").
 *
 * Rules every provider follows: include only <multinode/provider.h>, libc
 * and libraries (never a daemon header); never print (host->log); return 0
 * or a negative MN_PROVIDER_E_* with a message in err; be thread-safe (the
 * daemon calls operations concurrently); never sleep to retry (return
 * TRANSIENT, with the Retry-After the platform gave). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

static void tpl_shutdown(void *state) {
  struct tpl *t = state;
  tpl_watch_stop(t); /* first: the thread uses everything below */
  mn_http_release(&t->http);
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->lock);
  free(t);
  curl_global_cleanup(); /* reference-counted with init's curl_global_init */
}

static int tpl_init(const struct mn_cfg_node *config, const struct mn_host *host,
                    void **state_out, struct mn_provider_error *err) {
  int rc;
  /* This provider reads worker_env and writes retry_after_us: both 1.2. */
  if (!MN_HOST_AT_LEAST(host, 1, 2))
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "the template provider needs a daemon of provider ABI 1.2 or later");
  struct tpl *t = calloc(1, sizeof *t);
  if (!t)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  t->host = host;
  if ((rc = tpl_config_read(config, host, &t->conf, t->auth, sizeof t->auth, err))) {
    free(t);
    return rc;
  }
  if (mn_http_escape(host->cluster_id ? host->cluster_id : "", t->owner, sizeof t->owner)) {
    free(t);
    return host->error(err, MN_PROVIDER_E_INVALID, "cluster id too long");
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    free(t);
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot initialise libcurl");
  }
  snprintf(t->http_name, sizeof t->http_name, "compute API at %s", t->conf.endpoint);
  struct mn_http_config hc = {.name = t->http_name, .user_agent = "multinoded-template/1"};
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->cond, NULL);
  if (mn_http_init(&t->http, &hc) != 0) {
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
    curl_global_cleanup();
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  }
  /* An unreachable API is no reason to refuse to start (the daemon would
   * not come up during an outage): the thread warns, calls fail TRANSIENT
   * and are retried. Started last, stopped first. */
  if ((rc = tpl_watch_start(t, err))) {
    tpl_shutdown(t);
    return rc;
  }
  host->log(host, MN_HOST_LOG_INFO, "template provider: compute API at %s", t->conf.endpoint);
  *state_out = t;
  return 0;
}

/* multinoded --check-config: the same reading as init, nothing started. */
static int tpl_check_config(const struct mn_cfg_node *config, const struct mn_host *host,
                            struct mn_provider_error *err) {
  struct tpl_config conf;
  char auth[4200];
  return tpl_config_read(config, host, &conf, auth, sizeof auth, err);
}

/* Where deploys push images, and a short-lived login for it (the daemon
 * serves it as GET /container_repository_credentials). */
static int tpl_registry_credentials(void *state, struct mn_registry_credentials *out,
                                    struct mn_provider_error *err) {
  struct tpl *t = state;
  json_t *r;
  int rc = tpl_call(t, "GET", "/v1/registry", NULL, &r, NULL, err);
  if (rc == MN_PROVIDER_E_NOT_FOUND)
    return t->host->error(err, MN_PROVIDER_E_INVALID, "the compute API has no registry");
  if (rc)
    return rc;
  const char *repo = json_string_value(json_object_get(r, "repository"));
  const char *user = json_string_value(json_object_get(r, "username"));
  const char *pass = json_string_value(json_object_get(r, "password"));
  const char *endpoint = json_string_value(json_object_get(r, "endpoint"));
  if (!repo || !user || !pass || !endpoint)
    rc = t->host->error(err, MN_PROVIDER_E_TRANSIENT, "compute API: GET /v1/registry: "
                                                      "repository, username, password or "
                                                      "endpoint missing");
  else {
    snprintf(out->repository_name, sizeof out->repository_name, "%s", repo);
    snprintf(out->username, sizeof out->username, "%s", user);
    snprintf(out->password, sizeof out->password, "%s", pass);
    snprintf(out->endpoint_url, sizeof out->endpoint_url, "%s", endpoint);
  }
  json_decref(r);
  return rc;
}

/* The table the daemon loads. Capabilities promise behaviour the daemon
 * relies on: batched inspect, logs and list_owned are implemented. This
 * API enforces no CPU or memory limit, so CPU_LIMIT and MEMORY_LIMIT are
 * not claimed (the daemon then says so once per function); claim them
 * when your platform enforces the sizes prepare sends. */
static const struct mn_provider tpl_provider = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "template",
    .caps = MN_PROVIDER_CAP_BATCH_INSPECT | MN_PROVIDER_CAP_LOGS | MN_PROVIDER_CAP_LIST_OWNED,
    .init = tpl_init,
    .shutdown = tpl_shutdown,
    .prepare = tpl_prepare,
    .launch = tpl_launch,
    .inspect_many = tpl_inspect_many,
    .terminate = tpl_terminate,
    .release = tpl_release,
    .list_owned = tpl_list_owned,
    .logs = tpl_logs,
    .registry_credentials = tpl_registry_credentials,
    .check_config = tpl_check_config,
    .config_keys = tpl_config_keys, /* since 1.2: the daemon checks the section by it */
};

const struct mn_provider *mn_provider_entry(void) { return &tpl_provider; }
