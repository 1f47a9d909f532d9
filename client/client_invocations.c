/* Invocations (docs/compatibility.md §2.4 endpoints 9-12) and waiting for one. */
#include "client_internal.h"

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_FIRST_DELAY_MS 50
#define WAIT_MAX_DELAY_MS 1000

static int check_fn(const struct mn_client *c, const struct mn_client_function_ref *fn,
                    json_t **out, struct mn_client_error *err) {
  if (!c)
    return mn_client__bad_arg(err, out, "the client");
  if (!fn || !fn->project_name || !*fn->project_name)
    return mn_client__bad_arg(err, out, "the project name");
  if (!fn->function_name || !*fn->function_name)
    return mn_client__bad_arg(err, out, "the function name");
  return 0;
}

static int check_invocation(const struct mn_client *c, const struct mn_client_function_ref *fn,
                            const char *invocation_id, json_t **out,
                            struct mn_client_error *err) {
  int rc = check_fn(c, fn, out, err);
  if (rc == 0 && (!invocation_id || !*invocation_id))
    rc = mn_client__bad_arg(err, out, "the invocation id");
  return rc;
}

int mn_client_invocation_start(struct mn_client *c, const struct mn_client_function_ref *fn,
                               const char *input, const struct mn_client_parent *parent,
                               json_t **out, struct mn_client_error *err) {
  return mn_client_invocation_start_with(c, fn, input, parent, NULL, out, err);
}

/* Adds the options to body; 0 or a negative code for a bad one. */
static int add_options(json_t *body, const struct mn_client_start_options *opt, json_t **out,
                       struct mn_client_error *err) {
  int bad = 0;
  if (!opt)
    return 0;
  if (opt->has_priority && (opt->priority < -100 || opt->priority > 100))
    return mn_client__bad_arg(err, out, "the priority (-100 to 100)");
  if (opt->start_at < 0)
    return mn_client__bad_arg(err, out, "start_at (unix seconds)");
  if (opt->has_priority)
    bad |= json_object_set_new(body, "priority", json_integer(opt->priority));
  if (opt->start_at > 0)
    bad |= json_object_set_new(body, "start_at", json_real(opt->start_at));
  if (opt->concurrency_key)
    bad |= json_object_set_new(body, "concurrency_key", json_string(opt->concurrency_key));
  if (opt->idempotency_key)
    bad |= json_object_set_new(body, "idempotency_key", json_string(opt->idempotency_key));
  if (bad) {
    if (out)
      *out = NULL;
    return mn_client__fail(err, MN_CLIENT_E_INVAL, "cannot encode the options (UTF-8 keys?)");
  }
  return 0;
}

int mn_client_invocation_start_with(struct mn_client *c, const struct mn_client_function_ref *fn,
                                    const char *input, const struct mn_client_parent *parent,
                                    const struct mn_client_start_options *opt, json_t **out,
                                    struct mn_client_error *err) {
  json_t *body = NULL;
  json_t *parent_json;
  int rc = check_fn(c, fn, out, err);

  if (rc < 0)
    return rc;
  if (!input)
    return mn_client__bad_arg(err, out, "the input");
  if (parent && (!parent->function_name || !parent->invocation_id))
    return mn_client__bad_arg(err, out, "the parent's function name or invocation id");

  parent_json = parent ? json_pack("{s:s, s:s}", "function_name", parent->function_name,
                                   "invocation_id", parent->invocation_id)
                       : json_null();
  body = json_pack("{s:o, s:s}", "parent_invocation", parent_json, "input", input);
  if (!body) {
    if (out)
      *out = NULL;
    return mn_client__fail(err, MN_CLIENT_E_INVAL, "cannot encode the input (is it UTF-8?)");
  }
  if ((rc = add_options(body, opt, out, err)) < 0) {
    json_decref(body);
    return rc;
  }
  rc = mn_client__call_path(c, "POST",
                            mn_client__path(c, MN_CLIENT_FN_PATH "/invocations",
                                            MN_CLIENT_FN_ARGS(fn)),
                            body, out, err);
  json_decref(body);
  return rc;
}

int mn_client_invocation_get(struct mn_client *c, const struct mn_client_function_ref *fn,
                             const char *invocation_id, json_t **out,
                             struct mn_client_error *err) {
  int rc = check_invocation(c, fn, invocation_id, out, err);
  if (rc < 0)
    return rc;
  return mn_client__call_path(c, "GET",
                              mn_client__path(c, MN_CLIENT_FN_PATH "/invocations/%s",
                                              MN_CLIENT_FN_ARGS(fn), invocation_id),
                              NULL, out, err);
}

