/* ecs_conf.h — the ECS provider's configuration section (providers.ecs),
 * declared by mn_ecs_conf_keys and read once at init. Strings point into the daemon's configuration
 * and stay valid until shutdown. */
#ifndef MN_ECS_ECS_CONF_H
#define MN_ECS_ECS_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <multinode/provider.h>

struct mn_ecs_strategy {
  char provider[256]; /* capacity provider name */
  int weight;
  int base;
};

#define MN_ECS_STRATEGY_MAX 6 /* RunTask accepts at most 6 items */

struct mn_ecs_conf {
  const char *region;
  const char *cluster;
  const char *const *subnets;
  size_t n_subnets;
  const char *const *security_groups;
  size_t n_security_groups;
  int assign_public_ip;
  const char *task_role_arn;      /* NULL: none */
  const char *execution_role_arn; /* pulls the image and writes the log */
  const char *log_group;
  const char *log_stream_prefix;
  const char *launch_type; /* NULL when a capacity provider strategy is set */
  struct mn_ecs_strategy strategy[MN_ECS_STRATEGY_MAX];
  size_t n_strategy;
  const char *platform_version; /* NULL: LATEST */
  int64_t stop_timeout;         /* seconds, 1..120: the container's stopTimeout */
  const char *endpoint;         /* NULL: https://ecs.<region>.amazonaws.com */
  const char *logs_endpoint;
  const char *ecr_endpoint;
  const char *sts_endpoint;
  const char *profile;
  const char *repository; /* ECR repository URL images are pushed to; NULL: none */
  int64_t launch_rate; /* RunTask calls per second */
  int64_t launch_burst;
  int64_t request_timeout; /* seconds per HTTP request */
  const char *const *strategy_items; /* capacity_provider_strategy as written */
  size_t n_strategy_items;
};

/* The keys of providers.ecs (ecs_conf.c; docs/ecs.md's table is printed
 * from it). */
extern const struct mn_config_key mn_ecs_conf_keys[];

/* Reads the section (the daemon has checked it against the table) and
 * checks what spans keys. */
int mn_ecs_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                     struct mn_ecs_conf *out, struct mn_provider_error *err);

#endif
