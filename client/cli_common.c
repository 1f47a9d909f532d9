/* Shared helpers of the CLI commands: connecting, error messages that say
 * what to do next, where project/version/function come from, I/O. */
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "multinode/common/buf.h"
#include "multinode/common/closest.h"
#include "multinode/common/duration.h"
#include "util/json_reals.h"

#define WORKER_RETRY_MS 300000L

const char *cli_env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

void cli_verror(const char *fmt, va_list ap) {
  fprintf(stderr, "error: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
}

int cli_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cli_verror(fmt, ap);
  va_end(ap);
  return CLI_FAIL;
}

int cli_retry_unreachable(struct cli *cli) {
  const char *text = cli_env("MULTINODE_RETRY_SECONDS");
  int64_t ms = WORKER_RETRY_MS;
  if (text && mn_duration_parse_ms(text, &ms) != 0)
    return cli_fail("MULTINODE_RETRY_SECONDS=\"%s\": want a number of seconds", text);
  mn_client_set_retry(cli->client, ms > 0, (long)ms);
  return CLI_OK;
}

int cli_connect(struct cli *cli) {
  struct mn_client_error err;
  if (cli->client)
    return CLI_OK;
  if (mn_client_from_env(&cli->client, &err) < 0)
    return cli_fail("%s", err.detail);
  /* inside a worker a daemon restart must not lose progress or children;
   * MULTINODE_RETRY_SECONDS bounds the retrying (0 turns it off) */
  return cli->in_worker ? cli_retry_unreachable(cli) : CLI_OK;
}

int cli_locate(struct cli *cli, const char *id, struct mn_client_function_ref *fn,
               json_t **hold) {
  struct mn_client_error err;
  int rc;
  *hold = NULL;
  if (cli_get(cli, "--function-name"))
    return (rc = cli_function_ref(cli, cli_get(cli, "--function-name"), fn)) != CLI_OK
               ? rc
               : cli_connect(cli);
  if ((rc = cli_connect(cli)) != CLI_OK)
    return rc;
  if (mn_client_invocation_get_by_id(cli->client, id, hold, &err) < 0)
    return cli_report(cli, &err, "cannot find invocation %s", id);
  fn->project_name = mn_client_json_str(*hold, "project_name");
  fn->version_ref = mn_client_json_str(*hold, "version_id");
  fn->function_name = mn_client_json_str(*hold, "function_name");
  if (!fn->project_name || !fn->version_ref || !fn->function_name)
    return cli_fail("the daemon's answer for invocation %s does not name its function", id);
  return CLI_OK;
}

int cli_status_exit(enum mn_status s) {
  switch (s) {
  case MN_STATUS_FAILED: return CLI_FAIL;
  case MN_STATUS_CANCELLED: return CLI_CANCELLED;
  case MN_STATUS_TIMED_OUT: return CLI_TIMED_OUT;
  default: return CLI_OK;
  }
}

const char *cli_closest(const char *word, const char *const *names, size_t n) {
  return mn_closest_name(word, names, n);
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
       "the id alone is enough (`multinode get ID`); with --function-name, check it and "
       "--version-id (without it, the latest version is used)"},
      {"ExecutionDoesNotExist", "`multinode describe ... --invocation-id ID` lists the executions"},
      {"ProjectIsBeingDeleted", "the project was undeployed; deploy it under another name"},
      {"InvocationIsAlreadyTerminated", "the invocation has already ended"},
  };
  for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
    if (mn_client_error_is(err, hints[i].name))
      return hints[i].hint;
  if (err->http_status == 401 || err->http_status == 403)
    return "the API key was refused: run `multinode logout` and `multinode login`, or set "
           MN_WORKER_ENV_API_KEY;
  if (err->http_status >= 500)
    return "the daemon failed to answer; its log says why";
  return NULL;
}

/* "did you mean": the project or function named in the options that the
 * daemon does not have, against the ones it has. */
