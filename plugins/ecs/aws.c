/* aws.c — the ECS provider's AWS calls: its three services and the check
 * that every call is in calls.c's list; the protocol itself (SigV4, JSON,
 * errors, credentials) is the toolkit's (plugins/support/aws/json_call.h). */
#include "calls.h"
#include "ecs.h"

static const struct mn_aws_service services[MN_ECS_SVC_COUNT] = {
    [MN_ECS_SVC_ECS] = {"ecs", "ecs", "AmazonEC2ContainerServiceV20141113", "1.1"},
    [MN_ECS_SVC_LOGS] = {"logs", "logs", "Logs_20140328", "1.1"},
    [MN_ECS_SVC_ECR] = {"ecr", "ecr", "AmazonEC2ContainerRegistry_V20150921", "1.1"},
};

int mn_ecs_call(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                const json_t *request, json_t **response, struct mn_provider_error *err) {
  *response = NULL;
  if (!mn_ecs_call_find(svc, action)) /* calls.c lists every call (and its IAM actions) */
    return e->host->error(err, MN_PROVIDER_E_INVALID, "%s %s: not in the provider's list of calls",
                          services[svc].name, action);
  return mn_aws_json_call(&e->aws, &services[svc], e->urls[svc], action, request, response, err);
}
