/* multinode watch: a live view of a project's (or one function's)
 * invocations from the project's event stream (docs/events.md).
 *
 * On a terminal the view is a table redrawn on each change: the most recent
 * invocations with their status and latest progress. Otherwise (or with
 * --json) it is a line per change, for logs and scripts. A stream that
 * breaks is opened again after the last event seen (Last-Event-ID), so no
 * change is missed; it runs until interrupted. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define ROWS 200    /* invocations remembered */
#define SHOWN 20    /* rows of the terminal table */
#define RETRY_MS 1000

struct row {
  char *function, *id, *status, *progress;
};

struct view {
  struct row rows[ROWS];
  size_t n;
  bool tty;
  const char *only_function;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void set(char **field, const char *value) {
  if (!value)
    return;
  char *copy = strdup(value);
  if (!copy)
    return;
  free(*field);
  *field = copy;
}

/* The row of an invocation, made (the oldest dropped) when new. */
static struct row *row_of(struct view *v, const char *function, const char *id) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->rows[i].id, id) == 0 && strcmp(v->rows[i].function, function) == 0)
      return &v->rows[i];
  if (v->n == ROWS) {
    free(v->rows[0].function), free(v->rows[0].id), free(v->rows[0].status),
        free(v->rows[0].progress);
    memmove(&v->rows[0], &v->rows[1], (ROWS - 1) * sizeof v->rows[0]);
    v->n--;
  }
  struct row *r = &v->rows[v->n];
  memset(r, 0, sizeof *r);
  r->function = strdup(function);
  r->id = strdup(id);
  if (!r->function || !r->id) {
    free(r->function), free(r->id);
    return NULL;
  }
  v->n++;
  return r;
}

static void first_line(const char *text, char *buf, size_t size) {
  size_t n = strcspn(text, "\r\n");
  snprintf(buf, size, "%.*s", (int)(n < 60 ? n : 60), text);
}

static void draw(const struct view *v, const char *project) {
  printf("\033[H\033[J%s: %zu invocation(s) seen (Ctrl-C to stop)\n\n", project, v->n);
  printf("%-36s  %-20s  %-12s  %s\n", "INVOCATION", "FUNCTION", "STATUS", "PROGRESS");
  size_t from = v->n > SHOWN ? v->n - SHOWN : 0;
  for (size_t i = v->n; i-- > from;) {
    const struct row *r = &v->rows[i];
    char progress[64] = "";
    if (r->progress)
      first_line(r->progress, progress, sizeof progress);
    printf("%-36.36s  %-20.20s  %-12s  %s\n", r->id, r->function,
           r->status ? r->status : "", progress);
  }
  fflush(stdout);
}

/* One event into the view; true when it changed what is shown. */
static bool apply(struct view *v, const struct mn_client_event *ev) {
  const char *function = mn_client_json_str(ev->data, "function_name");
  const char *id = mn_client_json_str(ev->data, "invocation_id");
  if (!function || !id || (v->only_function && strcmp(function, v->only_function) != 0))
    return false;
  bool invocation = strcmp(ev->type, "invocation") == 0;
  bool progress = strcmp(ev->type, "progress") == 0;
  if (!invocation && !progress)
    return false;
  struct row *r = row_of(v, function, id);
  if (!r)
    return false;
  const char *status = invocation ? mn_client_json_str(ev->data, "status") : NULL;
  const char *output = progress ? mn_client_json_str(ev->data, "output") : NULL;
  if (status && r->status && strcmp(status, r->status) == 0)
    return false; /* a change the view does not show */
  set(&r->status, status);
  set(&r->progress, output);
  if (!v->tty) {
    char line[64] = "";
    time_t now = time(NULL);
    char when[16];
    strftime(when, sizeof when, "%H:%M:%S", localtime(&now));
    if (output)
      first_line(output, line, sizeof line);
    printf("%s %s %s %s%s%s\n", when, function, id, r->status ? r->status : "PENDING",
           output ? " - " : "", line);
    fflush(stdout);
  }
  return true;
}

int cli_cmd_watch(struct cli *cli) {
  struct mn_client_function_ref fn;
  struct view v = {.tty = !cli->json && isatty(STDOUT_FILENO) == 1,
                   .only_function = cli_get(cli, "--function-name")};
  struct mn_client_error err;
  char *last_id = NULL;
  int rc;
  if ((rc = cli_function_ref(cli, v.only_function, &fn)) != CLI_OK ||
      (rc = cli_connect(cli)) != CLI_OK)
    return rc;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  struct mn_client_stream *s = NULL;
  if (mn_client_project_events_open(cli->client, fn.project_name, NULL, &s, &err) != 0)
    return cli_report(cli, &err, "cannot watch project %s", fn.project_name);
  if (v.tty)
    draw(&v, fn.project_name);
  while (!stop) {
    struct mn_client_event ev;
    int got = s ? mn_client_events_next(s, 500, &ev, &err) : -1;
    if (got == 1) {
      if (ev.id)
        set(&last_id, ev.id);
      if (cli->json) {
        json_t *doc = json_pack("{s:s?,s:s,s:O?}", "id", ev.id, "event", ev.type, "data", ev.data);
        json_dumpf(doc, stdout, JSON_COMPACT); /* one line per event */
        fputc('\n', stdout);
        json_decref(doc);
        fflush(stdout);
      } else if (apply(&v, &ev) && v.tty) {
        draw(&v, fn.project_name);
      }
      mn_client_event_release(&ev);
      continue;
    }
    if (got == 0)
      continue;
    /* the stream ended or broke: again after the last event seen */
    mn_client_events_close(s);
    s = NULL;
    struct timespec pause = {RETRY_MS / 1000, (RETRY_MS % 1000) * 1000000L};
    nanosleep(&pause, NULL);
    if (mn_client_project_events_open(cli->client, fn.project_name, last_id, &s, &err) != 0 &&
        !mn_client_error_unreachable(&err)) {
      rc = cli_report(cli, &err, "cannot watch project %s", fn.project_name);
      break;
    }
  }
  mn_client_events_close(s);
  for (size_t i = 0; i < v.n; i++)
    free(v.rows[i].function), free(v.rows[i].id), free(v.rows[i].status),
        free(v.rows[i].progress);
  free(last_id);
  return rc;
}
