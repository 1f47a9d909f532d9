/* logs.c — a worker's log from pods/{name}/log?timestamps=true. The offset
 * is "<seconds>.<nanoseconds>+<n>": the timestamp of the last line served
 * and how many lines carrying exactly that timestamp were served. The next
 * call asks for sinceTime=<seconds> (the API's resolution) and skips every
 * line up to and including that position. */
#define _GNU_SOURCE /* timegm */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s.h"

struct pos {
  int64_t sec;
  long nsec;
  long count;
};

static int parse_offset(const char *s, struct pos *p) {
  memset(p, 0, sizeof *p);
  if (!s || !s[0])
    return 0;
  char *end;
  long long sec = strtoll(s, &end, 10);
  if (end == s || *end != '.' || sec < 0)
    return -1;
  const char *ns = end + 1;
  long nsec = strtol(ns, &end, 10);
  if (end - ns != 9 || *end != '+' || nsec < 0)
    return -1;
  const char *cs = end + 1;
  long count = strtol(cs, &end, 10);
  if (end == cs || *end || count < 0)
    return -1;
  p->sec = sec;
  p->nsec = nsec;
  p->count = count;
  return 0;
}

/* "2024-01-02T03:04:05.123456789Z" (fraction optional, 1-9 digits). */
static int parse_ts(const char *s, size_t len, int64_t *sec, long *nsec) {
  char buf[64];
  struct tm tm = {0};
  if (len >= sizeof buf)
    return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest)
    return -1;
  long ns = 0;
  if (*rest == '.') {
    int digits = 0;
    for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
      if (digits < 9)
        ns = ns * 10 + (*rest - '0');
    for (; digits < 9; digits++)
      ns *= 10;
  }
  if (strcmp(rest, "Z") != 0)
    return -1;
  *sec = (int64_t)timegm(&tm);
  *nsec = ns;
  return 0;
}

int mn_k8s_job_pods(struct mn_k8s *k, const char *ns, const char *job,
                    struct mn_k8s_response *r, struct mn_provider_error *err) {
  char sel[128], q[512], path[1024], what[160];
  snprintf(sel, sizeof sel, "job-name=%s", job);
  if (mn_k8s_selector_query(sel, q, sizeof q))
    return k->host->error(err, MN_PROVIDER_E_INVALID, "bad label selector");
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?%s", ns, q);
  snprintf(what, sizeof what, "list the pods of job \"%s\"", job);
  int rc = mn_k8s_request(k, "GET", path, NULL, r, err);
  if (rc)
    return rc;
  if (r->status != 200)
    rc = mn_k8s_fail(k, r, what, err);
  else if (!json_is_array(json_object_get(r->json, "items")))
    rc = k->host->error(err, MN_PROVIDER_E_TRANSIENT, "%s: the answer has no items", what);
  if (rc)
    mn_k8s_response_release(r);
  return rc;
}

/* The name of the newest pod of job. */
static int find_pod(struct mn_k8s *k, const char *ns, const char *job, char *out, size_t size,
                    struct mn_provider_error *err) {
  struct mn_k8s_response r;
  int rc = mn_k8s_job_pods(k, ns, job, &r, err);
  if (rc)
    return rc;
  json_t *items = json_object_get(r.json, "items"), *p;
  const char *best = NULL, *best_t = "";
  size_t i;
  json_array_foreach(items, i, p) {
    json_t *meta = json_object_get(p, "metadata");
    const char *n = json_string_value(json_object_get(meta, "name"));
    const char *t = json_string_value(json_object_get(meta, "creationTimestamp"));
    if (n && (!best || (t && strcmp(t, best_t) > 0))) {
      best = n;
      best_t = t ? t : "";
    }
  }
  if (best)
    snprintf(out, size, "%s", best);
  else
    rc = k->host->error(err, MN_PROVIDER_E_NOT_FOUND,
                        "no log for job \"%s\": it has no pod (any more)", job);
  mn_k8s_response_release(&r);
  return rc;
}

int mn_k8s_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                struct mn_log_page *page, struct mn_provider_error *err) {
  struct mn_k8s *k = state;
  char ns[256], job[64], pod[256], path[1024], what[300];
  struct pos at;
  struct mn_k8s_response r;
  page->next_offset[0] = '\0';
  if (mn_k8s_ref_split(ref, ns, job))
    return k->host->error(err, MN_PROVIDER_E_NOT_FOUND, "no log for worker \"%s\"",
                          ref->identifier);
  if (parse_offset(offset, &at))
    return k->host->error(err, MN_PROVIDER_E_INVALID, "log offset \"%s\" was not issued here",
                          offset);
  int rc = find_pod(k, ns, job, pod, sizeof pod, err);
  if (rc)
    return rc;
  int n = snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/log?container=main&timestamps=true",
                   ns, pod);
  if (offset && offset[0]) {
    time_t t = (time_t)at.sec;
    struct tm tm;
    char iso[32];
    gmtime_r(&t, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(path + n, sizeof path - (size_t)n, "&sinceTime=%s", iso);
  }
  snprintf(what, sizeof what, "read the log of pod \"%s\"", pod);
  if ((rc = mn_k8s_request(k, "GET", path, NULL, &r, err)))
    return rc;
  if (r.status == 400) { /* the container has not started: no lines yet */
    snprintf(page->next_offset, sizeof page->next_offset, "%s", offset ? offset : "");
    mn_k8s_response_release(&r);
    return 0;
  }
  if (r.status != 200) {
    rc = mn_k8s_fail(k, &r, what, err);
    mn_k8s_response_release(&r);
    return rc;
  }
  struct pos last = at;
  int added = 0;
  long seen_at = 0;
  char *line = r.text, *end = r.text + r.len;
  while (line < end && added < max_lines) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    char *stop = nl ? nl : end;
    char *sp = memchr(line, ' ', (size_t)(stop - line));
    int64_t sec;
    long nsec;
    if (!sp || parse_ts(line, (size_t)(sp - line), &sec, &nsec)) {
      line = nl ? nl + 1 : end; /* not a timestamped line */
      continue;
    }
    int cmp = sec != at.sec ? (sec < at.sec ? -1 : 1) : (nsec != at.nsec ? (nsec < at.nsec ? -1 : 1) : 0);
    if (cmp < 0 || (cmp == 0 && ++seen_at <= at.count)) {
      line = nl ? nl + 1 : end; /* served earlier (sinceTime has whole seconds) */
      continue;
    }
    if (page->add_line(page, sp + 1, (size_t)(stop - sp - 1)))
      break;
    added++;
    if (sec == last.sec && nsec == last.nsec) {
      last.count++;
    } else {
      last.sec = sec;
      last.nsec = nsec;
      last.count = 1;
    }
    line = nl ? nl + 1 : end;
  }
  if (added || (offset && offset[0]))
    snprintf(page->next_offset, sizeof page->next_offset, "%" PRId64 ".%09ld+%ld", last.sec,
             last.nsec, last.count);
  mn_k8s_response_release(&r);
  return 0;
}
