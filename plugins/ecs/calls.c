/* calls.c — every AWS call of the ECS provider (calls.h). One entry a line,
 * between the BEGIN and END markers: tests/deploy/check_iam.js reads them. */
#include "calls.h"

#include <string.h>

static const struct mn_ecs_call_desc calls[] = {
    /* BEGIN CALLS */
    {MN_ECS_SVC_ECS, "RegisterTaskDefinition", "ecs:RegisterTaskDefinition ecs:TagResource"},
    {MN_ECS_SVC_ECS, "RunTask", "ecs:RunTask ecs:TagResource"},
    {MN_ECS_SVC_ECS, "DescribeTasks", "ecs:DescribeTasks"},
    {MN_ECS_SVC_ECS, "StopTask", "ecs:StopTask"},
    {MN_ECS_SVC_ECS, "ListTasks", "ecs:ListTasks"},
    {MN_ECS_SVC_LOGS, "GetLogEvents", "logs:GetLogEvents"},
    /* the login it answers acts as the daemon: `multinode deploy` pushes with it */
    {MN_ECS_SVC_ECR, "GetAuthorizationToken",
     "ecr:GetAuthorizationToken ecr:BatchCheckLayerAvailability ecr:InitiateLayerUpload "
     "ecr:UploadLayerPart ecr:CompleteLayerUpload ecr:PutImage"},
    /* END CALLS */
};

const struct mn_ecs_call_desc *mn_ecs_call_find(enum mn_ecs_service service, const char *action) {
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (calls[i].service == service && strcmp(calls[i].action, action) == 0)
      return &calls[i];
  return NULL;
}