static int get_by_id(struct mn_client *c, const char *kind, const char *id, json_t **out,
                     struct mn_client_error *err) {
  if (!c)
    return mn_client__bad_arg(err, out, "the client");
  if (!id || !*id)
    return mn_client__bad_arg(err, out, kind[0] == 'i' ? "the invocation id"
                                                       : "the execution id");
  return mn_client__call_path(c, "GET", mn_client__path(c, "/%s/%s", kind, id), NULL, out,
                              err);
}

int mn_client_invocation_get_by_id(struct mn_client *c, const char *invocation_id,
                                   json_t **out, struct mn_client_error *err) {
  return get_by_id(c, "invocations", invocation_id, out, err);
}

int mn_client_execution_get_by_id(struct mn_client *c, const char *execution_id, json_t **out,
                                  struct mn_client_error *err) {
  return get_by_id(c, "executions", execution_id, out, err);
}

int mn_client_invocation_cancel(struct mn_client *c, const struct mn_client_function_ref *fn,
                                const char *invocation_id, json_t **out,
                                struct mn_client_error *err) {
  int rc = check_invocation(c, fn, invocation_id, out, err);
  if (rc < 0)
    return rc;
  return mn_client__call_path(c, "PUT",
                              mn_client__path(c, MN_CLIENT_FN_PATH "/invocations/%s/cancel",
                                              MN_CLIENT_FN_ARGS(fn), invocation_id),
                              NULL, out, err);
}

int mn_client_invocations_list(struct mn_client *c, const struct mn_client_function_ref *fn,
                               const struct mn_client_list_options *opt, json_t **out,
                               struct mn_client_error *err) {
  char *path;
  char num[32];
  int rc = check_fn(c, fn, out, err);

  if (rc < 0)
    return rc;
  path = mn_client__path(c, MN_CLIENT_FN_PATH "/invocations", MN_CLIENT_FN_ARGS(fn));
  if (path && opt) {
    snprintf(num, sizeof num, "%d", opt->max_results);
    const char *params[][2] = {
        {"max_results", opt->max_results > 0 ? num : NULL},
        {"initial_offset", opt->initial_offset},
        {"status", opt->status},
        {"parent_function_name", opt->parent_function_name},
        {"parent_invocation_id", opt->parent_invocation_id},
    };
    for (size_t i = 0; path && i < sizeof params / sizeof params[0]; i++) {
      if (params[i][1] && mn_client__query_add(c, &path, params[i][0], params[i][1]) < 0) {
        free(path);
        path = NULL;
      }
    }
  }
  return mn_client__call_path(c, "GET", path, NULL, out, err);
}

/* One GET that the server holds until the invocation finishes or
 * wait_s pass (?wait_seconds, docs/events.md); an original control plane
 * ignores the parameter and answers at once. */
static int get_waiting(struct mn_client *c, const struct mn_client_function_ref *fn,
                       const char *invocation_id, long wait_s, json_t **out,
                       struct mn_client_error *err) {
  char *path = mn_client__path(c, MN_CLIENT_FN_PATH "/invocations/%s", MN_CLIENT_FN_ARGS(fn),
                               invocation_id);
  char text[24];
  snprintf(text, sizeof text, "%ld", wait_s);
  if (path && mn_client__query_add(c, &path, "wait_seconds", text) != 0) {
    free(path);
    path = NULL;
  }
  long saved = c->request_timeout_ms;
  if (c->request_timeout_ms < wait_s * 1000 + 15000)
    c->request_timeout_ms = wait_s * 1000 + 15000;
  int rc = mn_client__call_path(c, "GET", path, NULL, out, err);
  c->request_timeout_ms = saved;
  return rc;
}

/* What a wait has shown so far, to call on_change only on a change. */
struct wait_state {
  mn_client_wait_fn *on_change;
  void *ctx;
  int previous;
  char *previous_result;
};

static void observe(struct wait_state *w, const json_t *info, const struct mn_status_info *st) {
  /* a new status, or new progress (the result of a running execution) */
  bool progressed = (st->result != NULL) != (w->previous_result != NULL) ||
                    (st->result && strcmp(st->result, w->previous_result) != 0);
  if (((int)st->status != w->previous || progressed) && w->on_change)
    w->on_change(w->ctx, info, st);
  w->previous = (int)st->status;
  if (progressed) {
    free(w->previous_result);
    w->previous_result = st->result ? strdup(st->result) : NULL;
  }
}

/* The live view's wait: the invocation is read again whenever its event
 * stream reports a change, and the stream's `end` is its final state.
 * 1 when the stream could not be used (the caller polls instead). */
