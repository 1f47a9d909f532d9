/* calls.h — the one list of AWS calls the ECS provider makes, with the IAM
 * actions each needs. mn_ecs_call refuses an action missing from it, and
 * the IAM policy of deploy/aws/multinode.yaml is tested against it
 * (tests/deploy/, docs/ecs.md), so the policy and the code can't drift. */
#ifndef MN_ECS_CALLS_H
#define MN_ECS_CALLS_H

#include "ecs.h"

struct mn_ecs_call_desc {
  enum mn_ecs_service service;
  const char *action; /* the X-Amz-Target operation */
  const char *iam;    /* the IAM actions it needs, space-separated */
};

/* The entry of SERVICE's ACTION, or NULL when the provider does not make
 * that call. */
const struct mn_ecs_call_desc *mn_ecs_call_find(enum mn_ecs_service service, const char *action);

#endif
