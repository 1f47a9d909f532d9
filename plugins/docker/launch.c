/* launch.c — create and start the container of one execution, at most once.
 *
 * The container's name comes from the execution id, so the engine itself
 * makes launch idempotent: a second create answers 409 Conflict, and the
 * existing container is taken over (started if it never was). */
#include "docker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "container_spec.h"

static int fill_ref(const char *name, struct mn_worker_ref *ref) {
  memset(ref, 0, sizeof *ref);
  snprintf(ref->identifier, sizeof ref->identifier, "%s", name);
  snprintf(ref->logs_identifier, sizeof ref->logs_identifier, "%s", name);
  return 0;
}

/* After a 409: the container of this name must be ours, for this execution.
 * *created is set when it was never started. */
static int adopt(struct mn_docker *d, const char *name, const char *execution_id, int *created,
                 struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char path[512], why[512];
  int rc = 0;

  snprintf(path, sizeof path, "/containers/%s/json", name);
  if (mn_docker_http_call(&d->http, "GET", path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why))
    return mn_docker_unreachable(d, err, why);
  if (reply.status == 404) /* removed since: the next launch creates it */
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "container \"%s\" vanished during launch",
                        name);
  else if (reply.status != 200)
    rc = mn_docker_refused(d, err, &reply, "cannot inspect the existing container");
  if (rc)
    goto done;
  json_t *c = json_loads(reply.body, 0, NULL);
  json_t *labels = json_object_get(json_object_get(c, "Config"), "Labels");
  const char *exe = json_string_value(json_object_get(labels, MN_DOCKER_LABEL_EXECUTION));
  const char *cluster = json_string_value(json_object_get(labels, MN_DOCKER_LABEL_CLUSTER));
  const char *status = json_string_value(json_object_get(json_object_get(c, "State"), "Status"));
  if (!exe || strcmp(exe, execution_id) != 0 || !cluster ||
      strcmp(cluster, d->host->cluster_id ? d->host->cluster_id : "") != 0)
    rc = d->host->error(err, MN_PROVIDER_E_INVALID,
                        "container name \"%s\" is taken by a container of another execution or "
                        "cluster", name);
  else
    *created = status && strcmp(status, "created") == 0;
  json_decref(c);
done:
  mn_docker_reply_release(&reply);
  return rc;
}

static void remove_quietly(struct mn_docker *d, const char *name) {
  struct mn_docker_reply reply;
  char path[512], why[512];
  snprintf(path, sizeof path, "/containers/%s?force=1", name);
  if (mn_docker_http_call(&d->http, "DELETE", path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why) == 0)
    mn_docker_reply_release(&reply);
}

static int start(struct mn_docker *d, const char *name, struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char path[512], why[512];
  int rc = 0;

  snprintf(path, sizeof path, "/containers/%s/start", name);
  if (mn_docker_http_call(&d->http, "POST", path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why))
    return mn_docker_unreachable(d, err, why);
  if (reply.status == 404) {
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "container \"%s\" vanished during launch",
                        name);
  } else if (reply.status != 204 && reply.status != 304) {
    /* it cannot run as created (no such entrypoint, a bind source that is
     * missing...): fail the attempt, and leave nothing behind */
    char what[600];
    snprintf(what, sizeof what, "cannot start container \"%s\"", name);
    rc = mn_docker_refused(d, err, &reply, what);
    if (rc == MN_PROVIDER_E_TRANSIENT || rc == MN_PROVIDER_E_NOT_FOUND)
      rc = err->code = MN_PROVIDER_E_INVALID;
    remove_quietly(d, name);
  }
  mn_docker_reply_release(&reply);
  return rc;
}

int mn_docker_launch(void *state, const struct mn_launch_spec *spec,
                     struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
  struct mn_docker *d = state;
  const struct mn_host *host = d->host;
  struct mn_docker_reply reply = {0};
  char name[MN_WORKER_ID_MAX], path[MN_WORKER_ID_MAX + 64], why[512];
  int created = 1, rc = 0;
  int64_t t0 = host->now_us();

  if (mn_docker_container_name(spec->execution_id, name, sizeof name) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "execution id \"%s\" is not valid (1 to %d of A-Z a-z 0-9 . _ -)",
                       spec->execution_id ? spec->execution_id : "", MN_DOCKER_ID_MAX);
  if (!spec->image || !spec->image[0])
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "function \"%s\" has no image: the docker provider runs a container image",
                       spec->function_name ? spec->function_name : "");
  struct mn_docker_spec_opts opts = {
      .cluster_id = host->cluster_id,
      .network = d->conf.network,
      .binds = d->conf.binds,
      .n_binds = d->conf.n_binds,
      .max_vcpus = (double)sysconf(_SC_NPROCESSORS_ONLN),
  };
  if (opts.max_vcpus > 0 && spec->vcpus > opts.max_vcpus)
    host->log(host, MN_HOST_LOG_INFO,
              "execution %s asks for %g vCPUs; this engine has %g: capped to %g",
              spec->execution_id, spec->vcpus, opts.max_vcpus, opts.max_vcpus);
  json_t *body = mn_docker_create_body(spec, &opts);
  if (!body)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  snprintf(path, sizeof path, "/containers/create?name=%s", name);
  int call = mn_docker_http_call(&d->http, "POST", path, body, MN_DOCKER_CALL_TIMEOUT_MS, &reply,
                                 why, sizeof why);
  json_decref(body);
  if (call)
    return mn_docker_unreachable(d, err, why);
  if (reply.status == 409) {
    rc = adopt(d, name, spec->execution_id, &created, err);
  } else if (reply.status == 404) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "image \"%s\" not found", spec->image);
  } else if (reply.status != 201) {
    char what[600];
    snprintf(what, sizeof what, "cannot create container \"%s\" from image \"%s\"", name,
             spec->image);
    rc = mn_docker_refused(d, err, &reply, what);
    if (rc == MN_PROVIDER_E_NOT_FOUND)
      rc = err->code = MN_PROVIDER_E_INVALID;
  }
  mn_docker_reply_release(&reply);
  if (rc == 0 && created)
    rc = start(d, name, err);
  if (rc == 0) {
    fill_ref(name, ref_out);
    host->log(host, MN_HOST_LOG_DEBUG, "execution \"%s\": container \"%s\" %s in %lld us",
              spec->execution_id, name, created ? "started" : "found running",
              (long long)(host->now_us() - t0));
  }
  return rc;
}
