#include "multinode/common/config_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multinode/common/yaml_tree.h"

static void add(struct mn_cfg_report *rep, int line, int col, const char *text) {
  size_t n = strlen(text);
  while (n && text[n - 1] == '\n')
    n--;
  rep->count++;
  if (rep->n_lines == rep->cap) {
    size_t cap = rep->cap ? rep->cap * 2 : 8;
    struct mn_cfg_report_line *p = realloc(rep->lines, cap * sizeof *p);
    if (!p) {
      rep->oom = 1;
      return;
    }
    rep->lines = p;
    rep->cap = cap;
  }
  char *copy = strndup(text, n);
  if (!copy) {
    rep->oom = 1;
    return;
  }
  rep->lines[rep->n_lines++] = (struct mn_cfg_report_line){line, col, copy};
}

void mn_cfg_report_add_at(struct mn_cfg_report *rep, int line, int col, const char *text) {
  add(rep, line, col, text);
}

void mn_cfg_report_add_line(struct mn_cfg_report *rep, const char *line) {
  add(rep, 0, 0, line);
}

void mn_cfg_report_add_text(struct mn_cfg_report *rep, const char *file, const char *text) {
  size_t flen = strlen(file);
  while (*text) {
    size_t n = strcspn(text, "\n");
    char *one = strndup(text, n);
    int line = 0, col = 0, used = 0;
    if (!one) {
      rep->oom = 1;
      return;
    }
    if (strncmp(one, file, flen) == 0 &&
        sscanf(one + flen, ":%d:%d: %n", &line, &col, &used) == 2 && used > 0)
      add(rep, line, col, one);
    else if (one[0])
      add(rep, 0, 0, one);
    free(one);
    text += n + (text[n] == '\n');
  }
}

void mn_cfg_report_add(struct mn_cfg_report *rep, const struct mn_cfg_node *at,
                       const char *path, const char *fmt, ...) {
  char problem[400], line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  if (!path)
    path = at && at->path[0] ? at->path : "(root)";
  if (at)
    snprintf(line, sizeof line, "%s:%d:%d: %s: %s", at->file, at->line, at->col, path, problem);
  else
    snprintf(line, sizeof line, "%s: %s", path, problem);
  add(rep, at ? at->line : 0, at ? at->col : 0, line);
}

/* Insertion sort: stable, and reports are short. */
static void sort_lines(struct mn_cfg_report *rep) {
  for (size_t i = 1; i < rep->n_lines; i++) {
    struct mn_cfg_report_line cur = rep->lines[i];
    size_t j = i;
    while (j > 0 && (rep->lines[j - 1].line > cur.line ||
                     (rep->lines[j - 1].line == cur.line && rep->lines[j - 1].col > cur.col))) {
      rep->lines[j] = rep->lines[j - 1];
      j--;
    }
    rep->lines[j] = cur;
  }
}

void mn_cfg_report_format(struct mn_cfg_report *rep, char *msg, size_t msgsize) {
  size_t used = 0, shown = 0;
  if (!msgsize)
    return;
  msg[0] = '\0';
  sort_lines(rep);
  for (; shown < rep->n_lines; shown++) {
    size_t n = strlen(rep->lines[shown].text);
    /* keep room for the "(and N more errors)" line unless this is the last */
    size_t reserve = shown + 1 < rep->n_lines ? 40 : 0;
    if (used + (used ? 1 : 0) + n + reserve + 1 > msgsize)
      break;
    if (used)
      msg[used++] = '\n';
    memcpy(msg + used, rep->lines[shown].text, n + 1);
    used += n;
  }
  if (shown < (size_t)rep->count) {
    char tail[64];
    int more = rep->count - (int)shown;
    snprintf(tail, sizeof tail, "%s(and %d more error%s)", used ? "\n" : "", more,
             more == 1 ? "" : "s");
    if (used + strlen(tail) + 1 <= msgsize)
      memcpy(msg + used, tail, strlen(tail) + 1);
  }
}

int mn_cfg_report_finish(struct mn_cfg_report *rep, struct mn_error *err) {
  if (rep->oom)
    return mn_fail(err, MN_ENOMEM, "out of memory while checking the configuration");
  if (!rep->count)
    return 0;
  if (err) {
    err->code = MN_ECONFIG;
    mn_cfg_report_format(rep, err->msg, sizeof err->msg);
  }
  return MN_ECONFIG;
}

char *mn_cfg_report_text(struct mn_cfg_report *rep) {
  size_t total = 1;
  if (!rep->n_lines)
    return NULL;
  sort_lines(rep);
  for (size_t i = 0; i < rep->n_lines; i++)
    total += strlen(rep->lines[i].text) + 1;
  char *out = malloc(total), *p = out;
  if (!out)
    return NULL;
  for (size_t i = 0; i < rep->n_lines; i++) {
    size_t n = strlen(rep->lines[i].text);
    if (i)
      *p++ = '\n';
    memcpy(p, rep->lines[i].text, n);
    p += n;
  }
  *p = '\0';
  return out;
}

char **mn_cfg_report_take(struct mn_cfg_report *rep, size_t *n) {
  char **out = calloc(rep->n_lines + 2, sizeof *out);
  *n = 0;
  if (!out)
    return NULL;
  sort_lines(rep);
  for (size_t i = 0; i < rep->n_lines; i++)
    out[i] = rep->lines[i].text;
  *n = rep->n_lines;
  free(rep->lines);
  memset(rep, 0, sizeof *rep);
  return out;
}

void mn_cfg_report_release(struct mn_cfg_report *rep) {
  for (size_t i = 0; i < rep->n_lines; i++)
    free(rep->lines[i].text);
  free(rep->lines);
  memset(rep, 0, sizeof *rep);
}
