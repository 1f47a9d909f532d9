/* multinode list / describe: projects, versions, functions, invocations. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DESCRIBE_COUNT_MAX 50 /* invocations counted per function ("50+") */
#define DESCRIBE_LIST_MAX 10  /* invocations listed for one function */

static long long int_or(const json_t *obj, const char *key, long long fallback) {
  long long v = fallback;
  mn_client_json_int(obj, key, &v);
  return v;
}

static const char *str_or(const json_t *obj, const char *key, const char *fallback) {
  const char *v = mn_client_json_str(obj, key);
  return v ? v : fallback;
}

int cli_cmd_list(struct cli *cli) {
  struct mn_client_error err;
  json_t *list = NULL;
  int rc = cli_connect(cli);

  if (rc != CLI_OK)
    return rc;
  if (mn_client_projects_list(cli->client, &list, &err) < 0)
    return cli_report(cli, &err, "cannot list the projects");
  json_t *projects = json_object_get(list, "projects");
  if (cli->json) {
    cli_print_json(list);
  } else if (json_array_size(projects) == 0) {
    printf("no projects yet\n");
  } else {
    size_t i;
    json_t *p;
    printf("%-40s %-12s %s\n", "PROJECT", "CREATED", "STATE");
    json_array_foreach(projects, i, p) {
      int deleting = json_object_get(p, "deletion_request_time") &&
                     !json_is_null(json_object_get(p, "deletion_request_time"));
      char when[40];
      printf("%-40s %-12s %s\n", str_or(p, "project_name", "?"),
             cli_time(p, "creation_time", 1, when, sizeof when),
             deleting ? "marked for deletion" : "active");
    }
  }
  json_decref(list);
  return CLI_OK;
}

static void print_function(const json_t *f, const json_t *invocations, const char *indent) {
  const json_t *res = json_object_get(f, "resource_spec");
  const json_t *exe = json_object_get(f, "execution_spec");
  json_t *cpus = json_object_get(res, "virtual_cpus");
  json_t *mem = json_object_get(res, "memory_gbs");
  const json_t *items = json_object_get(invocations, "invocations");
  const char *more = mn_client_json_str(invocations, "next_offset") ? "+" : "";

  const json_t *command = json_object_get(f, "command");
  printf("%s%s:\n", indent, str_or(f, "function_name", "?"));
  if (json_array_size(command) > 0) { /* a command function: what it runs */
    size_t k;
    json_t *word;
    printf("%s\tcommand:", indent);
    json_array_foreach(command, k, word) {
      const char *w = json_string_value(word);
      printf(w && strpbrk(w, " \t\"'") ? " '%s'" : " %s", w ? w : "?");
    }
    printf("\n");
    if (mn_client_json_str(f, "provider"))
      printf("%s\tprovider: %s\n", indent, mn_client_json_str(f, "provider"));
  } else {
    printf("%s\tdocker image: %s\n", indent, str_or(f, "docker_image", "-"));
  }
  printf("%s\tstatus: %s\n", indent, str_or(f, "function_status", "?"));
  printf("%s\tcpus: %g\n", indent, json_number_value(cpus));
  printf("%s\tmemory: %g GiB\n", indent, json_number_value(mem));
  printf("%s\tmax concurrency: %lld\n", indent, int_or(res, "max_concurrency", 0));
  printf("%s\tmax retries: %lld\n", indent, int_or(exe, "max_retries", 0));
  printf("%s\ttimeout: %llds\n", indent, int_or(exe, "timeout_seconds", 0));
  printf("%s\ttotal invocations: %zu%s\n", indent, json_array_size(items), more);
}

static void print_invocation_line(const json_t *inv, const char *indent) {
  const json_t *parent = json_object_get(inv, "parent_invocation");
  char readable[128], when[40];

  cli_status_text(inv, readable, sizeof readable);
  printf("%s%s (%s):\n", indent, str_or(inv, "invocation_id", "?"), readable);
  printf("%s\tcreation time: %s\n", indent,
         cli_time(inv, "creation_time", 0, when, sizeof when));
  if (json_is_object(parent))
    printf("%s\tparent invocation: %s (%s)\n", indent, str_or(parent, "invocation_id", "?"),
           str_or(parent, "function_name", "?"));
}

