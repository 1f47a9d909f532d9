/* multinode logs [--follow]: an execution's log, page by page.
 *
 * Offsets are opaque. While following, the page that ended the log is asked
 * for again from its own start offset and the lines already printed from it
 * are skipped, until the execution has ended and a last read finds nothing
 * new. The invocation's event stream (docs/events.md) says when the
 * execution ends and wakes the reader at each of its progress updates; log
 * lines themselves are no events, so between events the log is read again
 * with a backoff. Without a stream (an original server) the execution is
 * polled too. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define FOLLOW_FIRST_DELAY_MS 200
#define FOLLOW_MAX_DELAY_MS 2000

struct follow {
  char *offset; /* start of the page being read; NULL: the beginning */
  size_t seen;  /* lines of that page already printed */
};

/* The execution to show: --execution-id, or the invocation's latest. */
static int pick_execution(struct cli *cli, const struct mn_client_function_ref *fn,
                          const char *invocation_id, char **out) {
  const char *given = cli_get(cli, "--execution-id");
  struct mn_client_error err;
  struct mn_status_info st;
  json_t *info = NULL;
  int rc = CLI_OK;

  *out = NULL;
  if (given) {
    *out = strdup(given);
    return *out ? CLI_OK : cli_fail("out of memory");
  }
  if (mn_client_invocation_get(cli->client, fn, invocation_id, &info, &err) < 0)
    return cli_report(cli, &err, "cannot get invocation %s", invocation_id);
  /* the last created execution is the current attempt */
  json_t *execs = json_object_get(info, "executions");
  const char *id = mn_client_json_str(json_array_get(execs, json_array_size(execs) - 1),
                                      "execution_id");
  if (!id && mn_status_derive(info, &st, NULL) == 0)
    id = st.latest_execution_id;
  if (!id)
    rc = cli_fail("invocation %s has no executions yet: nothing has run, so there is no log",
                  invocation_id);
  else if (!(*out = strdup(id)))
    rc = cli_fail("out of memory");
  json_decref(info);
  return rc;
}

/* Prints the lines after f->seen of one page; 1 when the log may go on in
 * a further page right away, 0 at its current end, < 0 on failure. */
