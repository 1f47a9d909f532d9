/* ecs_conf.c — validate providers.ecs (see ecs_conf.h and docs/ecs.md).
 * Every problem names the file, line, column and key. */
#include "ecs_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_keys[] = {
    "region",          "cluster",          "subnets",           "security_groups",
    "assign_public_ip", "task_role_arn",   "execution_role_arn", "log_group",
    "log_stream_prefix", "launch_type",    "capacity_provider_strategy", "platform_version",
    "stop_timeout",    "endpoint",         "logs_endpoint",     "ecr_endpoint",
    "sts_endpoint",    "profile",          "launch_rate",       "launch_burst",
    "request_timeout", "repository",
};

static int is_url(const char *s) {
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

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

static int check_list(const struct mn_cfg_node *config, const struct mn_host *host,
                      const char *key, const char *const *items, size_t n, const char *prefix,
                      struct mn_provider_error *err) {
  for (size_t i = 0; i < n; i++)
    if (strncmp(items[i], prefix, strlen(prefix)) != 0 || !name_ok(items[i], 64, "-"))
      return host->config_error(config, key, err, "\"%s\" is not a %sid", items[i], prefix);
  return 0;
}

int mn_ecs_conf_load(const struct mn_cfg_node *config, const struct mn_host *host,
                     struct mn_ecs_conf *out, struct mn_provider_error *err) {
  const char *const *strategy = NULL;
  size_t n_strategy = 0;
  int64_t v;
  int rc;

  memset(out, 0, sizeof *out);
  out->assign_public_ip = 1;
  out->log_group = "/multinode/workers";
  out->log_stream_prefix = "multinode";
  out->stop_timeout = 120;
  out->launch_rate = 20;
  out->launch_burst = 100;
  out->request_timeout = 30;
  out->region = getenv("AWS_REGION");
  if (!out->region || !*out->region)
    out->region = getenv("AWS_DEFAULT_REGION");

  if ((rc = host->config_check_keys(config, known_keys, sizeof known_keys / sizeof *known_keys,
                                    err)) != 0)
    return rc;
  if ((rc = host->config_string(config, "region", 0, &out->region, err)) ||
      (rc = host->config_string(config, "cluster", 1, &out->cluster, err)) ||
      (rc = host->config_strings(config, "subnets", 1, &out->subnets, &out->n_subnets, err)) ||
      (rc = host->config_strings(config, "security_groups", 0, &out->security_groups,
                                 &out->n_security_groups, err)) ||
      (rc = host->config_bool(config, "assign_public_ip", 0, &out->assign_public_ip, err)) ||
      (rc = host->config_string(config, "task_role_arn", 0, &out->task_role_arn, err)) ||
      (rc = host->config_string(config, "execution_role_arn", 1, &out->execution_role_arn, err)) ||
      (rc = host->config_string(config, "log_group", 0, &out->log_group, err)) ||
      (rc = host->config_string(config, "log_stream_prefix", 0, &out->log_stream_prefix, err)) ||
      (rc = host->config_string(config, "launch_type", 0, &out->launch_type, err)) ||
      (rc = host->config_strings(config, "capacity_provider_strategy", 0, &strategy, &n_strategy,
                                 err)) ||
      (rc = host->config_string(config, "platform_version", 0, &out->platform_version, err)) ||
      (rc = host->config_string(config, "endpoint", 0, &out->endpoint, err)) ||
      (rc = host->config_string(config, "logs_endpoint", 0, &out->logs_endpoint, err)) ||
      (rc = host->config_string(config, "ecr_endpoint", 0, &out->ecr_endpoint, err)) ||
      (rc = host->config_string(config, "sts_endpoint", 0, &out->sts_endpoint, err)) ||
      (rc = host->config_string(config, "profile", 0, &out->profile, err)) ||
      (rc = host->config_string(config, "repository", 0, &out->repository, err)))
    return rc;
  v = out->stop_timeout;
  if ((rc = host->config_duration(config, "stop_timeout", 0, &v, err)))
    return rc;
  if (v < 1 || v > 120)
    return host->config_error(config, "stop_timeout", err,
                              "must be 1 to 120 seconds (Fargate's limit)");
  out->stop_timeout = (int)v;
  v = 20;
  if ((rc = host->config_int(config, "launch_rate", 0, 1, 10000, &v, err)))
    return rc;
  out->launch_rate = (double)v;
  v = out->launch_burst;
  if ((rc = host->config_int(config, "launch_burst", 0, 1, 100000, &v, err)))
    return rc;
  out->launch_burst = (int)v;
  v = out->request_timeout;
  if ((rc = host->config_duration(config, "request_timeout", 0, &v, err)))
    return rc;
  if (v < 1 || v > 600)
    return host->config_error(config, "request_timeout", err, "must be 1 to 600 seconds");
  out->request_timeout = (int)v;

  if (!out->region || !*out->region)
    return host->config_error(config, "region", err,
                              "missing: set it (or AWS_REGION in the daemon's environment)");
  if (!name_ok(out->region, 32, "-"))
    return host->config_error(config, "region", err, "\"%s\" is not an AWS region name",
                              out->region);
  if (!name_ok(out->cluster, 255, "-_:/"))
    return host->config_error(config, "cluster", err,
                              "\"%s\" is not a cluster name or ARN", out->cluster);
  if (out->n_subnets == 0)
    return host->config_error(config, "subnets", err,
                              "at least one subnet is needed (Fargate tasks use awsvpc)");
  if (out->n_subnets > 16)
    return host->config_error(config, "subnets", err, "at most 16 subnets");
  if (out->n_security_groups > 5)
    return host->config_error(config, "security_groups", err, "at most 5 security groups");
  if ((rc = check_list(config, host, "subnets", out->subnets, out->n_subnets, "subnet-", err)) ||
      (rc = check_list(config, host, "security_groups", out->security_groups,
                       out->n_security_groups, "sg-", err)))
    return rc;
  if (strncmp(out->execution_role_arn, "arn:", 4) != 0)
    return host->config_error(config, "execution_role_arn", err, "\"%s\" is not an ARN",
                              out->execution_role_arn);
  if (out->task_role_arn && strncmp(out->task_role_arn, "arn:", 4) != 0)
    return host->config_error(config, "task_role_arn", err, "\"%s\" is not an ARN",
                              out->task_role_arn);
  if (!name_ok(out->log_group, 512, "-_./#"))
    return host->config_error(config, "log_group", err, "\"%s\" is not a log group name",
                              out->log_group);
  if (!name_ok(out->log_stream_prefix, 256, "-_./#") || strchr(out->log_stream_prefix, ':'))
    return host->config_error(config, "log_stream_prefix", err,
                              "\"%s\" is not a log stream prefix", out->log_stream_prefix);
  if (out->launch_type && n_strategy)
    return host->config_error(config, "capacity_provider_strategy", err,
                              "set either launch_type or capacity_provider_strategy, not both");
  if (out->launch_type && strcmp(out->launch_type, "FARGATE") != 0)
    return host->config_error(config, "launch_type", err,
                              "\"%s\": only FARGATE is supported (or a "
                              "capacity_provider_strategy)",
                              out->launch_type);
  if (n_strategy > MN_ECS_STRATEGY_MAX)
    return host->config_error(config, "capacity_provider_strategy", err, "at most %d items",
                              MN_ECS_STRATEGY_MAX);
  int bases = 0;
  for (size_t i = 0; i < n_strategy; i++) {
    if (parse_strategy(strategy[i], &out->strategy[i]) != 0)
      return host->config_error(config, "capacity_provider_strategy", err,
                                "\"%s\" is not NAME[:WEIGHT[:BASE]] (e.g. FARGATE_SPOT:3:0)",
                                strategy[i]);
    bases += out->strategy[i].base > 0;
  }
  if (bases > 1)
    return host->config_error(config, "capacity_provider_strategy", err,
                              "only one capacity provider may have a base");
  out->n_strategy = n_strategy;
  if (!n_strategy && !out->launch_type)
    out->launch_type = "FARGATE";
  const char *urls[] = {"endpoint", "logs_endpoint", "ecr_endpoint", "sts_endpoint"};
  const char *vals[] = {out->endpoint, out->logs_endpoint, out->ecr_endpoint, out->sts_endpoint};
  for (int i = 0; i < 4; i++)
    if (vals[i] && !is_url(vals[i]))
      return host->config_error(config, urls[i], err, "\"%s\" is not an http(s) URL", vals[i]);
  return 0;
}
