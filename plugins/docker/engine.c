/* engine.c — engine calls and error mapping shared by the operations. */
#include "docker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_spec.h"
#include "container_state.h"

int mn_docker_unreachable(struct mn_docker *d, struct mn_provider_error *err, const char *why) {
  return d->host->error(err, MN_PROVIDER_E_TRANSIENT, "%s", why);
}

int mn_docker_refused(struct mn_docker *d, struct mn_provider_error *err,
                      const struct mn_docker_reply *reply, const char *what) {
  char msg[400];
  int code = mn_http_status_code(reply->status, NULL);
  if (code == MN_PROVIDER_OK) /* an answer the caller did not expect */
    code = MN_PROVIDER_E_INVALID;
  mn_docker_reply_message(reply, msg, sizeof msg);
  d->host->error(err, code, "%s: %s (HTTP %ld)", what, msg[0] ? msg : "no message",
                 reply->status);
  if (code == MN_PROVIDER_E_TRANSIENT && reply->retry_after_us > 0)
    mn_provider_retry_after(d->host, err, reply->retry_after_us);
  return code;
}

int mn_docker_ref_name(struct mn_docker *d, const struct mn_worker_ref *ref,
                       struct mn_provider_error *err) {
  const char *id = mn_docker_name_execution(ref->identifier);
  char check[MN_WORKER_ID_MAX];
  if (!id || mn_docker_container_name(id, check, sizeof check) != 0 ||
      strcmp(check, ref->identifier) != 0)
    return d->host->error(err, MN_PROVIDER_E_NOT_FOUND, "\"%s\" is not a worker container name",
                          ref->identifier);
  return 0;
}

int mn_docker_log_path(struct mn_docker *d, const char *name, char *out, size_t size) {
  int n = snprintf(out, size, "%s/%s.log", d->log_dir, name);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

int mn_docker_list(struct mn_docker *d, struct mn_docker_summary **out, size_t *n,
                   struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char why[512];
  int rc = 0;

  *out = NULL;
  *n = 0;
  if (mn_docker_http_call(&d->http, "GET", d->list_path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply,
                          why, sizeof why))
    return mn_docker_unreachable(d, err, why);
  if (reply.status != 200) {
    rc = mn_docker_refused(d, err, &reply, "cannot list containers");
    goto done;
  }
  json_t *list = json_loads(reply.body, 0, NULL);
  if (!json_is_array(list)) {
    json_decref(list);
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot list containers: not a JSON array");
    goto done;
  }
  size_t count = json_array_size(list);
  struct mn_docker_summary *items = calloc(count ? count : 1, sizeof *items);
  if (!items) {
    json_decref(list);
    rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
    goto done;
  }
  size_t k = 0;
  for (size_t i = 0; i < count; i++) {
    json_t *c = json_array_get(list, i);
    const char *exe =
        json_string_value(json_object_get(json_object_get(c, "Labels"), MN_DOCKER_LABEL_EXECUTION));
    const char *state = json_string_value(json_object_get(c, "State"));
    const char *name = NULL;
    json_t *names = json_object_get(c, "Names");
    for (size_t j = 0; j < json_array_size(names) && !name; j++) {
      const char *candidate = json_string_value(json_array_get(names, j));
      const char *of = mn_docker_name_execution(candidate);
      if (of && exe && strcmp(of, exe) == 0)
        name = candidate + (candidate[0] == '/');
    }
    if (!name || !state)
      continue; /* not made by this provider */
    snprintf(items[k].name, sizeof items[k].name, "%s", name);
    snprintf(items[k].execution_id, sizeof items[k].execution_id, "%s", exe);
    snprintf(items[k].state, sizeof items[k].state, "%s", state);
    k++;
  }
  json_decref(list);
  *out = items;
  *n = k;
done:
  mn_docker_reply_release(&reply);
  return rc;
}

int mn_docker_inspect_one(struct mn_docker *d, const char *name, struct mn_worker_state *out,
                          struct mn_provider_error *err) {
  struct mn_docker_reply reply;
  char path[512], why[512];
  int rc = 0;

  memset(out, 0, sizeof *out);
  out->exit_code = -1;
  snprintf(path, sizeof path, "/containers/%s/json", name);
  if (mn_docker_http_call(&d->http, "GET", path, NULL, MN_DOCKER_CALL_TIMEOUT_MS, &reply, why,
                          sizeof why))
    return mn_docker_unreachable(d, err, why);
  if (reply.status == 404) {
    out->phase = MN_WORKER_PHASE_MISSING;
    snprintf(out->reason, sizeof out->reason, "no such container");
  } else if (reply.status != 200) {
    rc = mn_docker_refused(d, err, &reply, "cannot inspect the container");
  } else {
    json_t *c = json_loads(reply.body, 0, NULL);
    if (!json_is_object(c))
      rc = d->host->error(err, MN_PROVIDER_E_TRANSIENT, "cannot inspect \"%s\": not JSON", name);
    else
      mn_docker_state_from_json(json_object_get(c, "State"), out);
    json_decref(c);
  }
  mn_docker_reply_release(&reply);
  return rc;
}