static void print_execution(const json_t *e) {
  static const char *const times[][2] = {{"creation_time", "creation time"},
                                         {"execution_start_time", "execution start time"},
                                         {"execution_finish_time", "execution finish time"},
                                         {"termination_signal_time", "termination signal time"}};
  printf("\t%s:\n\t\tstatus: %s\n", str_or(e, "execution_id", "?"),
         str_or(e, "worker_status", "?"));
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    char when[40];
    if (json_is_number(json_object_get(e, times[i][0])))
      printf("\t\t%s: %s\n", times[i][1], cli_time(e, times[i][0], 0, when, sizeof when));
  }
  if (mn_client_json_str(e, "outcome"))
    printf("\t\toutcome: %s\n", mn_client_json_str(e, "outcome"));
  if (mn_client_json_str(e, "error_message"))
    printf("\t\terror message: %s\n", mn_client_json_str(e, "error_message"));
}

/* A function's details, or its invocations page, as one JSON or text. */
static int describe_function(struct cli *cli, const char *project, const json_t *version,
                             const json_t *function, int detailed, json_t *out_json) {
  struct mn_client_function_ref fn = {project, mn_client_json_str(version, "version_id"),
                                      mn_client_json_str(function, "function_name")};
  struct mn_client_list_options opt = {.max_results = DESCRIBE_COUNT_MAX};
  struct mn_client_error err;
  json_t *page = NULL;

  if (mn_client_invocations_list(cli->client, &fn, &opt, &page, &err) < 0)
    return cli_report(cli, &err, "cannot list the invocations of \"%s\"", fn.function_name);
  if (out_json) {
    json_t *entry = json_deep_copy(function);
    json_object_set(entry, "invocations", json_object_get(page, "invocations"));
    json_object_set(entry, "invocations_next_offset", json_object_get(page, "next_offset"));
    json_array_append_new(out_json, entry);
  } else {
    print_function(function, page, detailed ? "" : "\t");
    if (detailed) {
      const json_t *items = json_object_get(page, "invocations");
      printf("%s invocations:\n", fn.function_name);
      if (json_array_size(items) == 0)
        printf("\t%s has no invocations so far\n", fn.function_name);
      for (size_t i = 0; i < json_array_size(items) && i < DESCRIBE_LIST_MAX; i++)
        print_invocation_line(json_array_get(items, i), "\t");
    }
  }
  json_decref(page);
  return CLI_OK;
}

static int describe_invocation(struct cli *cli, const char *project, const json_t *version,
                               const char *function, const char *invocation_id) {
  struct mn_client_function_ref fn = {project, mn_client_json_str(version, "version_id"),
                                      function};
  struct mn_client_error err;
  json_t *inv = NULL;

  if (mn_client_invocation_get(cli->client, &fn, invocation_id, &inv, &err) < 0)
    return cli_report(cli, &err, "cannot get invocation %s of \"%s\"", invocation_id, function);
  int rc;
  if (cli->json) {
    json_t *children = json_array();
    if ((rc = cli_print_children(cli, inv, children)) == CLI_OK) {
      json_object_set_new(inv, "children", children);
      cli_print_json(inv);
    } else {
      json_decref(children);
    }
  } else {
    size_t i;
    json_t *e;
    print_invocation_line(inv, "");
    json_array_foreach(json_object_get(inv, "executions"), i, e) print_execution(e);
    rc = cli_print_children(cli, inv, NULL);
  }
  json_decref(inv);
  return rc;
}

static const json_t *find_function(const json_t *version, const char *name) {
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(version, "functions"), i, f) {
    const char *n = mn_client_json_str(f, "function_name");
    if (n && strcmp(n, name) == 0)
      return f;
  }
  return NULL;
}

static int describe_version(struct cli *cli, const char *project, const json_t *pinfo,
                            const json_t *version, int latest) {
  const char *vid = str_or(version, "version_id", "?");
  json_t *doc = cli->json ? json_pack("{s:O, s:O, s:[]}", "project", pinfo, "version", version,
                                      "functions")
                          : NULL;
  json_t *functions = doc ? json_object_get(doc, "functions") : NULL;
  size_t i;
  json_t *f;
  int rc = CLI_OK;

  if (!doc) {
    char when[40];
    printf("%s%s details:\n\tcreation time: %s\n\n", vid, latest ? " (latest)" : "",
           cli_time(version, "creation_time", 0, when, sizeof when));
    printf("%s%s functions:\n", vid, latest ? " (latest)" : "");
  }
  json_array_foreach(json_object_get(version, "functions"), i, f) {
    rc = describe_function(cli, project, version, f, 0, functions);
    if (rc != CLI_OK)
      break;
  }
  if (doc && rc == CLI_OK)
    cli_print_json(doc);
  json_decref(doc);
  return rc;
}

