/* launch.c — RunTask for one execution, at most once: the clientToken is
 * derived from the execution id, so a repeated launch (a retry after a lost
 * answer, a daemon restarted mid-launch) gets the task the first call
 * started. Launches pass a token bucket (launch_rate, launch_burst). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "names.h"
#include "tags.h"

static json_t *network(const struct mn_ecs_conf *c) {
  json_t *subnets = json_array(), *groups = json_array();
  for (size_t i = 0; i < c->n_subnets; i++)
    json_array_append_new(subnets, json_string(c->subnets[i]));
  for (size_t i = 0; i < c->n_security_groups; i++)
    json_array_append_new(groups, json_string(c->security_groups[i]));
  json_t *vpc = json_pack("{s:o, s:s}", "subnets", subnets, "assignPublicIp",
                          c->assign_public_ip ? "ENABLED" : "DISABLED");
  if (c->n_security_groups)
    json_object_set_new(vpc, "securityGroups", groups);
  else
    json_decref(groups);
  return json_pack("{s:o}", "awsvpcConfiguration", vpc);
}

static json_t *overrides(const struct mn_launch_spec *spec) {
  json_t *env = json_array();
  for (size_t i = 0; i < spec->n_env; i++)
    if (strncmp(spec->env[i].key, MN_WORKER_ENV_PREFIX, strlen(MN_WORKER_ENV_PREFIX)) == 0)
      json_array_append_new(env, json_pack("{s:s, s:s}", "name", spec->env[i].key, "value",
                                           spec->env[i].value ? spec->env[i].value : ""));
  return json_pack("{s:[{s:s, s:o}]}", "containerOverrides", "name", "main", "environment", env);
}

static json_t *run_task_request(struct mn_ecs *e, const struct mn_launch_spec *spec,
                                const char *task_definition, const char *token) {
  const struct mn_ecs_conf *c = &e->conf;
  json_t *tags = json_array();
  mn_ecs_tag_add(tags, MN_ECS_TAG_CLUSTER, e->host->cluster_id);
  mn_ecs_tag_add(tags, MN_ECS_TAG_EXECUTION, spec->execution_id);
  mn_ecs_tag_add(tags, MN_ECS_TAG_INVOCATION, spec->invocation_id);
  mn_ecs_tag_add(tags, MN_ECS_TAG_PROJECT, spec->project_name);
  mn_ecs_tag_add(tags, MN_ECS_TAG_FUNCTION, spec->function_name);
  json_t *req = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o}", "cluster", c->cluster,
                          "taskDefinition", task_definition, "count", 1, "clientToken", token,
                          "startedBy", e->started_by, "networkConfiguration", network(c),
                          "overrides", overrides(spec), "tags", tags);
  if (!req)
    return NULL;
  if (c->n_strategy) {
    json_t *s = json_array();
    for (size_t i = 0; i < c->n_strategy; i++)
      json_array_append_new(s, json_pack("{s:s, s:i, s:i}", "capacityProvider",
                                         c->strategy[i].provider, "weight", c->strategy[i].weight,
                                         "base", c->strategy[i].base));
    json_object_set_new(req, "capacityProviderStrategy", s);
  } else {
    json_object_set_new(req, "launchType", json_string(c->launch_type));
  }
  if (c->platform_version)
    json_object_set_new(req, "platformVersion", json_string(c->platform_version));
  return req;
}

/* The task definition ARN that prepare stored. */
static int task_definition_of(struct mn_ecs *e, const struct mn_launch_spec *spec, char *out,
                              size_t size, struct mn_provider_error *err) {
  json_t *d = spec->prepared_details_json ? json_loads(spec->prepared_details_json, 0, NULL) : NULL;
  const char *arn = json_string_value(json_object_get(d, "task_definition_arn"));
  int rc = 0;
  if (!arn || strlen(arn) >= size)
    rc = e->host->error(err, MN_PROVIDER_E_INVALID,
                        "function \"%s\" has no task definition (prepare did not run)",
                        spec->function_name);
  else
    strcpy(out, arn);
  json_decref(d);
  return rc;
}

int mn_ecs_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                  struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  const struct mn_host *host = e->host;
  char task_definition[2048], token[MN_ECS_TOKEN_MAX + 1];
  json_t *req = NULL, *resp = NULL;
  int rc;

  memset(ref_out, 0, sizeof *ref_out);
  if ((rc = task_definition_of(e, spec, task_definition, sizeof task_definition, err)) != 0)
    return rc;
  if (mn_ecs_client_token(spec->execution_id, token, sizeof token) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID, "execution id \"%s\" gives no client token",
                       spec->execution_id);
  /* no token now: the daemon tries again when there is one (no provider
   * sleeps) */
  int64_t wait = mn_ecs_bucket_try(&e->launches, host->now_us());
  if (wait > 0) {
    host->error(err, MN_PROVIDER_E_TRANSIENT, "launch rate limit (%.0f/s) reached",
                (double)e->conf.launch_rate);
    mn_provider_retry_after(host, err, wait);
    return MN_PROVIDER_E_TRANSIENT;
  }

  if (!(req = run_task_request(e, spec, task_definition, token)))
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  if ((rc = mn_ecs_call(e, MN_ECS_SVC_ECS, "RunTask", req, &resp, err)) != 0)
    goto done;
  json_t *failures = json_object_get(resp, "failures");
  json_t *task = json_array_get(json_object_get(resp, "tasks"), 0);
  const char *arn = json_string_value(json_object_get(task, "taskArn"));
  if (json_array_size(failures) > 0 && !arn) {
    json_t *f = json_array_get(failures, 0);
    const char *reason = json_string_value(json_object_get(f, "reason"));
    const char *detail = json_string_value(json_object_get(f, "detail"));
    rc = host->error(err, MN_PROVIDER_E_CAPACITY, "ecs RunTask: %s%s%s",
                     reason ? reason : "failure", detail ? ": " : "", detail ? detail : "");
    goto done;
  }
  if (!arn || strlen(arn) >= sizeof ref_out->identifier) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT, "ecs RunTask: the answer has no task ARN");
    goto done;
  }
  strcpy(ref_out->identifier, arn);
  if (mn_ecs_log_stream(e->conf.log_stream_prefix, arn, ref_out->logs_identifier,
                        sizeof ref_out->logs_identifier) != 0) {
    rc = host->error(err, MN_PROVIDER_E_INVALID, "task ARN \"%s\" gives no log stream", arn);
    goto done;
  }
  host->log(host, MN_HOST_LOG_DEBUG, "execution \"%s\": task %s", spec->execution_id, arn);
  rc = 0;

done:
  json_decref(req);
  json_decref(resp);
  return rc;
}