static int read_page(struct cli *cli, const struct mn_client_execution_ref *ex, int max_lines,
                     struct follow *f) {
  struct mn_client_error err;
  json_t *page = NULL;
  json_t *lines;
  size_t i, n;
  int more = 0;

  if (mn_client_execution_logs(cli->client, ex, max_lines, f->offset, &page, &err) < 0)
    return -cli_report(cli, &err, "cannot read the log of execution %s", ex->execution_id);
  lines = json_object_get(page, "log_lines");
  n = json_array_size(lines);
  const char *next = mn_client_json_str(page, "next_offset");
  if (cli->json && n > f->seen) {
    /* one compact object per read, holding only the new lines */
    json_t *fresh = json_array();
    for (i = f->seen; i < n; i++)
      json_array_append(fresh, json_array_get(lines, i));
    json_t *doc = json_pack("{s:s, s:o, s:s?}", "execution_id", ex->execution_id, "log_lines",
                            fresh, "next_offset", next);
    json_dumpf(doc, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(doc);
  }
  for (i = f->seen; i < n && !cli->json; i++) {
    const char *line = json_string_value(json_array_get(lines, i));
    printf("%s\n", line ? line : "");
  }
  fflush(stdout);
  f->seen = n > f->seen ? n : f->seen;

  if (next && (!f->offset || strcmp(next, f->offset) != 0)) {
    char *copy = strdup(next);
    if (copy) {
      free(f->offset);
      f->offset = copy;
      f->seen = 0;
      more = 1;
    }
  }
  json_decref(page);
  return more;
}

static int execution_ended(struct cli *cli, const struct mn_client_execution_ref *ex) {
  struct mn_client_error err;
  json_t *info = NULL;
  int ended;
  if (mn_client_execution_get(cli->client, ex, &info, &err) < 0)
    return -cli_report(cli, &err, "cannot get execution %s", ex->execution_id);
  const char *worker = mn_client_json_str(info, "worker_status");
  ended = worker && strcmp(worker, "TERMINATED") == 0;
  json_decref(info);
  return ended;
}

/* Waits up to delay_ms for the invocation's next event: 1 when it says
 * this execution ended, 0 otherwise (*check set when the stream ended and
 * the execution must be asked about). */
static int wait_event(struct mn_client_stream *s, const char *execution_id, long delay_ms,
                      bool *check) {
  struct mn_client_event ev;
  int got = mn_client_events_next(s, delay_ms, &ev, NULL);
  if (got != 1) {
    *check = got != 0;
    return 0;
  }
  const char *id = mn_client_json_str(ev.data, "execution_id");
  const char *status = mn_client_json_str(ev.data, "execution_status");
  int ended = strcmp(ev.type, "execution") == 0 && id && strcmp(id, execution_id) == 0 &&
              status && strcmp(status, "TERMINATED") == 0;
  mn_client_event_release(&ev);
  return ended;
}

int cli_cmd_logs(struct cli *cli) {
  struct mn_client_function_ref fn;
  struct follow f = {0};
  const char *id;
  const char *max_text = cli_get(cli, "--max-lines");
  char *execution_id = NULL;
  int max_lines = 0;
  long delay = FOLLOW_FIRST_DELAY_MS;
  int rc;

  if (max_text && ((max_lines = atoi(max_text)) <= 0 || max_lines > 100000))
    return cli_usage_error(cli, "--max-lines \"%s\": want a number from 1", max_text);
  json_t *hold = NULL;
  const char *given = cli_get(cli, "--execution-id");
  if (given && !cli_get(cli, "--function-name") && !cli_get(cli, "--invocation-id") &&
      cli->nargs == 0) {
    /* the execution id alone (GET /executions/{id}) */
    struct mn_client_error err;
    if ((rc = cli_connect(cli)) != CLI_OK)
      return rc;
    if (mn_client_execution_get_by_id(cli->client, given, &hold, &err) < 0)
      return cli_report(cli, &err, "cannot find execution %s", given);
    fn.project_name = mn_client_json_str(hold, "project_name");
    fn.version_ref = mn_client_json_str(hold, "version_id");
    fn.function_name = mn_client_json_str(hold, "function_name");
    id = mn_client_json_str(hold, "invocation_id");
    if (!fn.project_name || !fn.version_ref || !fn.function_name || !id) {
      json_decref(hold);
      return cli_fail("the daemon's answer for execution %s does not name its invocation",
                      given);
    }
  } else if ((rc = cli_invocation_id(cli, &id)) != CLI_OK ||
             (rc = cli_locate(cli, id, &fn, &hold)) != CLI_OK) {
    json_decref(hold);
    return rc;
  }
  if ((rc = pick_execution(cli, &fn, id, &execution_id)) != CLI_OK) {
    json_decref(hold);
    return rc;
  }
  struct mn_client_execution_ref ex = {fn.project_name, fn.version_ref, fn.function_name, id,
                                       execution_id};
  struct mn_client_stream *stream = NULL;
  bool check = true; /* ask whether the execution ended (once, then on the stream's word) */
  if (cli_flag(cli, "--follow") &&
      mn_client_invocation_events_open(cli->client, &fn, id, NULL, &stream, NULL) != 0)
    stream = NULL;

  for (;;) {
    int more = read_page(cli, &ex, max_lines, &f);
    if (more < 0) {
      rc = -more;
      break;
    }
    if (more)
      continue;
    if (!cli_flag(cli, "--follow"))
      break;
    int ended = 0;
    if (check || !stream) {
      ended = execution_ended(cli, &ex);
      check = false;
    } else {
      ended = wait_event(stream, execution_id, delay, &check);
      if (check) { /* the stream ended (the invocation did) or broke: ask */
        mn_client_events_close(stream);
        stream = NULL;
        continue;
      }
    }
    if (ended < 0) {
      rc = -ended;
      break;
    }
    if (ended) {
      /* its last lines may have landed after our last read */
      while ((more = read_page(cli, &ex, max_lines, &f)) > 0)
        ;
      rc = more < 0 ? -more : CLI_OK;
      break;
    }
    /* no new lines yet: again after a pause (or the next event) */
    if (!stream) {
      struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
      nanosleep(&ts, NULL);
    }
    delay = delay * 2 > FOLLOW_MAX_DELAY_MS ? FOLLOW_MAX_DELAY_MS : delay * 2;
  }
  mn_client_events_close(stream);
  free(f.offset);
  free(execution_id);
  json_decref(hold);
  return rc;
}
