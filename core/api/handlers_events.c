/* Handlers of the event streams and of the progress history
 * (docs/events.md). The streams themselves live in api/events.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "api/codec.h"
#include "api/events.h"
#include "api/routes.h"
#include "util/clock.h"

/* Resumed streams read at most this many stored events at once; older
 * ones are past what a reconnect can expect (docs/events.md). */
#define BACKLOG_LIMIT 10000
#define PROGRESS_PAGE_LIMIT 1000

static int bad_request(struct mn_api_response *res, const char *detail) {
  res->status = 400;
  res->body = mn_json_error(detail);
  return res->body ? MN_EINVAL : MN_ENOMEM;
}

/* Last-Event-ID (the header wins over ?last_event_id): -1 when absent. */
static int last_event_id(const struct mn_api_request *req, long long *out,
                         struct mn_api_response *res) {
  const char *text = mn_api_header(req, "Last-Event-ID");
  if (!text || !*text)
    text = mn_api_query(req, "last_event_id");
  *out = -1;
  if (!text || !*text)
    return 0;
  if (mn_api_parse_integer(text, out) != 0 || *out < 0)
    return bad_request(res, "Last-Event-ID must be a non-negative integer (the id of the last "
                            "event received)");
  return 0;
}

/* Opens the stream of f: the stored events after `after` first (a resume),
 * else the invocation's current state (inv, when an invocation stream),
 * then the live ones. */
static int open_stream(const struct mn_api_ctx *ctx, const struct mn_event_filter *f,
                       long long after, const struct mn_function_key *fk,
                       struct mn_api_response *res) {
  struct mn_event_stream *s;
  int64_t position = 0;
  int rc = ctx->events ? mn_events_stream_open(ctx->events, f, &s, &position) : MN_EUNAVAILABLE;
  if (rc == MN_EUNAVAILABLE) {
    res->status = 503;
    res->body = mn_json_error(!ctx->events  ? "This server has no event streams"
                              : position < 0 ? "The database is unavailable; try again later"
                                             : "Too many event streams are open on this server; "
                                               "try again later");
    return rc;
  }
  if (rc != 0)
    return rc;
  if (after >= 0) {
    PGresult *r = NULL;
    rc = mn_store_events_between(ctx->store, after, position, f, BACKLOG_LIMIT, &r);
    for (int i = 0; rc == 0 && i < PQntuples(r); i++)
      mn_events_stream_push_row(s, r, i);
    PQclear(r);
  } else if (f->invocation_id) {
    struct mn_invocation inv = {0};
    rc = mn_store_get_invocation(ctx->store, fk, f->invocation_id, &inv);
    if (rc == 0)
      mn_events_stream_push_state(s, &inv);
    mn_invocation_release(&inv);
  }
  if (rc != 0) {
    mn_events_stream_discard(s);
    return rc;
  }
  mn_events_stream_go_live(s);
  res->stream = s;
  return 0;
}

int mn_api_get_invocation_events(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                                 struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_invocation inv = {0};
  long long after;
  int rc = last_event_id(req, &after, res);
  if (rc == 0) /* the path, and the version "latest" stands for */
    rc = mn_store_get_invocation(ctx->store, &fk, req->params[MN_PARAM_INVOCATION], &inv);
  if (rc == 0) {
    struct mn_event_filter f = {inv.function.project_name, inv.function.version_id,
                                inv.function.function_name, inv.invocation_id};
    fk.version_ref = inv.function.version_id;
    rc = open_stream(ctx, &f, after, &fk, res);
  }
  mn_invocation_release(&inv);
  return rc;
}

int mn_api_get_project_events(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                              struct mn_api_response *res) {
  struct mn_project p = {0};
  long long after;
  int rc = last_event_id(req, &after, res);
  if (rc == 0)
    rc = mn_store_get_project(ctx->store, req->params[MN_PARAM_PROJECT], &p);
  if (rc == 0) {
    struct mn_event_filter f = {p.project_name, NULL, NULL, NULL};
    rc = open_stream(ctx, &f, after, NULL, res);
  }
  mn_project_release(&p);
  return rc;
}

int mn_api_get_events(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                      struct mn_api_response *res) {
  long long after;
  int rc = last_event_id(req, &after, res);
  struct mn_event_filter f = {NULL, NULL, NULL, NULL};
  return rc != 0 ? rc : open_stream(ctx, &f, after, NULL, res);
}

int mn_api_get_execution_progress(const struct mn_api_ctx *ctx, const struct mn_api_request *req,
                                  struct mn_api_response *res) {
  struct mn_function_key fk = mn_api_function_key(req);
  struct mn_progress_page page = {0};
  const char *offset;
  long long after = 0;
  int max;
  int rc = mn_api_query_page_size(req, "max_results", PROGRESS_PAGE_LIMIT, &max, res);
  if (rc == 0)
    rc = mn_api_query_text(req, "initial_offset", &offset, res);
  if (rc != 0)
    return rc;
  if (offset && (mn_api_parse_integer(offset, &after) != 0 || after < 1))
    return MN_EOFFSET_INVALID;
  if (offset)
    after--; /* the offset names the first update of the page */
  rc = mn_store_list_progress(ctx->store, &fk, req->params[MN_PARAM_INVOCATION],
                              req->params[MN_PARAM_EXECUTION], after, max, &page);
  if (rc != 0)
    return rc;
  json_t *updates = json_array();
  for (size_t i = 0; updates && i < page.n; i++) {
    json_t *u = json_pack("{s:s,s:I,s:I,s:I}", "output", page.outputs[i], "time",
                          (json_int_t)mn_us_to_s(page.times[i]), "time_us",
                          (json_int_t)page.times[i], "offset", (json_int_t)page.numbers[i]);
    if (!u || json_array_append_new(updates, u) != 0) {
      json_decref(updates);
      updates = NULL;
    }
  }
  char next[24];
  int64_t next_after = page.next_after;
  if (next_after >= 0)
    snprintf(next, sizeof next, "%" PRId64, next_after + 1);
  mn_progress_page_release(&page);
  if (!updates)
    return MN_ENOMEM;
  return mn_api_reply(res, json_pack("{s:o,s:s?}", "updates", updates, "next_offset",
                                     next_after >= 0 ? next : NULL));
}