static void suggest_name(const struct cli *cli, const struct mn_client_error *err) {
  int project = mn_client_error_is(err, "ProjectDoesNotExist");
  int function = mn_client_error_is(err, "FunctionDoesNotExist");
  const char *word = project ? cli_get(cli, "--project-name")
                             : function ? cli_get(cli, "--function-name") : NULL;
  if (!word && function && cli->cmd && strcmp(cli->cmd->name, "start") == 0 && cli->nargs > 0)
    word = cli->args[0];
  if (!word || !cli->client)
    return;
  json_t *doc = NULL, *item;
  struct mn_client_error ignored;
  size_t i, n = 0;
  int rc = project ? mn_client_projects_list(cli->client, &doc, &ignored)
                   : mn_client_version_get(cli->client, cli_get(cli, "--project-name")
                                                            ? cli_get(cli, "--project-name")
                                                            : cli_env(MN_WORKER_ENV_PROJECT_NAME),
                                           cli_get(cli, "--version-id"), &doc, &ignored);
  const json_t *list = json_object_get(doc, project ? "projects" : "functions");
  const char **names = rc == 0 ? calloc(json_array_size(list) + 1, sizeof *names) : NULL;
  json_array_foreach(list, i, item) if (names) names[n++] =
      mn_client_json_str(item, project ? "project_name" : "function_name");
  const char *near = names ? cli_closest(word, names, n) : NULL;
  if (near)
    fprintf(stderr, "  did you mean \"%s\"?\n", near);
  free(names);
  json_decref(doc);
}

int cli_report(const struct cli *cli, const struct mn_client_error *err, const char *fmt, ...) {
  const char *url = cli->client ? mn_client_api_url(cli->client) : "the API";
  const char *hint = NULL;
  int unreachable = 0;
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
      hint = "check the address in " MN_WORKER_ENV_API_URL " or `multinode login --url URL`";
      unreachable = 1;
    } else if (mn_client_error_unreachable(err)) {
      fprintf(stderr, "error: cannot reach %s: is multinoded running?\n  (%s: %s)\n", url, what,
              err->detail);
      unreachable = 1;
      hint = "start it, or use another address with " MN_WORKER_ENV_API_URL " or "
             "`multinode login --url URL`";
    } else if (err->transport == CURLE_OPERATION_TIMEDOUT) {
      fprintf(stderr, "error: %s: %s did not answer in time (%s)\n", what, url, err->detail);
      hint = "the daemon may be overloaded or stuck; try again";
    } else {
      fprintf(stderr, "error: %s: talking to %s failed: %s\n", what, url, err->detail);
      if (strncmp(url, "https:", 6) == 0 && (err->transport == CURLE_SSL_CONNECT_ERROR ||
                                              err->transport == CURLE_RECV_ERROR))
        hint = "the daemon may speak plain HTTP: try http:// in " MN_WORKER_ENV_API_URL " (or give "
               "the daemon server.tls)";
      else if (strncmp(url, "http:", 5) == 0 && (err->transport == CURLE_GOT_NOTHING ||
                                                  err->transport == CURLE_RECV_ERROR ||
                                                  err->transport == CURLE_WEIRD_SERVER_REPLY))
        hint = "the daemon may speak HTTPS (server.tls): try https:// in " MN_WORKER_ENV_API_URL;
    }
    break;
  case MN_CLIENT_E_HTTP:
    if (err->name[0])
      fprintf(stderr, "error: %s: %s (%s)\n", what, err->detail, err->name);
    else
      fprintf(stderr, "error: %s: HTTP %d: %s\n", what, err->http_status, err->detail);
    hint = hint_for(err);
    if (err->http_status == 404 && !err->name[0])
      hint = "that URL has no Multinode API under it: " MN_WORKER_ENV_API_URL
             " is the daemon's root, e.g. http://127.0.0.1:5000, with no path";
    break;
  case MN_CLIENT_E_PROTOCOL:
    fprintf(stderr, "error: %s: unexpected answer from %s: %s\n", what, url, err->detail);
    hint = "is that URL a Multinode API?";
    break;
  default:
    fprintf(stderr, "error: %s: %s\n", what, err->detail);
  }
  if (err->code == MN_CLIENT_E_HTTP)
    suggest_name(cli, err);
  if (hint)
    fprintf(stderr, "  hint: %s\n", hint);
  return unreachable ? CLI_UNREACHABLE : CLI_FAIL;
}

