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

int mn_client_invocation_wait(struct mn_client *c, const struct mn_client_function_ref *fn,
                              const char *invocation_id, long timeout_ms,
                              mn_client_wait_fn *on_change, void *ctx, json_t **out,
                              struct mn_status_info *status, struct mn_client_error *err) {
  struct mn_status_info local;
  struct mn_status_info *st = status ? status : &local;
  json_t *info = NULL;
  long long start = mn_client__now_ms();
  long delay = WAIT_FIRST_DELAY_MS;
  int previous = -1;
  char *previous_result = NULL;
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
    /* a new status, or new progress (the result of a running execution) */
    bool progressed = (st->result != NULL) != (previous_result != NULL) ||
                      (st->result && strcmp(st->result, previous_result) != 0);
    if (((int)st->status != previous || progressed) && on_change)
      on_change(ctx, info, st);
    previous = (int)st->status;
    if (progressed) {
      free(previous_result);
      previous_result = st->result ? strdup(st->result) : NULL;
    }
    if (mn_status_finished(st->status))
      break;

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
  free(previous_result);
  return rc;

fail:
  free(previous_result);
  json_decref(info);
  memset(st, 0, sizeof *st);
  return rc;
}
