/* Command-line parsing driven by each command's option table: "--name
 * VALUE", "--name=VALUE", flags, positional arguments, "--" and --help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int find_option(const struct cli_command *cmd, const char *name, size_t len) {
  for (int i = 0; cmd->options[i].name; i++) {
    const struct cli_option *o = &cmd->options[i];
    if ((strlen(o->name) == len && strncmp(o->name, name, len) == 0) ||
        (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0))
      return i;
  }
  return -1;
}

static int take_option(struct cli *cli, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  const char *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  int idx = find_option(cli->cmd, arg, len);
  const struct cli_option *o;

  if (idx < 0) {
    const char *names[2 * CLI_MAX_OPTIONS];
    size_t n = 0;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), arg);
    for (int k = 0; cli->cmd->options[k].name && n + 2 <= 2 * CLI_MAX_OPTIONS; k++) {
      names[n++] = cli->cmd->options[k].name;
      names[n++] = cli->cmd->options[k].alias;
    }
    const char *near = cli_closest(word, names, n);
    if (near)
      return cli_usage_error(cli, "unknown option \"%s\": did you mean %s?", word, near);
    return cli_usage_error(cli, "unknown option \"%s\"", word);
  }
  o = &cli->cmd->options[idx];
  if (!o->metavar) {
    if (eq)
      return cli_usage_error(cli, "%s takes no value", o->name);
    cli->values[idx] = "";
    return CLI_OK;
  }
  if (eq) {
    cli->values[idx] = eq + 1;
  } else if (*i + 1 < argc) {
    cli->values[idx] = argv[++*i];
  } else {
    return cli_usage_error(cli, "%s needs a value (%s)", o->name, o->metavar);
  }
  return CLI_OK;
}

int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv) {
  int only_args = 0;

  memset(cli, 0, sizeof *cli);
  cli->cmd = cmd;
  cli->in_worker = cli_env(MN_WORKER_ENV_EXECUTION_ID) != NULL;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (!only_args && strcmp(arg, "--") == 0) {
      only_args = 1;
    } else if (!only_args && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
      cli_print_usage(cmd, 0);
      return -1;
    } else if (!only_args && arg[0] == '-' && arg[1] != '\0') {
      int rc = take_option(cli, argc, argv, &i);
      if (rc != CLI_OK)
        return rc;
    } else if (cli->nargs >= cmd->max_args || cli->nargs >= CLI_MAX_ARGS) {
      return cli_usage_error(cli, "unexpected argument \"%s\"", arg);
    } else {
      cli->args[cli->nargs++] = arg;
    }
  }
  if (cli->nargs < cmd->min_args)
    return cli_usage_error(cli, "%s is missing", cmd->args ? cmd->args : "an argument");
  cli->json = cli_flag(cli, "--json");
  return CLI_OK;
}

const char *cli_get(const struct cli *cli, const char *name) {
  int idx = find_option(cli->cmd, name, strlen(name));
  return idx < 0 ? NULL : cli->values[idx];
}

int cli_flag(const struct cli *cli, const char *name) {
  return cli_get(cli, name) != NULL;
}

void cli_print_usage(const struct cli_command *cmd, int to_stderr) {
  FILE *f = to_stderr ? stderr : stdout;
  fprintf(f, "usage: multinode %s%s%s%s\n", cmd->name, cmd->options[0].name ? " [OPTIONS]" : "",
          cmd->args ? " " : "", cmd->args ? cmd->args : "");
  if (to_stderr)
    return;
  fprintf(f, "\n%s\n", cmd->summary);
  if (!cmd->options[0].name)
    return;
  fprintf(f, "\noptions:\n");
  for (int i = 0; cmd->options[i].name; i++) {
    const struct cli_option *o = &cmd->options[i];
    char left[64];
    snprintf(left, sizeof left, "%s%s%s%s%s", o->name, o->alias ? ", " : "",
             o->alias ? o->alias : "", o->metavar ? " " : "", o->metavar ? o->metavar : "");
    fprintf(f, "  %-28s %s\n", left, o->help);
  }
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cli_verror(fmt, ap);
  va_end(ap);
  cli_print_usage(cli->cmd, 1);
  fprintf(stderr, "run `multinode help %s` for the options\n", cli->cmd->name);
  return CLI_USAGE;
}
