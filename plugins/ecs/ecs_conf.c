/* ecs_conf.c — providers.ecs: its keys, declared once (provider.h,
 * "Declarative configuration"; docs/ecs.md's table is printed from them),
 * and the checks that span keys. Every problem names the file, line,
 * column and key. */
#include "ecs_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AT(T, field) MN_CONFIG_AT(struct mn_ecs_conf, T, field)
#define LIST_AT(field, count) MN_CONFIG_LIST_AT(struct mn_ecs_conf, field, count)

static int name_ok(const char *s, size_t max, const char *extra) {
  size_t n = strlen(s);
  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          strchr(extra, c)))
      return 0;
  }
  return 1;
}

/* "NAME[:WEIGHT[:BASE]]" */
static int parse_strategy(const char *item, struct mn_ecs_strategy *out) {
  char copy[300];
  if (strlen(item) >= sizeof copy)
    return -1;
  strcpy(copy, item);
  char *w = strchr(copy, ':'), *b = NULL, *end;
  out->weight = 1;
  out->base = 0;
  if (w) {
    *w++ = '\0';
    if ((b = strchr(w, ':')))
      *b++ = '\0';
    long v = strtol(w, &end, 10);
    if (!*w || *end || v < 0 || v > 1000)
      return -1;
    out->weight = (int)v;
    if (b) {
      v = strtol(b, &end, 10);
      if (!*b || *end || v < 0 || v > 100000)
        return -1;
      out->base = (int)v;
    }
  }
  if (!name_ok(copy, 255, "-_"))
    return -1;
  strcpy(out->provider, copy);
  return 0;
}

#define WHY(...) (snprintf(why, size, __VA_ARGS__), -1)

static int subnet_check(const char *s, char *why, size_t size) {
  return strncmp(s, "subnet-", 7) == 0 && name_ok(s, 64, "-") ? 0 : WHY("is not a subnet-id");
}
static int sg_check(const char *s, char *why, size_t size) {
  return strncmp(s, "sg-", 3) == 0 && name_ok(s, 64, "-") ? 0 : WHY("is not a sg-id");
}
static int cluster_check(const char *s, char *why, size_t size) {
  return name_ok(s, 255, "-_:/") ? 0 : WHY("is not a cluster name or ARN");
}
static int arn_check(const char *s, char *why, size_t size) {
  return strncmp(s, "arn:", 4) == 0 ? 0 : WHY("is not an ARN");
}
static int log_group_check(const char *s, char *why, size_t size) {
  return name_ok(s, 512, "-_./#") ? 0 : WHY("is not a log group name");
}
static int stream_prefix_check(const char *s, char *why, size_t size) {
  return name_ok(s, 256, "-_./#") ? 0 : WHY("is not a log stream prefix");
}
static int url_check(const char *s, char *why, size_t size) {
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0
             ? 0
             : WHY("is not an http(s) URL");
}
static int strategy_check(const char *s, char *why, size_t size) {
  struct mn_ecs_strategy st;
  return parse_strategy(s, &st) == 0 ? 0
                                     : WHY("is not NAME[:WEIGHT[:BASE]] (e.g. FARGATE_SPOT:3:0)");
}

static const char *const launch_types[] = {"FARGATE", NULL};