static int wait_on_stream(struct mn_client *c, const struct mn_client_function_ref *fn,
                          const char *invocation_id, long timeout_ms, long long start,
                          struct wait_state *w, json_t **info, struct mn_status_info *st,
                          struct mn_client_error *err) {
  struct mn_client_stream *s;
  if (mn_client_invocation_events_open(c, fn, invocation_id, NULL, &s, NULL) != 0)
    return 1;
  int rc = 0;
  for (;;) {
    long left = -1;
    if (timeout_ms >= 0 && (left = (long)(timeout_ms - (mn_client__now_ms() - start))) <= 0) {
      rc = mn_client__fail(err, MN_CLIENT_E_TIMEOUT, "invocation %s is still %s after %ld ms",
                           invocation_id, mn_status_str(st->status), timeout_ms);
      break;
    }
    struct mn_client_event ev;
    int got = mn_client_events_next(s, left, &ev, NULL);
    if (got == 0)
      continue;
    if (got != 1) {
      rc = 1; /* the stream broke: poll for the rest */
      break;
    }
    json_t *fresh = NULL;
    if (strcmp(ev.type, "end") == 0 && json_is_object(ev.data)) {
      fresh = json_incref(ev.data);
    } else if (strcmp(ev.type, "invocation") == 0 || strcmp(ev.type, "progress") == 0) {
      if ((rc = mn_client_invocation_get(c, fn, invocation_id, &fresh, err)) < 0) {
        mn_client_event_release(&ev);
        break;
      }
    }
    mn_client_event_release(&ev);
    if (!fresh)
      continue;
    json_decref(*info);
    *info = fresh;
    if ((rc = mn_status_derive(*info, st, err)) < 0)
      break;
    observe(w, *info, st);
    if (mn_status_finished(st->status))
      break;
  }
  mn_client_events_close(s);
  return rc;
}

int mn_client_invocation_wait(struct mn_client *c, const struct mn_client_function_ref *fn,
                              const char *invocation_id, long timeout_ms,
                              mn_client_wait_fn *on_change, void *ctx, json_t **out,
                              struct mn_status_info *status, struct mn_client_error *err) {
  struct mn_status_info local;
  struct mn_status_info *st = status ? status : &local;
  json_t *info = NULL;
  long long start = mn_client__now_ms();
  long delay = WAIT_FIRST_DELAY_MS;
  struct wait_state w = {on_change, ctx, -1, NULL};
  bool streamed = false;
  int rc;

  if (out)
    *out = NULL;
  rc = check_invocation(c, fn, invocation_id, NULL, err);
  if (rc < 0)
    return rc;

  for (;;) {
    json_decref(info);
    info = NULL;
    long long asked_at = mn_client__now_ms(), wait_s = 0;
    if (!on_change) { /* no live view: let the server hold the GET */
      long long left = timeout_ms < 0 ? 60000 : timeout_ms - (asked_at - start);
      wait_s = left >= 60000 ? 60 : left / 1000;
    }
    rc = wait_s > 0 ? get_waiting(c, fn, invocation_id, (long)wait_s, &info, err)
                    : mn_client_invocation_get(c, fn, invocation_id, &info, err);
    if (rc < 0)
      goto fail;
    rc = mn_status_derive(info, st, err);
    if (rc < 0)
      goto fail;
    observe(&w, info, st);
    if (mn_status_finished(st->status))
      break;
    if (on_change && !streamed) {
      streamed = true; /* once: a broken stream falls back to polling */
      rc = wait_on_stream(c, fn, invocation_id, timeout_ms, start, &w, &info, st, err);
      if (rc < 0 && rc != MN_CLIENT_E_TIMEOUT)
        goto fail;
      if (rc <= 0)
        break;
    }

    long long elapsed = mn_client__now_ms() - start;
    if (timeout_ms >= 0 && elapsed >= timeout_ms) {
      rc = mn_client__fail(err, MN_CLIENT_E_TIMEOUT,
                           "invocation %s is still %s after %lld ms", invocation_id,
                           mn_status_str(st->status), elapsed);
      break;
    }
    /* a server that held the GET needs no nap before the next */
    if (wait_s > 0 && mn_client__now_ms() - asked_at >= wait_s * 500)
      continue;
    long nap = delay;
    if (timeout_ms >= 0 && timeout_ms - elapsed < nap)
      nap = (long)(timeout_ms - elapsed);
    mn_client__sleep_ms(nap);
    delay = delay * 2 > WAIT_MAX_DELAY_MS ? WAIT_MAX_DELAY_MS : delay * 2;
  }
  if (out) {
    *out = info;
  } else {
    /* the status keeps its values; its borrowed strings would dangle */
    json_decref(info);
    st->result = st->error = st->latest_execution_id = NULL;
  }
  free(w.previous_result);
  return rc;

fail:
  free(w.previous_result);
  json_decref(info);
  memset(st, 0, sizeof *st);
  return rc;
}
