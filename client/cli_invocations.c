/* multinode start / get / wait / cancel: invocations of one function.
 * Inside a worker, project and version default to the worker's and a
 * started invocation is a child of the current one. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "multinode/common/duration.h"

/* The parent of an invocation started from inside a worker, when the child
 * runs in the worker's own project and version (docs/compatibility.md §4.4). */
static int worker_parent(const struct cli *cli, const struct mn_client_function_ref *fn,
                         struct mn_client_parent *parent) {
  const char *project = cli_env(MN_WORKER_ENV_PROJECT_NAME);
  const char *version = cli_env(MN_WORKER_ENV_VERSION_ID);
  parent->function_name = cli_env(MN_WORKER_ENV_FUNCTION_NAME);
  parent->invocation_id = cli_env(MN_WORKER_ENV_INVOCATION_ID);
  if (cli_flag(cli, "--no-parent") || !parent->function_name || !parent->invocation_id)
    return 0;
  return project && version && strcmp(fn->project_name, project) == 0 && fn->version_ref &&
         strcmp(fn->version_ref, version) == 0;
}

/* --priority, --key, --idempotency-key, --delay (docs/compatibility.md,
 * "Task semantics"). */
static int start_options(const struct cli *cli, struct mn_client_start_options *opt) {
  const char *priority = cli_get(cli, "--priority"), *delay = cli_get(cli, "--delay");
  memset(opt, 0, sizeof *opt);
  if (priority) {
    char *end = NULL;
    long p = strtol(priority, &end, 10);
    if (!*priority || *end || p < -100 || p > 100)
      return cli_usage_error(cli, "--priority: an integer from -100 to 100, not \"%s\"",
                             priority);
    opt->has_priority = 1;
    opt->priority = (int)p;
  }
  if (delay) {
    int64_t ms;
    if (mn_duration_parse_ms(delay, &ms) != 0)
      return cli_usage_error(cli, "--delay: a duration such as 90s, 5m or 1h, not \"%s\"",
                             delay);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    opt->start_at = (double)now.tv_sec + now.tv_nsec / 1e9 + ms / 1000.0;
  }
  opt->concurrency_key = cli_get(cli, "--key");
  opt->idempotency_key = cli_get(cli, "--idempotency-key");
  return CLI_OK;
}

int cli_cmd_start(struct cli *cli) {
  struct mn_client_start_options opt;
  struct mn_client_function_ref fn;
  struct mn_client_parent parent;
  struct mn_client_error err;
  const char *input = "";
  char *owned = NULL;
  json_t *info = NULL;
  int rc;

  if ((rc = cli_function_ref(cli, cli->args[0], &fn)) != CLI_OK)
    return rc;
  if ((rc = start_options(cli, &opt)) != CLI_OK)
    return rc;
  if (cli_get(cli, "--input") && (rc = cli_text_arg(cli_get(cli, "--input"), &input, &owned)))
    return rc;
  if ((rc = cli_connect(cli)) != CLI_OK)
    goto done;
  if (mn_client_invocation_start_with(cli->client, &fn, input,
                                      worker_parent(cli, &fn, &parent) ? &parent : NULL, &opt,
                                      &info, &err) < 0) {
    rc = cli_report(cli, &err, "cannot start \"%s\"", fn.function_name);
    goto done;
  }
  if (cli->json) {
    /* the derived status too: PENDING until an execution starts (the
     * server's invocation_status says RUNNING for anything not ended) */
    struct mn_status_info st;
    if (mn_status_derive(info, &st, NULL) == 0)
      json_object_set_new(info, "status", json_string(mn_status_str(st.status)));
    cli_print_json(info);
  } else {
    printf("%s\n", mn_client_json_str(info, "invocation_id"));
  }
  rc = CLI_OK;
done:
  json_decref(info);
  free(owned);
  return rc;
}

/* What `get` and `wait` show: the derived status and the invocation. */
static void print_status(const struct cli *cli, const char *id, const json_t *info,
                         const struct mn_status_info *st) {
  char readable[128];
  if (cli->json) {
    json_t *doc = json_pack("{s:s, s:s, s:b, s:i, s:s?, s:s?, s:O}", "invocation_id", id,
                            "status", mn_status_str(st->status), "terminated", st->terminated,
                            "num_failed_attempts", st->num_failed_attempts, "result",
                            st->result, "error", st->error, "invocation", info);
    cli_print_json(doc);
    json_decref(doc);
    return;
  }
  mn_status_readable(st, readable, sizeof readable);
  printf("invocation: %s\nstatus: %s\n", id, readable);
  if (st->result)
    printf("result: %s\n", st->result);
  if (st->error)
    printf("error: %s\n", st->error);
}

/* Function, invocation id and a connection: what get/wait/cancel need. The
 * id alone is enough (GET /invocations/{id}); *hold is the caller's. */
static int prepare(struct cli *cli, struct mn_client_function_ref *fn, const char **id,
                   json_t **hold) {
  *hold = NULL;
  int rc = cli_invocation_id(cli, id);
  return rc == CLI_OK ? cli_locate(cli, *id, fn, hold) : rc;
}

