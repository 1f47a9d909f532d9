/* The `multinode` command-line tool: shared pieces of its commands.
 *
 * Exit statuses (docs/cli.md): 0 success (for get/wait: the invocation
 * succeeded, or get: still runs), 1 failure (the invocation failed), 2 usage
 * error, 3 cancelled, 4 timed out, 5 gave up waiting (wait --timeout), 6 the
 * daemon is unreachable. Results go to stdout (plain text, or JSON with
 * --json); everything else goes to stderr. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <stdarg.h>

#include "multinode/client.h"
#include "multinode/common/worker_env.h"

enum {
  CLI_OK = 0,
  CLI_FAIL = 1,
  CLI_USAGE = 2,
  CLI_CANCELLED = 3,
  CLI_TIMED_OUT = 4,
  CLI_GAVE_UP = 5,
  CLI_UNREACHABLE = 6
};

#define CLI_MAX_OPTIONS 16
#define CLI_MAX_ARGS 8

/* One option of a command; a NULL metavar makes it a flag. */
struct cli_option {
  const char *name;  /* "--project-name" */
  const char *alias; /* "--function", or NULL */
  const char *metavar;
  const char *help;
};

struct cli;

struct cli_command {
  const char *name;
  const char *args; /* positional arguments for the usage line, or NULL */
  const char *summary;
  const struct cli_option *options; /* ends with an entry whose name is NULL */
  int min_args, max_args;
  int (*run)(struct cli *cli);
};

/* The parsed command line and the state a command runs with. */
struct cli {
  const struct cli_command *cmd;
  const char *values[CLI_MAX_OPTIONS]; /* per option; flags hold "" when set */
  const char *args[CLI_MAX_ARGS];
  int nargs;
  int json;      /* --json given */
  int in_worker; /* MULTINODE_EXECUTION_ID is set: we run inside a worker */
  struct mn_client *client;
};

/* cli_args.c */
int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
const char *cli_get(const struct cli *cli, const char *name); /* option value or NULL */
int cli_flag(const struct cli *cli, const char *name);
void cli_print_usage(const struct cli_command *cmd, int to_stderr);
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_common.c */
const char *cli_env(const char *name); /* NULL when unset or empty */
int cli_connect(struct cli *cli);      /* prints why on failure */
/* Prints "error: <what>: <why>. <what to do next>" and returns CLI_FAIL. */
int cli_report(const struct cli *cli, const struct mn_client_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "error: " and the message with a newline on stderr (cli_fail's and
 * cli_usage_error's first line). */
void cli_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Fills fn from the options (--project-name, --version-id) and the worker
 * environment; function_name comes from the caller. */
int cli_function_ref(struct cli *cli, const char *function_name,
                     struct mn_client_function_ref *fn);
/* The invocation id: the positional argument or --invocation-id. */
int cli_invocation_id(struct cli *cli, const char **out);
/* Fills fn for invocation id: from the options as cli_function_ref when
 * --function-name is given, else from GET /invocations/{id} (*hold keeps
 * the answer the names point into; the caller decrefs). Connects first. */
int cli_locate(struct cli *cli, const char *id, struct mn_client_function_ref *fn,
               json_t **hold);
/* The exit status of a finished (or, for get, running) derived status. */
int cli_status_exit(enum mn_status s);
/* Lets a long wait ride through a daemon restart: unreachable answers are
 * retried for MULTINODE_RETRY_SECONDS (default 300), as workers do. */
int cli_retry_unreachable(struct cli *cli);
/* The closest of names (NULL-terminated) to word, or NULL when none is
 * close (edit distance at most a third of its length, at least 2). */
const char *cli_closest(const char *word, const char *const *names, size_t n);
void cli_print_json(const json_t *doc);
/* obj's KEY (epoch seconds) as local ISO-8601 ("2026-12-01T22:15:03+01:00"),
 * or as time from now ("3m ago") when relative; "-" when absent. */
const char *cli_time(const json_t *obj, const char *key, int relative, char *buf, size_t size);
/* The status an invocation's row shows: derived (with its outcome), or
 * the server's when it has no executions array (list pages). */
void cli_status_text(const json_t *inv, char *buf, size_t size);
/* A text argument: itself, or all of stdin when it is "-" (*owned freed by
 * the caller). */
int cli_text_arg(const char *arg, const char **text, char **owned);

/* The commands. */
int cli_cmd_login(struct cli *cli);
int cli_cmd_logout(struct cli *cli);
int cli_cmd_list(struct cli *cli);
int cli_cmd_describe(struct cli *cli);
int cli_cmd_start(struct cli *cli);
int cli_cmd_heartbeat(struct cli *cli);
int cli_cmd_get(struct cli *cli);
int cli_cmd_wait(struct cli *cli);
int cli_cmd_cancel(struct cli *cli);
int cli_cmd_logs(struct cli *cli);
int cli_cmd_watch(struct cli *cli);
int cli_cmd_invocations(struct cli *cli);
/* cli_table.c: the children of inv (an InvocationInfo) as table rows, or
 * appended to json when not NULL. */
int cli_print_children(struct cli *cli, const json_t *inv, json_t *json);
int cli_cmd_progress(struct cli *cli);
/* cli_deploy.c (a project folder with multinode.yaml); the summaries hold
 * the long help after their first line */
int cli_cmd_deploy(struct cli *cli);
int cli_cmd_upgrade(struct cli *cli);
int cli_cmd_undeploy(struct cli *cli);
extern const char cli_deploy_summary[];
extern const char cli_upgrade_summary[];

#endif