static int describe_project(struct cli *cli, const char *project, const json_t *pinfo) {
  struct mn_client_error err;
  json_t *versions = NULL;
  size_t i;
  json_t *v;

  if (mn_client_versions_list(cli->client, project, &versions, &err) < 0)
    return cli_report(cli, &err, "cannot list the versions of \"%s\"", project);
  printf("%s details:\n", project);
  json_t *deletion = json_object_get(pinfo, "deletion_request_time");
  if (deletion && !json_is_null(deletion))
    printf("\tTHE PROJECT HAS BEEN MARKED FOR DELETION\n");
  char when[40];
  printf("\tcreation time: %s\n\n%s versions:\n",
         cli_time(pinfo, "creation_time", 0, when, sizeof when), project);
  json_array_foreach(json_object_get(versions, "versions"), i, v)
      printf("\t%s\n", str_or(v, "version_id", "?"));
  printf("\n");
  json_decref(versions);
  return CLI_OK;
}

int cli_cmd_describe(struct cli *cli) {
  const char *project = cli_get(cli, "--project-name");
  const char *version_id = cli_get(cli, "--version-id");
  const char *function = cli_get(cli, "--function-name");
  const char *invocation = cli_get(cli, "--invocation-id");
  struct mn_client_error err;
  json_t *pinfo = NULL, *version = NULL;
  const json_t *f;
  int rc;

  json_t *hold = NULL;
  if (!project && !invocation)
    return cli_usage_error(cli, "--project-name (or --invocation-id) is required");
  rc = cli_connect(cli);
  if (rc != CLI_OK)
    return rc;
  if (invocation && !function) { /* the id alone (GET /invocations/{id}) */
    if (mn_client_invocation_get_by_id(cli->client, invocation, &hold, &err) < 0)
      return cli_report(cli, &err, "cannot find invocation %s", invocation);
    project = mn_client_json_str(hold, "project_name");
    version_id = mn_client_json_str(hold, "version_id");
    function = mn_client_json_str(hold, "function_name");
    if (!project || !version_id || !function) {
      json_decref(hold);
      return cli_fail("the daemon's answer for invocation %s does not name its function",
                      invocation);
    }
  }
  if (mn_client_project_get(cli->client, project, &pinfo, &err) < 0) {
    rc = cli_report(cli, &err, "cannot describe project \"%s\"", project);
    goto done;
  }
  if (mn_client_version_get(cli->client, project, version_id, &version, &err) < 0) {
    rc = cli_report(cli, &err, "cannot get version \"%s\" of project \"%s\"",
                    version_id ? version_id : "latest", project);
    goto done;
  }

  if (!function) {
    if (!version_id && !cli->json)
      rc = describe_project(cli, project, pinfo);
    if (rc == CLI_OK)
      rc = describe_version(cli, project, pinfo, version, !version_id);
    goto done;
  }
  if (!version_id && !cli->json)
    printf("no --version-id given: showing %s (latest)\n\n", str_or(version, "version_id", "?"));
  f = find_function(version, function);
  if (!f) {
    rc = cli_fail("function \"%s\" does not exist in version %s of project \"%s\"\n"
                  "  hint: `multinode describe --project-name %s` lists the functions",
                  function, str_or(version, "version_id", "?"), project, project);
    goto done;
  }
  if (invocation) {
    rc = describe_invocation(cli, project, version, function, invocation);
  } else if (cli->json) {
    json_t *arr = json_array();
    rc = describe_function(cli, project, version, f, 1, arr);
    if (rc == CLI_OK)
      cli_print_json(json_array_get(arr, 0));
    json_decref(arr);
  } else {
    rc = describe_function(cli, project, version, f, 1, NULL);
  }
done:
  json_decref(pinfo);
  json_decref(version);
  json_decref(hold);
  return rc;
}
