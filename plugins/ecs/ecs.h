/* ecs.h — the ECS/Fargate provider's state, shared by its files (never
 * installed; the daemon sees only include/multinode/provider.h).
 *
 * Each execution is one Fargate task (RunTask, idempotent by clientToken),
 * of a task definition registered per deployed function (prepare). The
 * worker ref is {identifier: task ARN, logs_identifier: awslogs stream}. */
#ifndef MN_ECS_ECS_H
#define MN_ECS_ECS_H

#include <jansson.h>
#include <pthread.h>

#include <multinode/provider.h>

#include "aws/json_call.h"
#include "ecs_conf.h"
#include "token_bucket.h"

enum mn_ecs_service {
  MN_ECS_SVC_ECS = 0, /* AmazonEC2ContainerServiceV20141113 */
  MN_ECS_SVC_LOGS,    /* Logs_20140328 */
  MN_ECS_SVC_ECR,     /* AmazonEC2ContainerRegistry_V20150921 */
  MN_ECS_SVC_COUNT,
};

struct mn_ecs {
  const struct mn_host *host;
  struct mn_ecs_conf conf;
  struct mn_aws_client aws; /* credentials and connections of every AWS call (aws.c) */
  struct mn_ecs_bucket launches;
  char urls[MN_ECS_SVC_COUNT][512];
  char started_by[160];
};

/* aws.c: one AWS JSON 1.1 call, signed with SigV4 (mn_aws_json_call of
 * the toolkit). Throttling, 5xx and network errors are TRANSIENT, retried by
 * the daemon. On success *response is the decoded body (the caller frees
 * it). err->msg reads "ecs RunTask: ClientException: ...". */
int mn_ecs_call(struct mn_ecs *e, enum mn_ecs_service svc, const char *action,
                const json_t *request, json_t **response, struct mn_provider_error *err);

/* provider operations, one file each */
int mn_ecs_prepare(void *state, const struct mn_function_desc *function,
                   struct mn_prepared *prepared_out, struct mn_provider_error *err);
int mn_ecs_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                  struct mn_provider_error *err);
int mn_ecs_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                        struct mn_worker_state *states_out, struct mn_provider_error *err);
int mn_ecs_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                      struct mn_provider_error *err);
int mn_ecs_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                     struct mn_provider_error *err);
int mn_ecs_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                struct mn_log_page *page, struct mn_provider_error *err);

/* ecr.c: GET /container_repository_credentials from ECR GetAuthorizationToken. */
int mn_ecs_registry_credentials(void *state, struct mn_registry_credentials *out,
                                struct mn_provider_error *err);

/* inspect.c: the worker state of one DescribeTasks task object. */
void mn_ecs_task_state(const json_t *task, struct mn_worker_state *out);

#endif
