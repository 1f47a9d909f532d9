/* The report of a run: outcome, final output, error message. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <jansson.h>

#include "multinode/common/limits.h"
#include "multinode/common/utf8.h"

static int failed(struct mn_report *o, char *message) {
  o->outcome = "FAILED";
  o->final_output = NULL;
  o->error_message = message;
  return message ? 0 : -1;
}

static int failed_text(struct mn_report *o, const char *text) {
  return failed(o, strdup(text));
}

/* the API refuses MN_ERROR_MESSAGE_LENGTH_LIMIT characters or more */
#define ERROR_CHARS_MAX (MN_ERROR_MESSAGE_LENGTH_LIMIT - 1)

/* A heap copy of the first ERROR_CHARS_MAX characters of valid UTF-8 s. */
static char *first_chars(const char *s) {
  return strndup(s, mn_utf8_prefix(s, strlen(s), ERROR_CHARS_MAX));
}

/* The error_message the command reported on its report pipe (run.h), or
 * NULL: absent, not a JSON object, or not a non-empty string. */
static char *reported_error(const struct mn_run_result *r) {
  json_t *doc, *msg;
  char *text = NULL;
  if (!r->report)
    return NULL;
  doc = json_loadb(r->report, r->report_len, JSON_DISABLE_EOF_CHECK, NULL);
  msg = json_object_get(doc, "error_message");
  if (json_is_string(msg) && json_string_length(msg) > 0)
    text = first_chars(json_string_value(msg));
  json_decref(doc);
  return text;
}

/* FAILED with what the command reported, else the stderr tail, else the
 * exit status. */
static int failed_status(struct mn_report *o, const struct mn_run_result *r) {
  char *reported = reported_error(r);
  if (reported)
    return failed(o, reported);
  char *tail = mn_tail_text(&r->err_tail);
  char msg[64];
  if (!tail)
    return failed(o, NULL);
  if (tail[0] != '\0')
    return failed(o, tail);
  free(tail);
  if (WIFSIGNALED(r->status))
    snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(r->status));
  else
    snprintf(msg, sizeof msg, "exited with code %d", WEXITSTATUS(r->status));
  return failed_text(o, msg);
}

int mn_report_decide(struct mn_run_result *r, const char *argv0, struct mn_report *out) {
  char msg[256];
  const char *text;
  size_t chars;
  memset(out, 0, sizeof *out);
  if (r->spawn_errno != 0) {
    snprintf(msg, sizeof msg, "cannot run \"%s\": %s", argv0, strerror(r->spawn_errno));
    return failed_text(out, msg);
  }
  if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0) {
    if (mn_output_final(&r->out, &text, &chars, msg, sizeof msg) < 0)
      return failed_text(out, msg);
    out->outcome = r->term_signals ? "ABORTED" : "SUCCEEDED";
    out->final_output = chars > 0 ? text : NULL;
    return 0;
  }
  if (r->oom_killed)
    return failed_text(out, "out of memory: the command was killed at its memory limit "
                            "(signal 9)");
  if (r->term_signals && WIFSIGNALED(r->status) && WTERMSIG(r->status) < 32 &&
      (r->term_signals & (1u << WTERMSIG(r->status)))) {
    out->outcome = "ABORTED";
    return 0;
  }
  return failed_status(out, r);
}

void mn_report_release(struct mn_report *o) {
  free(o->error_message);
  o->error_message = NULL;
}
