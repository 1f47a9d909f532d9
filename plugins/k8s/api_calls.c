/* api_calls.c — every Kubernetes API call this provider makes, as RBAC
 * names it (API group, resource, verb). mn_k8s_request refuses a call that
 * is not listed, so the list is complete; the Role of deploy/k8s/rbac.yaml
 * grants exactly these rules (e2e.test_deploy_k8s reads the list between
 * the markers below and compares), so the two cannot drift. */
#include <stdio.h>
#include <string.h>

#include "k8s.h"

struct call {
  const char *group, *resource, *verb;
};

static const struct call calls[] = {
    /* rbac-rules:begin (group, resource, verb) */
    {"batch", "jobs", "create"},         /* one Job per execution */
    {"batch", "jobs", "get"},            /* a repeated launch (409) adopts it; terminate */
    {"batch", "jobs", "list"},           /* status, by label */
    {"batch", "jobs", "delete"},         /* terminate, release */
    {"", "pods", "list"},                /* exit codes and reasons; the pod of the logs; terminate */
    {"", "pods", "patch"},               /* terminate: the active deadline, keeping the log */
    {"", "pods", "deletecollection"},    /* a shorter grace on terminate */
    {"", "pods/log", "get"},             /* the workers' logs */
    {"", "secrets", "create"},           /* each execution's own API key */
    {"", "secrets", "get"},              /* a repeated launch reads it back */
    {"", "secrets", "patch"},            /* and replaces its key */
    {"", "secrets", "delete"},           /* release, terminate */
    /* rbac-rules:end */
};

/* "/api/v1/namespaces/NS/RES[/NAME[/SUB]]" or
 * "/apis/GROUP/VERSION/namespaces/NS/RES[/NAME[/SUB]]" (a query ignored). */
int mn_k8s_call_rule(const char *method, const char *path, char *out, size_t size) {
  char buf[1024], *parts[9] = {0};
  size_t n = 0;
  snprintf(buf, sizeof buf, "%s", path);
  buf[strcspn(buf, "?")] = '\0';
  for (char *save = NULL, *p = strtok_r(buf, "/", &save); p && n < 9;
       p = strtok_r(NULL, "/", &save))
    parts[n++] = p;
  size_t base;
  const char *group;
  if (n >= 1 && strcmp(parts[0], "api") == 0) {
    group = "";
    base = 2; /* api v1 */
  } else if (n >= 3 && strcmp(parts[0], "apis") == 0) {
    group = parts[1];
    base = 3; /* apis GROUP VERSION */
  } else {
    return -1;
  }
  if (n < base + 3 || strcmp(parts[base], "namespaces") != 0 || n > base + 5)
    return -1;
  const char *res = parts[base + 2], *sub = n == base + 5 ? parts[base + 4] : NULL;
  int named = n >= base + 4;
  const char *verb = strcmp(method, "POST") == 0    ? (named ? NULL : "create")
                     : strcmp(method, "GET") == 0    ? (named ? "get" : "list")
                     : strcmp(method, "DELETE") == 0 ? (named ? "delete" : "deletecollection")
                     : strcmp(method, "PATCH") == 0  ? (named ? "patch" : NULL)
                     : strcmp(method, "PUT") == 0    ? (named ? "update" : NULL)
                                                     : NULL;
  if (!verb)
    return -1;
  char resource[256];
  snprintf(resource, sizeof resource, "%s%s%s", res, sub ? "/" : "", sub ? sub : "");
  snprintf(out, size, "%s %s in group \"%s\"", verb, resource, group);
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (strcmp(calls[i].group, group) == 0 && strcmp(calls[i].resource, resource) == 0 &&
        strcmp(calls[i].verb, verb) == 0)
      return 0;
  return 1;
}