const struct mn_config_key mn_ecs_conf_keys[] = {
    {.name = "region", AT(STRING, region),
     .doc = "The AWS region; default `$AWS_REGION` (or `$AWS_DEFAULT_REGION`); one of them is "
            "required."},
    {.name = "cluster", AT(STRING, cluster), .flags = MN_CONFIG_REQUIRED, .check = cluster_check, .doc = "The ECS cluster's name or ARN."},
    {.name = "subnets", LIST_AT(subnets, n_subnets), .flags = MN_CONFIG_REQUIRED, .min = 1,
     .max = 16, .check = subnet_check,
     .doc = "`subnet-…` ids for the tasks' network interfaces (Fargate tasks use awsvpc)."},
    {.name = "security_groups", LIST_AT(security_groups, n_security_groups), .max = 5,
     .check = sg_check, .doc = "`sg-…` ids."},
    {.name = "assign_public_ip", AT(BOOL, assign_public_ip), .def = "true",
     .doc = "`false` in private subnets (then they need a NAT gateway or VPC endpoints for ECR, "
            "CloudWatch Logs and the daemon's URL)."},
    {.name = "execution_role_arn", AT(STRING, execution_role_arn), .flags = MN_CONFIG_REQUIRED, .check = arn_check,
     .doc = "The task execution role (pulls the image, writes the log)."},
    {.name = "task_role_arn", AT(STRING, task_role_arn),
     .check = arn_check, .doc = "The role the worker's code runs as."},
    {.name = "log_group", AT(STRING, log_group), .def = "/multinode/workers", .check = log_group_check,
     .doc = "CloudWatch log group of the workers."},
    {.name = "log_stream_prefix", AT(STRING, log_stream_prefix), .def = "multinode", .check = stream_prefix_check,
     .doc = "awslogs stream prefix."},
    {.name = "launch_type", AT(ENUM, launch_type), .allowed = launch_types,
     .doc = "Default `FARGATE` when there is no `capacity_provider_strategy`, which it "
            "excludes."},
    {.name = "capacity_provider_strategy", LIST_AT(strategy_items, n_strategy_items),
     .max = MN_ECS_STRATEGY_MAX, .check = strategy_check,
     .doc = "Items `NAME[:WEIGHT[:BASE]]`, e.g. `[FARGATE_SPOT:3, FARGATE:1:1]`; one base at "
            "most."},
    {.name = "platform_version", AT(STRING, platform_version),
     .doc = "Fargate platform version; default `LATEST`."},
    {.name = "stop_timeout", AT(DURATION, stop_timeout), .def = "120", .min = 1, .max = 120,
     .doc = "The container's `stopTimeout` (Fargate's limit is 2m): set it to "
            "`scheduler.termination_grace_seconds`, since ECS takes the grace from the task "
            "definition, not from StopTask."},
    {.name = "launch_rate", AT(INT, launch_rate), .def = "20", .min = 1, .max = 10000, .doc = "RunTask calls per second."},
    {.name = "launch_burst", AT(INT, launch_burst), .def = "100", .min = 1, .max = 100000, .doc = "RunTask burst."},
    {.name = "request_timeout", AT(DURATION, request_timeout), .def = "30", .min = 1,
     .max = 600, .doc = "Longest one HTTP request may take."},
    {.name = "endpoint", AT(STRING, endpoint),
     .check = url_check,
     .doc = "Overrides `https://ecs.<region>.amazonaws.com` (a VPC endpoint, the simulator)."},
    {.name = "logs_endpoint", AT(STRING, logs_endpoint),
     .check = url_check, .doc = "Overrides the regional CloudWatch Logs endpoint."},
    {.name = "ecr_endpoint", AT(STRING, ecr_endpoint),
     .check = url_check, .doc = "Overrides the regional ECR endpoint."},
    {.name = "sts_endpoint", AT(STRING, sts_endpoint),
     .check = url_check, .doc = "Overrides the regional STS endpoint (web identity)."},
    {.name = "profile", AT(STRING, profile),
     .doc = "The shared config profile; default `$AWS_PROFILE`, else `default`."},
    {.name = "repository", AT(STRING, repository),
     .doc = "The ECR repository URL images are pushed to "
            "(`123456789012.dkr.ecr.eu-west-2.amazonaws.com/multinode`); `GET "
            "/container_repository_credentials` answers it with a login from ECR "
            "`GetAuthorizationToken`."},
    {0},
};

int mn_ecs_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                     struct mn_ecs_conf *out, struct mn_provider_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  out->region = getenv("AWS_REGION");
  if (!out->region || !*out->region)
    out->region = getenv("AWS_DEFAULT_REGION");
  if (!MN_HOST_HAS(host, config_load) || !host->config_load)
    return host->error(err, MN_PROVIDER_E_INVALID, "the daemon is too old (ABI 1.2 needed)");
  if ((rc = host->config_load(config, mn_ecs_conf_keys, out, err)))
    return rc;

  /* the region may come from the environment: checked here, not by the table */
  if (!out->region || !*out->region)
    return host->config_error(config, "region", err,
                              "missing: set it (or AWS_REGION in the daemon's environment)");
  if (!name_ok(out->region, 32, "-"))
    return host->config_error(config, "region", err, "\"%s\" is not an AWS region name",
                              out->region);
  if (out->launch_type && out->n_strategy_items)
    return host->config_error(config, "capacity_provider_strategy", err,
                              "set either launch_type or capacity_provider_strategy, not both");
  int bases = 0;
  for (size_t i = 0; i < out->n_strategy_items; i++) {
    parse_strategy(out->strategy_items[i], &out->strategy[i]); /* checked by the table */
    bases += out->strategy[i].base > 0;
  }
  if (bases > 1)
    return host->config_error(config, "capacity_provider_strategy", err,
                              "only one capacity provider may have a base");
  out->n_strategy = out->n_strategy_items;
  if (!out->n_strategy && !out->launch_type)
    out->launch_type = "FARGATE";
  return 0;
}
