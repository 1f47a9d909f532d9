/* taskdef.c — prepare: RegisterTaskDefinition for one deployed function.
 * One container "main" with the function's image, its command (the image's
 * entrypoint is multinode-worker), the Multinode environment that is the
 * same for every execution, awslogs, and the smallest Fargate size that
 * covers the function's vCPUs and memory. The per-execution variables come
 * as container overrides at launch, among them the execution's own API key:
 * a task definition, readable by anyone who may describe it, holds no key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"
#include "fargate_sizes.h"
#include "names.h"
#include "tags.h"

static int env_add(json_t *env, const char *name, const char *value) {
  return json_array_append_new(env, json_pack("{s:s, s:s}", "name", name, "value",
                                              value ? value : ""));
}

/* The environment the daemon built for every execution of f (provider.h,
 * "What runs in the worker"): no key. */
static json_t *container(struct mn_ecs *e, const struct mn_function_desc *f) {
  json_t *env = json_array(), *command = json_array();
  for (size_t i = 0; i < f->n_worker_env; i++)
    env_add(env, f->worker_env[i].key, f->worker_env[i].value);
  for (size_t i = 0; i < f->n_command; i++)
    json_array_append_new(command, json_string(f->command[i]));
  json_t *c = json_pack(
      "{s:s, s:s, s:b, s:o, s:i, s:{s:s, s:{s:s, s:s, s:s}}}", "name", "main", "image", f->image,
      "essential", 1, "environment", env, "stopTimeout", (int)e->conf.stop_timeout, "logConfiguration",
      "logDriver", "awslogs", "options", "awslogs-group", e->conf.log_group, "awslogs-region",
      e->conf.region, "awslogs-stream-prefix", e->conf.log_stream_prefix);
  if (c && f->n_command)
    json_object_set_new(c, "command", command);
  else
    json_decref(command);
  return c;
}

int mn_ecs_prepare(void *state, const struct mn_function_desc *f, struct mn_prepared *prepared_out,
                   struct mn_provider_error *err) {
  struct mn_ecs *e = state;
  const struct mn_host *host = e->host;
  struct mn_ecs_fargate_size size;
  char family[MN_ECS_FAMILY_MAX + 1], cpu[16], memory[16];
  json_t *req = NULL, *resp = NULL;
  int rc;

  prepared_out->details_json[0] = '\0';
  if (!f->image || !f->image[0])
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "function \"%s\" has no image: the ecs provider runs a container image",
                       f->function_name);
  if (!mn_ecs_image_valid(f->image))
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "image \"%s\" is not a valid container image reference (1 to %d of "
                       "letters, digits and - _ : . / @ #)",
                       f->image, MN_ECS_IMAGE_MAX);
  if (mn_ecs_fargate_size(f->vcpus, f->memory_gb, &size) != 0)
    return host->error(err, MN_PROVIDER_E_INVALID,
                       "no Fargate size has %g vCPU and %g GB (at most 16 vCPU and 120 GB)",
                       f->vcpus, f->memory_gb);
  if (mn_ecs_family(host->cluster_id, f->project_name, f->function_name, family, sizeof family))
    return host->error(err, MN_PROVIDER_E_INVALID, "cannot name the task definition family");
  snprintf(cpu, sizeof cpu, "%d", size.cpu);
  snprintf(memory, sizeof memory, "%d", size.memory);

  json_t *tags = json_array();
  mn_ecs_tag_add(tags, MN_ECS_TAG_CLUSTER, host->cluster_id);
  mn_ecs_tag_add(tags, MN_ECS_TAG_PROJECT, f->project_name);
  mn_ecs_tag_add(tags, MN_ECS_TAG_FUNCTION, f->function_name);
  req = json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:[o], s:o}", "family", family,
                  "executionRoleArn", e->conf.execution_role_arn, "networkMode", "awsvpc",
                  "requiresCompatibilities", "FARGATE", "cpu", cpu, "memory", memory,
                  "containerDefinitions", container(e, f), "tags", tags);
  if (!req)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  if (e->conf.task_role_arn)
    json_object_set_new(req, "taskRoleArn", json_string(e->conf.task_role_arn));

  if ((rc = mn_ecs_call(e, MN_ECS_SVC_ECS, "RegisterTaskDefinition", req, &resp, err)) != 0)
    goto done;
  const char *arn = json_string_value(
      json_object_get(json_object_get(resp, "taskDefinition"), "taskDefinitionArn"));
  if (!arn) {
    rc = host->error(err, MN_PROVIDER_E_TRANSIENT,
                     "ecs RegisterTaskDefinition: the answer has no taskDefinitionArn");
    goto done;
  }
  json_t *details = json_pack("{s:s, s:s, s:i, s:i}", "task_definition_arn", arn, "family", family,
                              "cpu", size.cpu, "memory", size.memory);
  char *text = json_dumps(details, JSON_COMPACT);
  json_decref(details);
  if (!text || strlen(text) >= sizeof prepared_out->details_json) {
    free(text);
    rc = host->error(err, MN_PROVIDER_E_INVALID, "task definition ARN \"%s\" is too long", arn);
    goto done;
  }
  strcpy(prepared_out->details_json, text);
  free(text);
  host->log(host, MN_HOST_LOG_INFO, "function \"%s/%s\": task definition %s (%s CPU, %s MiB)",
            f->project_name, f->function_name, arn, cpu, memory);
  rc = 0;

done:
  json_decref(req);
  json_decref(resp);
  return rc;
}
