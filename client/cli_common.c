/* Shared helpers of the CLI commands: connecting, error messages that say
 * what to do next, where project/version/function come from, I/O. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WORKER_RETRY_MS 300000L

const char *cli_env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

int cli_fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "error: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  return CLI_FAIL;
}

int cli_connect(struct cli *cli) {
  struct mn_client_error err;
  if (mn_client_from_env(&cli->client, &err) < 0)
    return cli_fail("%s", err.detail);
  /* inside a worker a daemon restart must not lose progress or children;
   * MULTINODE_RETRY_SECONDS bounds the retrying (0 turns it off) */
  if (cli->in_worker) {
    const char *text = cli_env("MULTINODE_RETRY_SECONDS");
    long ms = text ? cli_parse_duration_ms(text) : WORKER_RETRY_MS;
    if (ms < 0)
      return cli_fail("MULTINODE_RETRY_SECONDS=\"%s\": want a number of seconds", text);
    mn_client_set_retry(cli->client, ms > 0, ms);
  }
  return CLI_OK;
}

static const char *hint_for(const struct mn_client_error *err) {
  static const struct {
    const char *name;
    const char *hint;
  } hints[] = {
      {"ProjectDoesNotExist", "`multinode list` shows the projects"},
      {"VersionDoesNotExist",
       "`multinode describe --project-name NAME` shows the project's versions"},
      {"FunctionDoesNotExist",
       "`multinode describe --project-name NAME` shows the functions of the latest version"},
      {"InvocationDoesNotExist",
       "check --function-name and --version-id (without it, the latest version is used)"},
      {"ExecutionDoesNotExist", "`multinode describe ... --invocation-id ID` lists the executions"},
      {"ProjectIsBeingDeleted", "the project was undeployed; deploy it under another name"},
      {"InvocationIsAlreadyTerminated", "the invocation has already ended"},
  };
  for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
    if (mn_client_error_is(err, hints[i].name))
      return hints[i].hint;
  if (err->http_status == 401 || err->http_status == 403)
    return "the API key was refused: run `multinode logout` and `multinode login`, or set "
           "MULTINODE_API_KEY";
  if (err->http_status >= 500)
    return "the daemon failed to answer; its log says why";
  return NULL;
}

int cli_report(const struct cli *cli, const struct mn_client_error *err, const char *fmt, ...) {
  const char *url = cli->client ? mn_client_api_url(cli->client) : "the API";
  const char *hint = NULL;
  char what[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);

  switch (err->code) {
  case MN_CLIENT_E_TRANSPORT:
    if (err->transport == CURLE_COULDNT_RESOLVE_HOST) {
      fprintf(stderr, "error: cannot reach %s: its host name does not resolve\n  (%s: %s)\n",
              url, what, err->detail);
      hint = "check the address in MULTINODE_API_URL or `multinode login --url URL`";
    } else if (mn_client_error_unreachable(err)) {
      fprintf(stderr, "error: cannot reach %s: is multinoded running?\n  (%s: %s)\n", url, what,
              err->detail);
      hint = "start it, or use another address with MULTINODE_API_URL or "
             "`multinode login --url URL`";
    } else if (err->transport == CURLE_OPERATION_TIMEDOUT) {
      fprintf(stderr, "error: %s: %s did not answer in time (%s)\n", what, url, err->detail);
      hint = "the daemon may be overloaded or stuck; try again";
    } else {
      fprintf(stderr, "error: %s: talking to %s failed: %s\n", what, url, err->detail);
    }
    break;
  case MN_CLIENT_E_HTTP:
    if (err->name[0])
      fprintf(stderr, "error: %s: %s (%s)\n", what, err->detail, err->name);
    else
      fprintf(stderr, "error: %s: HTTP %d: %s\n", what, err->http_status, err->detail);
    hint = hint_for(err);
    break;
  case MN_CLIENT_E_PROTOCOL:
    fprintf(stderr, "error: %s: unexpected answer from %s: %s\n", what, url, err->detail);
    hint = "is that URL a Multinode API?";
    break;
  default:
    fprintf(stderr, "error: %s: %s\n", what, err->detail);
  }
  if (hint)
    fprintf(stderr, "  hint: %s\n", hint);
  return CLI_FAIL;
}

int cli_function_ref(struct cli *cli, const char *function_name,
                     struct mn_client_function_ref *fn) {
  const char *env_project = cli_env("MULTINODE_PROJECT_NAME");
  const char *project = cli_get(cli, "--project-name");
  const char *version = cli_get(cli, "--version-id");

  if (!project)
    project = env_project;
  if (!project || !*project)
    return cli_usage_error(cli, "--project-name is required");
  /* in a worker, the same project means the same version (docs/compatibility.md §4.4) */
  if (!version && env_project && strcmp(project, env_project) == 0)
    version = cli_env("MULTINODE_VERSION_ID");
  if (!function_name || !*function_name)
    return cli_usage_error(cli, "--function-name is required");
  fn->project_name = project;
  fn->version_ref = version && *version ? version : NULL;
  fn->function_name = function_name;
  return CLI_OK;
}

int cli_invocation_id(struct cli *cli, const char **out) {
  const char *opt = cli_get(cli, "--invocation-id");
  const char *arg = cli->nargs > 0 ? cli->args[0] : NULL;
  if (opt && arg && strcmp(opt, arg) != 0)
    return cli_usage_error(cli, "two different invocation ids given");
  *out = arg ? arg : opt;
  if (!*out || !**out)
    return cli_usage_error(cli, "the invocation id is missing");
  return CLI_OK;
}

void cli_print_json(const json_t *doc) {
  json_dumpf(doc, stdout, JSON_INDENT(2));
  fputc('\n', stdout);
  fflush(stdout);
}

int cli_text_arg(const char *arg, const char **text, char **owned) {
  char *buf = NULL;
  size_t len = 0, cap = 0, n;

  *owned = NULL;
  if (strcmp(arg, "-") != 0) {
    *text = arg;
    return CLI_OK;
  }
  do {
    if (cap - len < 4096) {
      char *grown = realloc(buf, cap = cap * 2 + 8192);
      if (!grown) {
        free(buf);
        return cli_fail("out of memory reading standard input");
      }
      buf = grown;
    }
    n = fread(buf + len, 1, cap - len - 1, stdin);
    len += n;
  } while (n > 0);
  if (ferror(stdin)) {
    free(buf);
    return cli_fail("cannot read standard input: %s", strerror(errno));
  }
  buf[len] = '\0';
  *text = *owned = buf;
  return CLI_OK;
}

long cli_parse_duration_ms(const char *text) {
  static const struct {
    const char *suffix;
    long ms;
  } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  char *end;
  double v;

  errno = 0;
  v = strtod(text, &end);
  if (errno || end == text || v < 0)
    return -1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(end, units[i].suffix) == 0 && v * units[i].ms < 1e15)
      return (long)(v * units[i].ms);
  return -1;
}
