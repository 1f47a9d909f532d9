/* inspect.c — DescribeTasks in batches of 100 (ECS's limit) for any number
 * of workers, and list_owned: ListTasks by this cluster's startedBy, then
 * DescribeTasks with tags to read each task's execution id back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "names.h"
#include "tags.h"

#define BATCH 100

static void set_reason(struct mn_worker_state *out, const char *a, const char *b) {
  snprintf(out->reason, sizeof out->reason, "%s%s%s", a ? a : "", a && b ? ": " : "",
           b ? b : "");
}

void mn_ecs_task_state(const json_t *task, struct mn_worker_state *out) {
  const char *last = json_string_value(json_object_get(task, "lastStatus"));
  memset(out, 0, sizeof *out);
  out->exit_code = -1;
  if (!last || strcmp(last, "PROVISIONING") == 0 || strcmp(last, "PENDING") == 0 ||
      strcmp(last, "ACTIVATING") == 0) {
    out->phase = MN_WORKER_PHASE_PENDING;
    return;
  }
  if (strcmp(last, "STOPPED") != 0) {
    out->phase = MN_WORKER_PHASE_RUNNING; /* RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING */
    return;
  }
  out->phase = MN_WORKER_PHASE_EXITED;
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(task, "containers"), i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    if (name && strcmp(name, "main") == 0) {
      json_t *code = json_object_get(c, "exitCode");
      if (json_is_integer(code))
        out->exit_code = (int)json_integer_value(code);
      const char *why = json_string_value(json_object_get(c, "reason"));
      if (why && *why) {
        set_reason(out, json_string_value(json_object_get(task, "stoppedReason")), why);
        return;
      }
    }
  }
  set_reason(out, json_string_value(json_object_get(task, "stoppedReason")), NULL);
  if (!out->reason[0])
    set_reason(out, json_string_value(json_object_get(task, "stopCode")), NULL);
}

/* One DescribeTasks call for arns[0..n), n <= BATCH. */
static int describe(struct mn_ecs *e, const char *const *arns, size_t n, int with_tags,
                    json_t **resp, struct mn_provider_error *err) {
  json_t *tasks = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(tasks, json_string(arns[i]));
  json_t *req = json_pack("{s:s, s:o}", "cluster", e->conf.cluster, "tasks", tasks);
  if (!req)
    return e->host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  if (with_tags)
    json_object_set_new(req, "include", json_pack("[s]", "TAGS"));
  int rc = mn_ecs_call(e, MN_ECS_SVC_ECS, "DescribeTasks", req, resp, err);
  json_decref(req);
  return rc;
}

static int is_task_arn(const char *s) { return strncmp(s, "arn:", 4) == 0 && strchr(s, '/'); }

int mn_ecs_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                        struct mn_worker_state *states_out, struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  const char *arns[BATCH];
  size_t idx[BATCH];
  int rc = 0;

  for (size_t at = 0; at < n;) {
    size_t k = 0;
    for (; at < n && k < BATCH; at++) {
      struct mn_worker_state *st = &states_out[at];
      memset(st, 0, sizeof *st);
      st->exit_code = -1;
      st->phase = MN_WORKER_PHASE_MISSING;
      if (!is_task_arn(refs[at].identifier)) {
        snprintf(st->reason, sizeof st->reason, "not an ECS task ARN");
        continue;
      }
      arns[k] = refs[at].identifier;
      idx[k++] = at;
    }
    if (!k)
      continue;
    json_t *resp = NULL;
    if ((rc = describe(e, arns, k, 0, &resp, err)) != 0)
      return rc;
    json_t *tasks = json_object_get(resp, "tasks"), *failures = json_object_get(resp, "failures");
    for (size_t j = 0; j < k; j++) {
      struct mn_worker_state *st = &states_out[idx[j]];
      size_t i;
      json_t *t;
      int found = 0;
      json_array_foreach(tasks, i, t) {
        const char *arn = json_string_value(json_object_get(t, "taskArn"));
        if (arn && strcmp(arn, arns[j]) == 0) {
          mn_ecs_task_state(t, st);
          found = 1;
          break;
        }
      }
      if (found)
        continue;
      snprintf(st->reason, sizeof st->reason, "MISSING");
      json_array_foreach(failures, i, t) {
        const char *arn = json_string_value(json_object_get(t, "arn"));
        const char *reason = json_string_value(json_object_get(t, "reason"));
        if (arn && reason && strcmp(arn, arns[j]) == 0)
          set_reason(st, reason, json_string_value(json_object_get(t, "detail")));
      }
    }
    json_decref(resp);
  }
  return rc;
}

/* Calls cb for the tasks of arns[0..n) that carry this cluster's tag.
 * Returns 0, 1 when cb stopped the walk, or an error. */
static int owned_batch(struct mn_ecs *e, const char *const *arns, size_t n, mn_owned_worker_fn *cb,
                       void *ctx, struct mn_provider_error *err) {
  json_t *resp = NULL, *t;
  size_t i;
  int rc = describe(e, arns, n, 1, &resp, err);
  if (rc != 0)
    return rc;
  json_array_foreach(json_object_get(resp, "tasks"), i, t) {
    json_t *tags = json_object_get(t, "tags");
    const char *cluster = mn_ecs_tag_get(tags, MN_ECS_TAG_CLUSTER);
    const char *exe = mn_ecs_tag_get(tags, MN_ECS_TAG_EXECUTION);
    const char *arn = json_string_value(json_object_get(t, "taskArn"));
    if (!cluster || !exe || !arn || strcmp(cluster, e->host->cluster_id) != 0 ||
        strlen(arn) >= MN_WORKER_ID_MAX)
      continue;
    struct mn_owned_worker w = {.execution_id = exe};
    strcpy(w.ref.identifier, arn);
    mn_ecs_log_stream(e->conf.log_stream_prefix, arn, w.ref.logs_identifier,
                      sizeof w.ref.logs_identifier);
    mn_ecs_task_state(t, &w.state);
    if (cb(ctx, &w) != 0) {
      rc = 1;
      break;
    }
  }
  json_decref(resp);
  return rc;
}

int mn_ecs_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                      struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  static const char *const statuses[] = {"RUNNING", "STOPPED"};
  int rc = 0;

  for (int s = 0; s < 2 && rc == 0; s++) {
    char *next = NULL;
    do {
      json_t *req = json_pack("{s:s, s:s, s:s, s:i}", "cluster", e->conf.cluster, "startedBy",
                              e->started_by, "desiredStatus", statuses[s], "maxResults", BATCH);
      json_t *resp = NULL;
      if (next)
        json_object_set_new(req, "nextToken", json_string(next));
      free(next);
      next = NULL;
      rc = mn_ecs_call(e, MN_ECS_SVC_ECS, "ListTasks", req, &resp, err);
      json_decref(req);
      if (rc != 0)
        break;
      json_t *list = json_object_get(resp, "taskArns"), *a;
      const char *arns[BATCH];
      size_t i, k = 0;
      json_array_foreach(list, i, a) {
        if (k < BATCH && json_string_value(a))
          arns[k++] = json_string_value(a);
      }
      if (k)
        rc = owned_batch(e, arns, k, cb, ctx, err);
      const char *tok = json_string_value(json_object_get(resp, "nextToken"));
      if (rc == 0 && tok && *tok)
        next = strdup(tok);
      json_decref(resp);
    } while (next && rc == 0);
    free(next);
  }
  return rc == 1 ? 0 : rc;
}