int cli_function_ref(struct cli *cli, const char *function_name,
                     struct mn_client_function_ref *fn) {
  const char *env_project = cli_env(MN_WORKER_ENV_PROJECT_NAME);
  const char *project = cli_get(cli, "--project-name");
  const char *version = cli_get(cli, "--version-id");

  if (!project)
    project = env_project;
  if (!project || !*project)
    return cli_usage_error(cli, "--project-name is required");
  /* in a worker, the same project means the same version (docs/compatibility.md §4.4) */
  if (!version && env_project && strcmp(project, env_project) == 0)
    version = cli_env(MN_WORKER_ENV_VERSION_ID);
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
  json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(mn_json_real_digits(doc)));
  fputc('\n', stdout);
  fflush(stdout);
}

int cli_text_arg(const char *arg, const char **text, char **owned) {
  *owned = NULL;
  if (strcmp(arg, "-") != 0) {
    *text = arg;
    return CLI_OK;
  }
  struct mn_buf b = {0};
  if (mn_buf_read_fd(&b, STDIN_FILENO, SIZE_MAX) < 0) {
    int why = errno;
    mn_buf_release(&b);
    return why == ENOMEM ? cli_fail("out of memory reading standard input")
                         : cli_fail("cannot read standard input: %s", strerror(why));
  }
  if (!(*owned = mn_buf_take(&b, NULL)))
    return cli_fail("out of memory reading standard input");
  *text = *owned;
  return CLI_OK;
}

const char *cli_time(const json_t *obj, const char *key, int relative, char *buf, size_t size) {
  const json_t *v = json_object_get(obj, key);
  if (!json_is_number(v)) {
    snprintf(buf, size, "-");
    return buf;
  }
  time_t t = (time_t)json_number_value(v);
  if (relative) {
    long long ago = (long long)(time(NULL) - t);
    const char *when = ago < 0 ? "from now" : "ago";
    if (ago < 0)
      ago = -ago;
    if (ago < 60)
      snprintf(buf, size, "%llds %s", ago, when);
    else if (ago < 3600)
      snprintf(buf, size, "%lldm %s", ago / 60, when);
    else if (ago < 86400)
      snprintf(buf, size, "%lldh %s", ago / 3600, when);
    else
      snprintf(buf, size, "%lldd %s", ago / 86400, when);
    return buf;
  }
  struct tm tm;
  char zone[8];
  if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
      strftime(zone, sizeof zone, "%z", &tm) != 5) {
    snprintf(buf, size, "%lld", (long long)t);
    return buf;
  }
  size_t n = strlen(buf); /* +0100 -> +01:00 */
  snprintf(buf + n, size - n, "%.3s:%.2s", zone, zone + 3);
  return buf;
}

void cli_status_text(const json_t *inv, char *buf, size_t size) {
  struct mn_status_info st;
  const char *server = mn_client_json_str(inv, "invocation_status");
  if (json_object_get(inv, "executions") && mn_status_derive(inv, &st, NULL) == 0)
    mn_status_readable(&st, buf, size);
  else if (server && strcmp(server, "TERMINATED") == 0)
    snprintf(buf, size, "ENDED");
  else
    snprintf(buf, size, "%s", json_is_null(json_object_get(inv, "cancellation_request_time")) ||
                                      !json_object_get(inv, "cancellation_request_time")
                                  ? "IN FLIGHT"
                                  : "CANCELLING");
}
