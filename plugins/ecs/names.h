/* names.h — the names the ECS provider gives things, each within the rules
 * ECS sets for it: task definition families, idempotency tokens, the
 * startedBy marker, image references and log stream names. */
#ifndef MN_ECS_NAMES_H
#define MN_ECS_NAMES_H

#include <stddef.h>

#define MN_ECS_FAMILY_MAX 255    /* letters, digits, '-', '_' */
#define MN_ECS_TOKEN_MAX 64      /* ASCII 33..126 */
#define MN_ECS_STARTED_BY_MAX 128 /* letters, digits, '-', '_', '/' */
#define MN_ECS_IMAGE_MAX 255

/* The task definition family of one function of a cluster:
 * "multinode-<project>-<function>-<hash>", where characters ECS does not
 * allow become '-', each name is cut to 100 characters, and <hash> (8 hex
 * digits of SHA-256 over cluster, project and function) keeps distinct
 * functions apart however they were cut. out needs MN_ECS_FAMILY_MAX + 1
 * bytes. Returns 0, or -1 when size is too small. */
int mn_ecs_family(const char *cluster_id, const char *project, const char *function, char *out,
                  size_t size);

/* The RunTask clientToken of an execution: the execution id when it fits
 * the token rules, else the hex SHA-256 of it (64 characters). */
int mn_ecs_client_token(const char *execution_id, char *out, size_t size);

/* The startedBy value of every task of a cluster: "multinode/<cluster_id>",
 * with disallowed characters as '-' and cut to 128 characters. */
int mn_ecs_started_by(const char *cluster_id, char *out, size_t size);

/* 1 when image is a reference ECS accepts (1 to 255 of letters, digits and
 * - _ : . / @ #). */
int mn_ecs_image_valid(const char *image);

/* The awslogs stream of a task: "<prefix>/main/<task id>", where the task id
 * is the last path segment of the task ARN. */
int mn_ecs_log_stream(const char *prefix, const char *task_arn, char *out, size_t size);

#endif
