/* One wrapper per provider operation (SQLite's os.c): absent operations and
 * capabilities, error normalization, and output checks live here only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/handle.h"
#include "plugin/host.h"
#include "plugin/log_page.h"
#include "metrics/metrics.h"

const char *mn_provider_strerror(int code) {
  switch (code) {
  case MN_PROVIDER_OK: return "ok";
  case MN_PROVIDER_E_TRANSIENT: return "transient";
  case MN_PROVIDER_E_CAPACITY: return "capacity";
  case MN_PROVIDER_E_INVALID: return "invalid";
  case MN_PROVIDER_E_NOT_FOUND: return "not found";
  case MN_PROVIDER_E_AUTH: return "auth";
  case MN_PROVIDER_E_UNSUPPORTED: return "unsupported";
  default: return "unknown";
  }
}

static void begin(struct mn_provider_error *err) {
  err->code = 0;
  err->msg[0] = '\0';
  err->retry_after_us = 0;
}

/* Wrappers accept err == NULL. */
#define LOCAL_ERR(err)                                                         \
  struct mn_provider_error local_err_;                                         \
  if (!(err))                                                                  \
  (err) = &local_err_

static int unsupported(const struct mn_provider_handle *h, const char *op,
                       struct mn_provider_error *err) {
  err->code = MN_PROVIDER_E_UNSUPPORTED;
  snprintf(err->msg, sizeof err->msg, "provider \"%s\" does not support %s", h->name, op);
  return MN_PROVIDER_E_UNSUPPORTED;
}

/* Normalizes what an operation returned: a known code and a message. */
static int finish(const struct mn_provider_handle *h, const char *op, int rc,
                  struct mn_provider_error *err) {
  err->msg[sizeof err->msg - 1] = '\0';
  mn_metrics_provider_call(h->name, op,
                           rc <= 0 && rc >= MN_PROVIDER_E_UNSUPPORTED ? rc : MN_PROVIDER_E_INVALID);
  /* a wait is asked for with TRANSIENT or CAPACITY only (provider.h); a
   * provider built before 1.2 never writes it (begin zeroed it) */
  if (rc != MN_PROVIDER_E_TRANSIENT && rc != MN_PROVIDER_E_CAPACITY)
    err->retry_after_us = 0;
  else if (err->retry_after_us < 0)
    err->retry_after_us = 0;
  if (rc == 0)
    return 0;
  if (rc < MN_PROVIDER_E_UNSUPPORTED || rc > MN_PROVIDER_E_TRANSIENT) {
    char msg[sizeof err->msg + 256];
    snprintf(msg, sizeof msg, "provider \"%s\": %s returned unknown code %d%s%s", h->name, op,
             rc, err->msg[0] ? ": " : "", err->msg);
    msg[sizeof err->msg - 1] = '\0';
    memcpy(err->msg, msg, sizeof err->msg);
    rc = MN_PROVIDER_E_INVALID;
  }
  err->code = rc;
  if (!err->msg[0])
    snprintf(err->msg, sizeof err->msg, "provider \"%s\": %s failed (%s)", h->name, op,
             mn_provider_strerror(rc));
  return rc;
}

int mn_provider_prepare(struct mn_provider_handle *h, const struct mn_function_desc *fn,
                        struct mn_prepared *out, struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  out->details_json[0] = '\0';
  if (!h->ops.prepare)
    return 0; /* nothing to prepare */
  int rc = finish(h, "prepare", h->ops.prepare(h->state, fn, out, err), err);
  out->details_json[sizeof out->details_json - 1] = '\0';
  return rc;
}

static void terminate_ref(struct mn_worker_ref *ref) {
  ref->identifier[sizeof ref->identifier - 1] = '\0';
  ref->logs_identifier[sizeof ref->logs_identifier - 1] = '\0';
}

int mn_provider_launch(struct mn_provider_handle *h, const struct mn_launch_spec *spec,
                       struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  memset(ref_out, 0, sizeof *ref_out);
  int rc = finish(h, "launch", h->ops.launch(h->state, spec, ref_out, err), err);
  terminate_ref(ref_out);
  if (rc == 0 && !ref_out->identifier[0]) {
    err->code = MN_PROVIDER_E_INVALID;
    snprintf(err->msg, sizeof err->msg, "provider \"%s\": launch returned no worker identifier",
             h->name);
    return MN_PROVIDER_E_INVALID;
  }
  return rc;
}

