/* tags.h — ECS resource tags (key <= 128, value <= 256 characters of
 * letters, digits, spaces and _ . : / = + - @). */
#ifndef MN_ECS_TAGS_H
#define MN_ECS_TAGS_H

#include <jansson.h>

#define MN_ECS_TAG_CLUSTER "multinode:cluster-id"
#define MN_ECS_TAG_EXECUTION "multinode:execution-id"
#define MN_ECS_TAG_INVOCATION "multinode:invocation-id"
#define MN_ECS_TAG_PROJECT "multinode:project"
#define MN_ECS_TAG_FUNCTION "multinode:function"

/* Appends {key, value} to the array tags, the value cut and with other
 * characters replaced by '_'. Returns 0 or -1 (out of memory). */
int mn_ecs_tag_add(json_t *tags, const char *key, const char *value);

/* The value of tag key in a task's "tags" array, or NULL. */
const char *mn_ecs_tag_get(const json_t *tags, const char *key);

#endif