int cli_cmd_get(struct cli *cli) {
  struct mn_client_function_ref fn;
  struct mn_client_error err;
  struct mn_status_info st;
  const char *id;
  json_t *info = NULL;
  int rc;

  json_t *hold;
  if ((rc = prepare(cli, &fn, &id, &hold)) != CLI_OK)
    goto done;
  if (mn_client_invocation_get(cli->client, &fn, id, &info, &err) < 0) {
    rc = cli_report(cli, &err, "cannot get invocation %s", id);
    goto done;
  }
  if (mn_status_derive(info, &st, &err) < 0) {
    rc = cli_report(cli, &err, "cannot read invocation %s", id);
  } else {
    print_status(cli, id, info, &st);
    rc = cli_status_exit(st.status);
  }
done:
  json_decref(info);
  json_decref(hold);
  return rc;
}

/* While `wait` waits: the status and the latest progress on standard
 * error; one line redrawn behind a spinner on a terminal, a line per change
 * otherwise. Standard output gets only the result. */
struct wait_view {
  const char *id;
  bool tty;
  unsigned frame;
  bool drawn;
};

static void show_change(void *ctx, const json_t *info, const struct mn_status_info *st) {
  static const char spin[] = "|/-\\";
  struct wait_view *v = ctx;
  char readable[128], progress[96] = "";
  mn_status_readable(st, readable, sizeof readable);
  if (st->result && !mn_status_finished(st->status)) {
    /* one line of progress: its first line, cut to fit */
    size_t n = strcspn(st->result, "\r\n");
    snprintf(progress, sizeof progress, " - %.*s", (int)(n < 80 ? n : 80), st->result);
  }
  if (v->tty) {
    fprintf(stderr, "\r\033[K%c %s: %s%s", spin[v->frame++ % 4], v->id, readable, progress);
    if (mn_status_finished(st->status))
      fputc('\n', stderr);
    v->drawn = !mn_status_finished(st->status);
  } else {
    fprintf(stderr, "%s: %s%s\n", v->id, readable, progress);
  }
  fflush(stderr);
}

int cli_cmd_wait(struct cli *cli) {
  struct mn_client_function_ref fn;
  struct mn_client_error err;
  struct mn_status_info st;
  const char *id;
  const char *timeout_text = cli_get(cli, "--timeout");
  int64_t timeout_ms = -1;
  json_t *info = NULL;
  int rc;

  if (timeout_text && mn_duration_parse_ms(timeout_text, &timeout_ms) != 0)
    return cli_usage_error(cli, "--timeout \"%s\": want a duration such as 90s, 5m or 1h",
                           timeout_text);
  json_t *hold = NULL;
  if ((rc = prepare(cli, &fn, &id, &hold)) != CLI_OK)
    goto done;
  /* reached once without retrying (a daemon that is not there at all is
   * reported at once), then ridden through restarts; a worker retries from
   * the start (cli_connect) and spends no extra request */
  if (!hold && !cli->in_worker &&
      mn_client_invocation_get(cli->client, &fn, id, &hold, &err) < 0) {
    rc = cli_report(cli, &err, "cannot wait for invocation %s", id);
    goto done;
  }
  if ((rc = cli_retry_unreachable(cli)) != CLI_OK)
    goto done;
  struct wait_view view = {.id = id, .tty = isatty(STDERR_FILENO) == 1};
  rc = mn_client_invocation_wait(cli->client, &fn, id, timeout_ms,
                                 cli_flag(cli, "--quiet") ? NULL : show_change, &view, &info,
                                 &st, &err);
  if (view.drawn) /* a timeout or an error left the spinner line open */
    fputc('\n', stderr);
  if (rc == MN_CLIENT_E_TIMEOUT) {
    if (cli->json)
      print_status(cli, id, info, &st);
    cli_fail("gave up waiting after %s: invocation %s is still %s", timeout_text, id,
             mn_status_str(st.status));
    rc = CLI_GAVE_UP;
    goto done;
  }
  if (rc < 0) {
    rc = cli_report(cli, &err, "cannot wait for invocation %s", id);
    goto done;
  }
  if (cli->json)
    print_status(cli, id, info, &st);
  else if (st.status == MN_STATUS_SUCCEEDED && st.result)
    printf("%s\n", st.result);
  if (st.status != MN_STATUS_SUCCEEDED && st.error)
    cli_fail("invocation %s %s: %s", id, mn_status_str(st.status), st.error);
  else if (st.status != MN_STATUS_SUCCEEDED)
    cli_fail("invocation %s %s", id, mn_status_str(st.status));
  rc = cli_status_exit(st.status);
done:
  fflush(stdout);
  json_decref(info);
  json_decref(hold);
  return rc;
}

int cli_cmd_cancel(struct cli *cli) {
  struct mn_client_function_ref fn;
  struct mn_client_error err;
  const char *id;
  json_t *info = NULL;
  int rc;

  json_t *hold;
  if ((rc = prepare(cli, &fn, &id, &hold)) != CLI_OK)
    goto done;
  if (mn_client_invocation_cancel(cli->client, &fn, id, &info, &err) < 0) {
    rc = cli_report(cli, &err, "cannot cancel invocation %s", id);
    goto done;
  }
  if (cli->json)
    cli_print_json(info);
  else
    printf("cancellation of %s requested\n", id);
done:
  json_decref(info);
  json_decref(hold);
  return rc;
}
