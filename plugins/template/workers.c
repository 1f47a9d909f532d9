/* workers.c — inspect_many, terminate, release and list_owned (template.h).
 * A worker the API does not know is MISSING, and stopping or deleting one
 * that is gone is success: the daemon may ask again after a crash. */
#include <stdio.h>
#include <string.h>

#include "template.h"

#define INSPECT_BATCH 50 /* names per list call: keeps the URL short */

void tpl_worker_state(json_t *worker, struct mn_worker_state *out) {
  const char *status = json_string_value(json_object_get(worker, "status"));
  const char *reason = json_string_value(json_object_get(worker, "reason"));
  json_t *code = json_object_get(worker, "exit_code");
  memset(out, 0, sizeof *out);
  out->exit_code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
  if (status && strcmp(status, "running") == 0)
    out->phase = MN_WORKER_PHASE_RUNNING;
  else if (status && strcmp(status, "exited") == 0)
    out->phase = MN_WORKER_PHASE_EXITED;
  else
    out->phase = MN_WORKER_PHASE_PENDING;
  snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
}

/* One list call for up to INSPECT_BATCH refs. */
static int inspect_batch(struct tpl *t, const struct mn_worker_ref *refs, size_t n,
                         struct mn_worker_state *states, struct mn_provider_error *err) {
  char path[INSPECT_BATCH * 48 + 256], esc[200];
  int used = snprintf(path, sizeof path, "/v1/workers?owner=%s&names=", t->owner);
  for (size_t i = 0; i < n && used > 0 && used < (int)sizeof path; i++) {
    if (mn_http_escape(refs[i].identifier, esc, sizeof esc) != 0 || strlen(esc) > 40)
      esc[0] = '\0'; /* not a name of ours: it will be MISSING */
    used += snprintf(path + used, sizeof path - (size_t)used, "%s%s", i ? "%2C" : "", esc);
  }
  if (used <= 0 || used >= (int)sizeof path)
    return t->host->error(err, MN_PROVIDER_E_INVALID, "inspect: query too long");
  json_t *ans;
  int rc = tpl_call(t, "GET", path, NULL, &ans, NULL, err);
  if (rc)
    return rc; /* the whole batch: the daemon keeps the states it had */
  json_t *workers = json_object_get(ans, "workers");
  for (size_t i = 0; i < n; i++) {
    size_t k;
    json_t *w, *found = NULL;
    json_array_foreach(workers, k, w) {
      const char *name = json_string_value(json_object_get(w, "name"));
      if (name && strcmp(name, refs[i].identifier) == 0)
        found = w;
    }
    if (found) {
      tpl_worker_state(found, &states[i]);
    } else {
      memset(&states[i], 0, sizeof states[i]);
      states[i].phase = MN_WORKER_PHASE_MISSING; /* not an error */
      states[i].exit_code = -1;
      snprintf(states[i].reason, sizeof states[i].reason, "no such worker");
    }
  }
  json_decref(ans);
  return 0;
}

int tpl_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                     struct mn_worker_state *states_out, struct mn_provider_error *err) {
  for (size_t i = 0; i < n; i += INSPECT_BATCH) {
    int rc = inspect_batch(state, refs + i, n - i < INSPECT_BATCH ? n - i : INSPECT_BATCH,
                           states_out + i, err);
    if (rc)
      return rc;
  }
  return 0;
}

/* "/v1/workers/<name><suffix>", or -1 when the identifier does not fit. */
static int worker_path(const struct mn_worker_ref *ref, const char *suffix, char *out,
                       size_t size) {
  char esc[MN_WORKER_ID_MAX * 3];
  if (mn_http_escape(ref->identifier, esc, sizeof esc) != 0)
    return -1;
  return snprintf(out, size, "/v1/workers/%s%s", esc, suffix) < (int)size ? 0 : -1;
}

int tpl_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                  struct mn_provider_error *err) {
  struct tpl *t = state;
  char path[MN_WORKER_ID_MAX * 3 + 64];
  if (worker_path(ref, "/stop", path, sizeof path) != 0)
    return 0; /* no worker of ours has such a name: gone */
  /* The API sends SIGTERM now and SIGKILL after the grace; we do not wait. */
  json_t *body = json_pack("{s:i}", "grace_seconds", grace_seconds);
  int rc = tpl_call(t, "POST", path, body, NULL, NULL, err);
  json_decref(body);
  return rc == MN_PROVIDER_E_NOT_FOUND ? 0 : rc;
}

int tpl_release(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err) {
  struct tpl *t = state;
  char path[MN_WORKER_ID_MAX * 3 + 64];
  if (worker_path(ref, "", path, sizeof path) != 0)
    return 0;
  /* The API keeps a deleted worker's log, so logs() still reads it. */
  int rc = tpl_call(t, "DELETE", path, NULL, NULL, NULL, err);
  return rc == MN_PROVIDER_E_NOT_FOUND ? 0 : rc;
}

int tpl_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                   struct mn_provider_error *err) {
  struct tpl *t = state;
  char path[400];
  json_int_t page = 0;
  int stop = 0;
  /* Every page of the workers tagged with our cluster id. */
  while (!stop) {
    json_t *ans, *w;
    size_t i;
    snprintf(path, sizeof path, "/v1/workers?owner=%s&page=%" JSON_INTEGER_FORMAT, t->owner,
             page);
    int rc = tpl_call(t, "GET", path, NULL, &ans, NULL, err);
    if (rc)
      return rc;
    json_array_foreach(json_object_get(ans, "workers"), i, w) {
      const char *name = json_string_value(json_object_get(w, "name"));
      const char *exe =
          json_string_value(json_object_get(json_object_get(w, "tags"), "execution"));
      if (!name || !exe)
        continue; /* not one of the daemon's workers */
      struct mn_owned_worker ow = {.execution_id = exe};
      snprintf(ow.ref.identifier, sizeof ow.ref.identifier, "%s", name);
      snprintf(ow.ref.logs_identifier, sizeof ow.ref.logs_identifier, "%s", name);
      tpl_worker_state(w, &ow.state);
      if (cb(ctx, &ow)) {
        stop = 1;
        break;
      }
    }
    json_t *next = json_object_get(ans, "next_page");
    if (!json_is_integer(next))
      stop = 1;
    else
      page = json_integer_value(next);
    json_decref(ans);
  }
  return 0;
}