static void fix_state(struct mn_worker_state *s) {
  s->reason[sizeof s->reason - 1] = '\0';
  if (s->phase < MN_WORKER_PHASE_PENDING || s->phase > MN_WORKER_PHASE_MISSING)
    s->phase = MN_WORKER_PHASE_MISSING;
}

int mn_provider_inspect_many(struct mn_provider_handle *h, const struct mn_worker_ref *refs,
                             size_t n, struct mn_worker_state *states_out,
                             struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  memset(states_out, 0, n * sizeof *states_out);
  for (size_t i = 0; i < n; i++)
    states_out[i].exit_code = -1;
  if (n == 0)
    return 0;
  int rc;
  if (h->ops.caps & MN_PROVIDER_CAP_BATCH_INSPECT) {
    rc = finish(h, "inspect_many", h->ops.inspect_many(h->state, refs, n, states_out, err), err);
  } else {
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
      rc = finish(h, "inspect_many",
                  h->ops.inspect_many(h->state, &refs[i], 1, &states_out[i], err), err);
  }
  for (size_t i = 0; i < n; i++)
    fix_state(&states_out[i]);
  return rc;
}

int mn_provider_terminate(struct mn_provider_handle *h, const struct mn_worker_ref *ref,
                          int grace_seconds, struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  return finish(h, "terminate", h->ops.terminate(h->state, ref, grace_seconds, err), err);
}

int mn_provider_release(struct mn_provider_handle *h, const struct mn_worker_ref *ref,
                        struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  if (!h->ops.release)
    return 0; /* nothing to clean up */
  return finish(h, "release", h->ops.release(h->state, ref, err), err);
}

int mn_provider_list_owned(struct mn_provider_handle *h, mn_owned_worker_fn *cb, void *ctx,
                           struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  if (!h->ops.list_owned || !(h->ops.caps & MN_PROVIDER_CAP_LIST_OWNED))
    return unsupported(h, "list_owned", err);
  return finish(h, "list_owned", h->ops.list_owned(h->state, cb, ctx, err), err);
}

int mn_provider_registry_credentials(struct mn_provider_handle *h,
                                     struct mn_registry_credentials *out,
                                     struct mn_provider_error *err) {
  LOCAL_ERR(err);
  begin(err);
  memset(out, 0, sizeof *out);
  if (!h->ops.registry_credentials)
    return unsupported(h, "registry_credentials", err);
  int rc = finish(h, "registry_credentials", h->ops.registry_credentials(h->state, out, err), err);
  out->repository_name[sizeof out->repository_name - 1] = '\0';
  out->username[sizeof out->username - 1] = '\0';
  out->password[sizeof out->password - 1] = '\0';
  out->endpoint_url[sizeof out->endpoint_url - 1] = '\0';
  return rc;
}

int mn_provider_logs(struct mn_provider_handle *h, const struct mn_worker_ref *ref,
                     const char *offset, int max_lines, json_t **lines_out,
                     char **next_offset_out, struct mn_provider_error *err) {
  struct mn_log_sink sink;
  int rc;
  LOCAL_ERR(err);
  begin(err);
  *lines_out = NULL;
  *next_offset_out = NULL;
  if (!h->ops.logs || !(h->ops.caps & MN_PROVIDER_CAP_LOGS))
    return unsupported(h, "logs", err);
  if (mn_log_sink_init(&sink, max_lines)) {
    err->code = MN_PROVIDER_E_TRANSIENT;
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return MN_PROVIDER_E_TRANSIENT;
  }
  rc = finish(h, "logs", h->ops.logs(h->state, ref, offset, max_lines, &sink.page, err), err);
  if (rc == 0 && sink.oom) {
    err->code = rc = MN_PROVIDER_E_TRANSIENT;
    snprintf(err->msg, sizeof err->msg, "out of memory");
  }
  if (rc == 0) {
    sink.page.next_offset[sizeof sink.page.next_offset - 1] = '\0';
    if (sink.page.next_offset[0] && !(*next_offset_out = strdup(sink.page.next_offset))) {
      err->code = rc = MN_PROVIDER_E_TRANSIENT;
      snprintf(err->msg, sizeof err->msg, "out of memory");
    }
  }
  if (rc == 0) {
    *lines_out = sink.lines;
    sink.lines = NULL;
  }
  mn_log_sink_release(&sink);
  return rc;
}
