/* Server-Sent Events from the daemon (docs/events.md): a stream read one
 * event at a time with a deadline, through libcurl's multi interface so
 * that a caller can wait for "the next event or N ms". */
#include "client_internal.h"

#include "multinode/common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mn_client_stream {
  CURLM *multi;
  CURL *easy;
  struct curl_slist *headers;
  struct mn_buf buf; /* bytes received and not yet parsed */
  int done;  /* the transfer ended */
  CURLcode result;
  char errbuf[CURL_ERROR_SIZE];
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct mn_client_stream *s = userdata;
  size_t n = size * nmemb;
  return mn_buf_append(&s->buf, ptr, n) == 0 ? n : 0; /* 0 aborts the transfer */
}

void mn_client_event_release(struct mn_client_event *ev) {
  free(ev->id);
  free(ev->type);
  json_decref(ev->data);
  memset(ev, 0, sizeof *ev);
}

void mn_client_events_close(struct mn_client_stream *s) {
  if (!s)
    return;
  if (s->multi && s->easy)
    curl_multi_remove_handle(s->multi, s->easy);
  if (s->easy)
    curl_easy_cleanup(s->easy);
  if (s->multi)
    curl_multi_cleanup(s->multi);
  curl_slist_free_all(s->headers);
  mn_buf_release(&s->buf);
  free(s);
}

static long status_of(struct mn_client_stream *s) {
  long status = 0;
  curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

/* Runs the transfer until something arrived, it ended, or timeout_ms. */
static void pump(struct mn_client_stream *s, long timeout_ms) {
  int running = 0;
  curl_multi_perform(s->multi, &running);
  if (running && timeout_ms > 0) {
    curl_multi_poll(s->multi, NULL, 0, (int)timeout_ms, NULL);
    curl_multi_perform(s->multi, &running);
  }
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(s->multi, &left)))
    if (m->msg == CURLMSG_DONE) {
      s->done = 1;
      s->result = m->data.result;
    }
}

int mn_client_events_open(struct mn_client *c, const char *path, const char *last_event_id,
                          struct mn_client_stream **out, struct mn_client_error *err) {
  struct mn_client_stream *s = calloc(1, sizeof *s);
  char *url = NULL;
  int rc = 0;
  *out = NULL;
  mn_client__error_clear(err);
  if (!s || !path || !(url = malloc(strlen(c->api_url) + strlen(path) + 1))) {
    free(s);
    return mn_client__fail(err, path ? MN_CLIENT_E_NOMEM : MN_CLIENT_E_INVAL,
                           path ? "out of memory" : "no path");
  }
  strcpy(url, c->api_url);
  strcat(url, path);
  s->multi = curl_multi_init();
  s->easy = curl_easy_init();
  for (struct curl_slist *h = c->headers; h; h = h->next)
    s->headers = curl_slist_append(s->headers, h->data);
  s->headers = curl_slist_append(s->headers, "Accept: text/event-stream");
  if (last_event_id) {
    char line[96];
    snprintf(line, sizeof line, "Last-Event-ID: %.64s", last_event_id);
    s->headers = curl_slist_append(s->headers, line);
  }
  if (!s->multi || !s->easy || !s->headers) {
    rc = mn_client__fail(err, MN_CLIENT_E_NOMEM, "out of memory");
    goto fail;
  }
  curl_easy_setopt(s->easy, CURLOPT_URL, url);
  curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
  curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "multinode-client/1");
  curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
  curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
  /* a quiet stream still gets a keep-alive comment every 15 s */
  curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(s->easy, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_multi_add_handle(s->multi, s->easy);
  /* until the status is known (or the request failed) */
  long long deadline = mn_client__now_ms() + c->request_timeout_ms;
  while (!s->done && status_of(s) == 0 && mn_client__now_ms() < deadline)
    pump(s, 100);
  long status = status_of(s);
  if (status == 0) {
    rc = mn_client__fail(err, MN_CLIENT_E_TRANSPORT, "GET %s: %s", path,
                         s->errbuf[0] ? s->errbuf : "no answer");
    goto fail;
  }
  if (status != 200) {
    while (!s->done && mn_client__now_ms() < deadline) /* the whole error body */
      pump(s, 100);
    rc = mn_client__http_error(err, status, s->buf.data ? s->buf.data : "", s->buf.len);
    goto fail;
  }
  const char *type = NULL;
  curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &type);
  if (!type || strncmp(type, "text/event-stream", 17) != 0) {
    rc = mn_client__fail(err, MN_CLIENT_E_PROTOCOL, "GET %s: not an event stream (%s)", path,
                         type ? type : "no Content-Type");
    goto fail;
  }
  free(url);
  *out = s;
  return 0;
