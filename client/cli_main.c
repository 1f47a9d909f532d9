/* multinode: the command table and the entry point.
 *
 * Each command is one row: its name, arguments, options and handler. A new
 * command (deploy, upgrade, undeploy of a manifest folder) is one more row
 * and one handler in its own cli_<name>.c file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef MN_VERSION_STRING
#define MN_VERSION_STRING "unknown"
#endif

#define OPT_END {NULL, NULL, NULL, NULL}
#define OPT_JSON {"--json", NULL, NULL, "print JSON (for scripts)"}
#define OPT_PROJECT                                                            \
  {"--project-name", NULL, "NAME", "the project (in a worker: $" MN_WORKER_ENV_PROJECT_NAME ")"}
#define OPT_VERSION                                                            \
  {"--version-id", NULL, "ID",                                                 \
   "the version (default: latest; in a worker: $" MN_WORKER_ENV_VERSION_ID ")"}
#define OPT_FUNCTION {"--function-name", "--function", "NAME", "the function"}
#define OPT_INVOCATION                                                         \
  {"--invocation-id", NULL, "ID", "the invocation (or give it as the argument)"}

static int cmd_help(struct cli *cli);

static const struct cli_option no_options[] = {OPT_END};
static const struct cli_option login_options[] = {
    {"--url", NULL, "URL", "the API URL (prompted for when not given)"},
    {"--api-key", NULL, "KEY", "the API key (prompted for, unechoed, when not given)"},
    {"--force", NULL, NULL, "replace the saved URL and key when already logged in"},
    OPT_END};
static const struct cli_option list_options[] = {OPT_JSON, OPT_END};
static const struct cli_option describe_options[] = {
    OPT_PROJECT, OPT_VERSION, OPT_FUNCTION,
    {"--invocation-id", NULL, "ID", "an invocation of the function"},
    OPT_JSON, OPT_END};
static const struct cli_option start_options[] = {
    OPT_PROJECT, OPT_VERSION,
    {"--input", NULL, "TEXT", "the input (\"-\" reads standard input; default: empty)"},
    {"--no-parent", NULL, NULL, "in a worker: do not make the current invocation the parent"},
    {"--priority", NULL, "N", "-100 to 100 (default 0): higher starts first"},
    {"--key", NULL, "KEY", "the concurrency key (max_concurrency_per_key applies)"},
    {"--idempotency-key", NULL, "KEY", "a repeated start returns the first invocation"},
    {"--delay", NULL, "DURATION", "eligible only this long from now (e.g. 90s, 5m)"},
    OPT_JSON, OPT_END};
static const struct cli_option get_options[] = {OPT_PROJECT, OPT_VERSION, OPT_FUNCTION,
                                                OPT_INVOCATION, OPT_JSON, OPT_END};
static const struct cli_option wait_options[] = {
    OPT_PROJECT, OPT_VERSION, OPT_FUNCTION, OPT_INVOCATION,
    {"--timeout", NULL, "DURATION", "give up after this long (e.g. 90s, 5m, 1h)"},
    {"--quiet", NULL, NULL, "do not show status changes on standard error"},
    OPT_JSON, OPT_END};
static const struct cli_option logs_options[] = {
    OPT_PROJECT, OPT_VERSION, OPT_FUNCTION, OPT_INVOCATION,
    {"--execution-id", NULL, "ID", "the execution (default: the latest one)"},
    {"--follow", NULL, NULL, "keep printing new lines until the execution ends"},
    {"--max-lines", NULL, "N", "lines per request (default: the server's)"},
    OPT_JSON, OPT_END};
static const struct cli_option watch_options[] = {
    OPT_PROJECT, {"--function-name", "--function", "NAME", "only this function's invocations"},
    {"--json", NULL, NULL, "print each event as one line of JSON"}, OPT_END};
static const struct cli_option invocations_options[] = {
    OPT_PROJECT, OPT_VERSION,
    {"--function-name", "--function", "NAME", "only this function's (default: every function's)"},
    {"--status", NULL, "STATUS",
     "PENDING, RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED or TIMED_OUT"},
    {"--parent", NULL, "ID", "only the children of this invocation (its project and version)"},
    OPT_JSON, OPT_END};
static const struct cli_option progress_options[] = {OPT_END};
#define OPT_DEPLOY_PROJECT {"--project-name", NULL, "NAME", "the project"}
#define OPT_DRY_RUN                                                            \
  {"--dry-run", NULL, NULL, "check the manifest and print the version definition; send nothing"}
#define OPT_HOST_PATHS                                                         \
  {"--allow-host-paths", NULL, NULL,                                           \
   "the container provider mounts the project folder (e.g. Docker's binds)"}
static const struct cli_option deploy_options[] = {OPT_DEPLOY_PROJECT, OPT_DRY_RUN,
                                                   OPT_HOST_PATHS, OPT_JSON, OPT_END};
static const struct cli_option upgrade_options[] = {
    OPT_DEPLOY_PROJECT, {"--deploy", NULL, NULL, "create the project when it does not exist"},
    OPT_DRY_RUN, OPT_HOST_PATHS, OPT_JSON, OPT_END};
static const struct cli_option undeploy_options[] = {
    OPT_DEPLOY_PROJECT, {"--yes", NULL, NULL, "do not ask for confirmation on a terminal"},
    OPT_JSON, OPT_END};

static const struct cli_command commands[] = {
    {"help", "[COMMAND]", "show the commands, or one command's options", no_options, 0, 1,
     cmd_help},
    {"login", NULL, "check and save the API URL and key in ~/.multinode/config.json",
     login_options, 0, 0, cli_cmd_login},
    {"logout", NULL, "forget the saved API URL and key", no_options, 0, 0, cli_cmd_logout},
    {"list", NULL, "list the projects", list_options, 0, 0, cli_cmd_list},
    {"describe", NULL, "describe a project, a version, a function or an invocation",
     describe_options, 0, 0, cli_cmd_describe},
    {"start", "FUNCTION", "start an invocation and print its id", start_options, 1, 1,
     cli_cmd_start},
    {"get", "[ID]", "show an invocation's status, result and error", get_options, 0, 1,
     cli_cmd_get},
    {"wait", "[ID]", "wait for an invocation and print its result (exit 0 if it succeeded)",
     wait_options, 0, 1, cli_cmd_wait},
    {"cancel", "[ID]", "cancel an invocation", get_options, 0, 1, cli_cmd_cancel},
    {"logs", "[ID]", "print an execution's log", logs_options, 0, 1, cli_cmd_logs},
    {"watch", NULL, "show a project's invocations live (from its event stream)", watch_options,
     0, 0, cli_cmd_watch},
    {"invocations", NULL, "list invocations (table), by status and parent",
     invocations_options, 0, 0, cli_cmd_invocations},
    {"progress", "TEXT", "in a worker: record progress (\"-\" reads standard input)",
     progress_options, 1, 1, cli_cmd_progress},
    {"heartbeat", NULL, "in a worker: tell the control plane the attempt is alive",
     progress_options, 0, 0, cli_cmd_heartbeat},
    {"deploy", "DIR", cli_deploy_summary, deploy_options, 1, 1, cli_cmd_deploy},
    {"upgrade", "DIR", cli_upgrade_summary, upgrade_options, 1, 1, cli_cmd_upgrade},
    {"undeploy", NULL, "mark a project for deletion (its invocations are cancelled)",
     undeploy_options, 0, 0, cli_cmd_undeploy},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct cli_command *find(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static int unknown_command(const char *name) {
  const char *names[N_COMMANDS];
  for (size_t i = 0; i < N_COMMANDS; i++)
    names[i] = commands[i].name;
  const char *near = cli_closest(name, names, N_COMMANDS);
  fprintf(stderr, "error: unknown command \"%s\"", name);
  if (near)
    fprintf(stderr, ": did you mean `multinode %s`?", near);
  fprintf(stderr, "\n  hint: `multinode help` lists the commands\n");
  return CLI_USAGE;
}

static void list_commands(FILE *f) {
  fprintf(f, "usage: multinode COMMAND [OPTIONS] [ARGS]\n       multinode --version\n\ncommands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-12s %.*s\n", commands[i].name, (int)strcspn(commands[i].summary, "\n"),
            commands[i].summary); /* the first line: the rest is the long help */
  fprintf(f, "\nRun `multinode help COMMAND` for a command's options.\n"
             "The API URL and key come from " MN_WORKER_ENV_API_URL
             " and " MN_WORKER_ENV_API_KEY ",\n"
             "or from ~/.multinode/config.json (written by `multinode login`).\n"
             "Inside a worker (" MN_WORKER_ENV_EXECUTION_ID " set), project and version default\n"
             "to the worker's, `start` makes the current invocation the parent, and an\n"
             "unreachable daemon is retried for MULTINODE_RETRY_SECONDS (default 300),\n"
             "and so is it while `wait` waits.\n"
             "\nExit statuses: 0 succeeded (get: or still running), 1 failed or another\n"
             "error, 2 usage error, 3 cancelled, 4 timed out, 5 gave up waiting\n"
             "(wait --timeout), 6 the daemon is unreachable.\n");
}

static int cmd_help(struct cli *cli) {
  const struct cli_command *cmd;
  if (cli->nargs == 0) {
    list_commands(stdout);
    return CLI_OK;
  }
  cmd = find(cli->args[0]);
  if (!cmd)
    return unknown_command(cli->args[0]);
  cli_print_usage(cmd, 0);
  return CLI_OK;
}

int main(int argc, char **argv) {
  struct cli cli;
  const struct cli_command *cmd;
  int rc;

  if (argc < 2) {
    list_commands(stderr);
    return CLI_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
    return cmd_help(&(struct cli){0});
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("multinode %s\n", MN_VERSION_STRING);
    return CLI_OK;
  }
  cmd = find(argv[1]);
  if (!cmd)
    return unknown_command(argv[1]);
  rc = cli_parse(&cli, cmd, argc - 2, argv + 2);
  if (rc != CLI_OK)
    return rc < 0 ? CLI_OK : rc; /* < 0: --help was shown */
  rc = cmd->run(&cli);
  mn_client_free(cli.client);
  return rc;
}
