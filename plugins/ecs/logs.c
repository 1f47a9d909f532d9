/* logs.c — a worker's log from CloudWatch Logs (GetLogEvents on the
 * awslogs stream <prefix>/main/<task id>). The offset is CloudWatch's
 * forward token, passed through; a page holds at most 250 events, so it
 * always ends at a token. A stream that does not exist yet has no lines. */
#include <stdio.h>
#include <string.h>

#include "ecs.h"

#define PAGE_MAX 250

int mn_ecs_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                struct mn_log_page *page, struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  json_t *resp = NULL;
  int rc;

  page->next_offset[0] = '\0';
  if (!ref->logs_identifier[0])
    return e->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for worker \"%s\"",
                          ref->identifier);
  if (max_lines <= 0)
    max_lines = 1;
  json_t *req = json_pack("{s:s, s:s, s:i, s:b}", "logGroupName", e->conf.log_group,
                          "logStreamName", ref->logs_identifier, "limit",
                          max_lines < PAGE_MAX ? max_lines : PAGE_MAX, "startFromHead", 1);
  if (!req)
    return e->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  if (offset && *offset)
    json_object_set_new(req, "nextToken", json_string(offset));
  rc = mn_ecs_call(e, MN_ECS_SVC_LOGS, "GetLogEvents", req, &resp, err);
  json_decref(req);
  if (rc == MN_PROVIDER_E_NOT_FOUND) { /* the stream does not exist (yet) */
    if (offset && *offset)
      snprintf(page->next_offset, sizeof page->next_offset, "%s", offset);
    err->code = 0;
    err->msg[0] = '\0';
    return 0;
  }
  if (rc == MN_PROVIDER_E_INVALID && offset && *offset)
    return e->host->error(err, MN_PROVIDER_E_INVALID,
                          "log offset \"%s\" was not issued for \"%s\" (%s)", offset,
                          ref->logs_identifier, err->msg);
  if (rc != 0)
    return rc;
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(resp, "events"), i, ev) {
    const char *msg = json_string_value(json_object_get(ev, "message"));
    size_t len = msg ? json_string_length(json_object_get(ev, "message")) : 0;
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
      len--;
    if (page->add_line(page, msg ? msg : "", len) != 0) {
      json_decref(resp);
      return e->host->error(err, MN_PROVIDER_E_TRANSIENT,
                            "log page of \"%s\": the daemon took no more lines",
                            ref->logs_identifier);
    }
  }
  const char *next = json_string_value(json_object_get(resp, "nextForwardToken"));
  if (next && strlen(next) >= sizeof page->next_offset)
    rc = e->host->error(err, MN_PROVIDER_E_TRANSIENT, "log token too long");
  else if (next)
    strcpy(page->next_offset, next);
  json_decref(resp);
  return rc;
}