fail:
  free(url);
  mn_client_events_close(s);
  return rc;
}

/* Takes one whole event (up to a blank line) off the buffer: 1 when one
 * was there, 0 when more bytes are needed. Comments and events without
 * data are skipped. */
static int parse_one(struct mn_client_stream *s, struct mn_client_event *ev) {
  for (;;) {
    char *end = s->buf.data ? strstr(s->buf.data, "\n\n") : NULL;
    if (!end)
      return 0;
    *end = '\0';
    char *line = s->buf.data, *type = NULL, *id = NULL, *data = NULL;
    while (line) {
      char *next = strchr(line, '\n');
      if (next)
        *next++ = '\0';
      char *colon = strchr(line, ':');
      if (colon && colon != line) {
        *colon = '\0';
        char *value = colon[1] == ' ' ? colon + 2 : colon + 1;
        if (strcmp(line, "event") == 0)
          type = value;
        else if (strcmp(line, "id") == 0)
          id = value;
        else if (strcmp(line, "data") == 0)
          data = value;
      }
      line = next;
    }
    int got = 0;
    if (data) {
      ev->type = strdup(type ? type : "message");
      ev->id = id ? strdup(id) : NULL;
      ev->data = json_loads(data, 0, NULL);
      got = 1;
    }
    mn_buf_consume(&s->buf, (size_t)(end + 2 - s->buf.data));
    if (got)
      return 1;
  }
}

int mn_client_events_next(struct mn_client_stream *s, long timeout_ms,
                          struct mn_client_event *ev, struct mn_client_error *err) {
  long long deadline = mn_client__now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
  memset(ev, 0, sizeof *ev);
  mn_client__error_clear(err);
  for (;;) {
    if (parse_one(s, ev))
      return 1;
    if (s->done) {
      if (s->result == CURLE_OK)
        return MN_CLIENT_EVENTS_ENDED;
      return mn_client__fail(err, MN_CLIENT_E_TRANSPORT, "the event stream broke: %s",
                             s->errbuf[0] ? s->errbuf : curl_easy_strerror(s->result));
    }
    long long left = deadline - mn_client__now_ms();
    if (timeout_ms >= 0 && left <= 0)
      return 0;
    pump(s, timeout_ms < 0 ? 1000 : (long)left);
  }
}

int mn_client_invocation_events_open(struct mn_client *c, const struct mn_client_function_ref *fn,
                                     const char *invocation_id, const char *last_event_id,
                                     struct mn_client_stream **out,
                                     struct mn_client_error *err) {
  char *path = mn_client__path(c, MN_CLIENT_FN_PATH "/invocations/%s/events",
                               MN_CLIENT_FN_ARGS(fn), invocation_id);
  int rc = mn_client_events_open(c, path, last_event_id, out, err);
  free(path);
  return rc;
}

int mn_client_project_events_open(struct mn_client *c, const char *project_name,
                                  const char *last_event_id, struct mn_client_stream **out,
                                  struct mn_client_error *err) {
  char *path = mn_client__path(c, "/projects/%s/events", project_name);
  int rc = mn_client_events_open(c, path, last_event_id, out, err);
  free(path);
  return rc;
}
