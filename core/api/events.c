/* Event streams and waits, and the fan-out that feeds them (api/events.h). */
#include "api/events_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/codec.h"
#include "api/derived_status.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"

#define DEFAULT_MAX_STREAMS 1000
#define DEFAULT_BUFFER_BYTES ((size_t)1 << 20)
#define DEFAULT_KEEPALIVE_MS 15000
#define DEFAULT_RETENTION_S 3600
/* a stream with data queued that the client has not taken for this long is
 * dropped even below its bound */
#define STALL_US (60 * MN_US_PER_S)

static atomic_size_t open_streams;

size_t mn_events_open_streams(void) { return atomic_load(&open_streams); }

struct qnode {
  struct qnode *next;
  struct ev_chunk *chunk;
};

struct queue {
  struct qnode *head, *tail;
  size_t bytes;
};

struct mn_event_stream {
  struct mn_events *ev;
  struct mn_event_stream *prev, *next; /* in ev->streams while registered */
  int refs;                            /* the owner (handler, then response) and the hub */
  char *project, *version, *function, *invocation_id; /* the filter; NULL: any */
  struct queue queue;                  /* what the client is sent next */
  size_t head_off;                     /* bytes of queue.head already sent */
  struct queue held;                   /* live events while the opener pushes */
  bool live, need_end, end_pending, ended, dropped;
  bool suspended;
  struct MHD_Connection *conn;
  int fd;
  int64_t progress_us; /* when the client last took data (or it was queued on empty) */
};

struct mn_events_wait {
  struct mn_events *ev;
  struct mn_events_wait *prev, *next;
  char *project, *function, *invocation_id;
  int64_t deadline_us; /* monotonic */
  bool fired, called;
  void (*fn)(void *);
  void *arg;
};

/* ---- chunks ---- */

static struct ev_chunk *chunk_new(const char *text, size_t len) {
  struct ev_chunk *c = malloc(sizeof *c + len + 1);
  if (!c)
    return NULL;
  atomic_init(&c->refs, 1);
  c->finishing = false;
  c->len = len;
  memcpy(c->text, text, len);
  c->text[len] = '\0';
  return c;
}

static struct ev_chunk *chunk_ref(struct ev_chunk *c) {
  atomic_fetch_add(&c->refs, 1);
  return c;
}

void mn_ev_chunk_unref(struct ev_chunk *c) {
  if (c && atomic_fetch_sub(&c->refs, 1) == 1)
    free(c);
}

/* Times as the API shows them (api/codec.h): whole seconds, and the
 * microseconds alongside as <key>_us. */
static void wire_times(json_t *o) {
  static const char *const keys[] = {"creation_time", "last_update_time",
                                     "cancellation_request_time", "execution_start_time",
                                     "execution_finish_time", "time", "start_at"};
  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    json_t *v = json_object_get(o, keys[k]);
    if (!v)
      continue;
    char key_us[64];
    snprintf(key_us, sizeof key_us, "%s_us", keys[k]);
    if (json_is_integer(v)) {
      json_int_t us = json_integer_value(v);
      json_object_set_new(o, key_us, json_integer(us));
      json_object_set_new(o, keys[k], json_integer(mn_us_to_s(us)));
    } else {
      json_object_set_new(o, key_us, json_null());
    }
  }
}

static struct ev_chunk *chunk_of(int64_t id, const char *kind, json_t *data) {
  char *json = json_dumps(data, JSON_COMPACT);
  if (!json)
    return NULL;
  size_t cap = strlen(json) + strlen(kind) + 64;
  char *text = malloc(cap);
  struct ev_chunk *c = NULL;
  if (text) {
    int n = id > 0 ? snprintf(text, cap, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)id,
                              kind, json)
                   : snprintf(text, cap, "event: %s\ndata: %s\n\n", kind, json);
    c = chunk_new(text, (size_t)n);
    free(text);
  }
  free(json);
  return c;
}

/* The contract's `invocation` data from the store's snapshot: the derived
 * status added, what only the derivation needs removed. */
static bool shape_invocation(json_t *o) {
  enum mn_derived status = mn_derived_status_json(o);
  const char *server = json_string_value(json_object_get(o, "invocation_status"));
  bool finishing = mn_derived_finished(status) || (server && strcmp(server, "TERMINATED") == 0);
  json_object_set_new(o, "status", json_string(mn_derived_name(status)));
  json_object_set_new(o, "cancellation_requested",
                      json_boolean(json_is_integer(json_object_get(o, "cancellation_request_time"))));
  json_object_del(o, "executions");
  json_object_del(o, "timeout_seconds");
  json_object_del(o, "max_retries");
  return finishing;
}

struct ev_chunk *mn_ev_chunk_from_row(PGresult *r, int row, int64_t id) {
  const char *kind = PQgetvalue(r, row, MN_EV_KIND);
  json_t *data = json_loads(PQgetvalue(r, row, MN_EV_DATA), 0, NULL);
  if (!data)
    return NULL;
  bool finishing = strcmp(kind, "invocation") == 0 && shape_invocation(data);
  wire_times(data);
  struct ev_chunk *c = chunk_of(id, kind, data);
  json_decref(data);
  if (c)
    c->finishing = finishing;
  return c;
}

/* ---- queues (under ev->mu) ---- */

static void queue_clear(struct queue *q) {
  while (q->head) {
    struct qnode *n = q->head;
    q->head = n->next;
    mn_ev_chunk_unref(n->chunk);
    free(n);
  }
  q->tail = NULL;
  q->bytes = 0;
}

static bool queue_push(struct queue *q, struct ev_chunk *c) {
  struct qnode *n = malloc(sizeof *n);
  if (!n)
    return false;
  n->next = NULL;
  n->chunk = chunk_ref(c);
  if (q->tail)
    q->tail->next = n;
  else
    q->head = n;
  q->tail = n;
  q->bytes += c->len;
  return true;
}

static void wake(struct mn_event_stream *s) {
  if (s->suspended && s->conn) {
    s->suspended = false;
    MHD_resume_connection(s->conn);
  }
}

/* The client stopped reading (or memory ran out): shut its socket;
 * libmicrohttpd closes the connection and frees the stream. */
static void drop(struct mn_event_stream *s, const char *why) {
  if (s->dropped)
    return;
  s->dropped = true;
  mn_log_warn("events", "dropped an event stream: %s (%zu bytes queued)", why,
              s->queue.bytes + s->held.bytes);
  queue_clear(&s->queue);
  queue_clear(&s->held);
  s->head_off = 0;
  if (s->fd >= 0)
    shutdown(s->fd, SHUT_RDWR);
  wake(s);
}

/* One event for one stream. */
static void deliver(struct mn_event_stream *s, struct ev_chunk *c, bool live_event) {
  if (s->dropped || s->ended || s->need_end)
    return;
  struct queue *q = live_event && !s->live ? &s->held : &s->queue;
  if (q->bytes + c->len > s->ev->buffer_bytes && q->bytes > 0) {
    drop(s, "its client does not read fast enough");
    return;
  }
  if (!queue_push(q, c)) {
    drop(s, "out of memory");
    return;
  }
  if (q == &s->held)
    return;
  if (c->finishing && s->invocation_id)
    s->need_end = true;
  if (q->bytes == c->len)
    s->progress_us = mn_monotonic_us();
  wake(s);
}

static bool eq_or_any(const char *want, const char *have) {
  return !want || (have && strcmp(want, have) == 0);
}

static bool matches(const struct mn_event_stream *s, const struct ev_item *it) {
  return eq_or_any(s->project, it->project) && eq_or_any(s->version, it->version) &&
         eq_or_any(s->function, it->function) && eq_or_any(s->invocation_id, it->invocation_id);
}

/* ---- the `end` of an invocation stream ---- */

static void stream_unref_locked(struct mn_event_stream *s);

/* Outside mu, with a reference held: reads the invocation as GET returns
 * it and queues it as the last event. */
static void complete_end(struct mn_event_stream *s) {
  struct mn_events *ev = s->ev;
  struct mn_function_key fk = {s->project, s->version ? s->version : "latest", s->function};
  struct mn_invocation inv = {0};
  struct ev_chunk *c = NULL;
  if (mn_store_get_invocation(ev->store, &fk, s->invocation_id, &inv) == 0) {
    json_t *body = mn_json_invocation_info(&inv);
    if (body)
      c = chunk_of(0, "end", body);
    json_decref(body);
  }
  mn_invocation_release(&inv);
  pthread_mutex_lock(&ev->mu);
  if (c && !s->dropped && queue_push(&s->queue, c))
    s->progress_us = s->queue.bytes == c->len ? mn_monotonic_us() : s->progress_us;
  s->ended = true; /* without the end event when it could not be read */
  wake(s);
  pthread_mutex_unlock(&ev->mu);
  mn_ev_chunk_unref(c);
}

/* Streams that reached their end in the batch just delivered: the caller
 * holds mu; they are returned with a reference for complete_end. */
static size_t collect_ends(struct mn_events *ev, struct mn_event_stream ***out) {
  size_t n = 0, cap = 0;
  struct mn_event_stream **list = NULL;
  for (struct mn_event_stream *s = ev->streams; s; s = s->next) {
    if (!s->need_end || s->end_pending || !s->live)
      continue;
    if (n == cap) {
      struct mn_event_stream **grown = realloc(list, (cap = cap ? 2 * cap : 8) * sizeof *list);
      if (!grown)
        break;
      list = grown;
    }
    s->end_pending = true;
    s->refs++;
    list[n++] = s;
  }
  *out = list;
  return n;
}

static void finish_ends(struct mn_events *ev, struct mn_event_stream **list, size_t n) {
  for (size_t k = 0; k < n; k++)
    complete_end(list[k]);
  pthread_mutex_lock(&ev->mu);
  for (size_t k = 0; k < n; k++)
    stream_unref_locked(list[k]);
  pthread_mutex_unlock(&ev->mu);
  free(list);
}

/* ---- waits ---- */

struct callbacks {
  struct mn_events_wait **items;
  size_t n, cap;
};

/* Marks w called and remembers its callback for after mu. */
static void schedule(struct callbacks *cb, struct mn_events_wait *w) {
  if (w->called || !w->fn)
    return;
  if (cb->n == cb->cap) {
    size_t cap = cb->cap ? 2 * cb->cap : 8;
    struct mn_events_wait **grown = realloc(cb->items, cap * sizeof *grown);
    if (!grown)
      return; /* called at its deadline instead */
    cb->items = grown;
    cb->cap = cap;
  }
  w->called = true;
  cb->items[cb->n++] = w;
}

static void run_callbacks(struct callbacks *cb) {
  for (size_t k = 0; k < cb->n; k++)
    cb->items[k]->fn(cb->items[k]->arg);
  free(cb->items);
}

/* ---- fan-out ---- */

void mn_ev_fan_out(struct mn_events *ev, struct ev_item *items, size_t n) {
  struct callbacks cb = {0};
  struct mn_event_stream **ends = NULL;
  size_t n_ends;
  pthread_mutex_lock(&ev->mu);
  for (size_t k = 0; k < n; k++) {
    struct ev_item *it = &items[k];
    if (it->chunk)
      for (struct mn_event_stream *s = ev->streams; s; s = s->next)
        if (matches(s, it))
          deliver(s, it->chunk, true);
    if (it->chunk && it->chunk->finishing)
      for (struct mn_events_wait *w = ev->waits; w; w = w->next)
        if (strcmp(w->invocation_id, it->invocation_id) == 0 &&
            strcmp(w->project, it->project) == 0 && strcmp(w->function, it->function) == 0) {
          w->fired = true;
          schedule(&cb, w);
        }
    ev->position = it->id;
  }
  n_ends = collect_ends(ev, &ends);
  pthread_mutex_unlock(&ev->mu);
  finish_ends(ev, ends, n_ends);
  run_callbacks(&cb);
}

int64_t mn_ev_tick(struct mn_events *ev, int64_t now) {
  struct callbacks cb = {0};
  int64_t next = now + ev->keepalive_us;
  pthread_mutex_lock(&ev->mu);
  if (now >= ev->next_keepalive_us) {
    ev->next_keepalive_us = now + ev->keepalive_us;
    for (struct mn_event_stream *s = ev->streams; s; s = s->next) {
      if (!s->live || !s->conn)
        continue;
      if (s->queue.bytes > 0 && now - s->progress_us > STALL_US)
        drop(s, "its client took nothing for a minute");
      else
        deliver(s, ev->keepalive, false);
    }
  }
  if (next > ev->next_keepalive_us)
    next = ev->next_keepalive_us;
  for (struct mn_events_wait *w = ev->waits; w; w = w->next) {
    if (w->called || !w->fn)
      continue;
    if (w->deadline_us <= now)
      schedule(&cb, w);
    else if (w->deadline_us < next)
      next = w->deadline_us;
  }
  pthread_mutex_unlock(&ev->mu);
  run_callbacks(&cb);
  return next;
}

/* ---- streams ---- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int mn_events_stream_open(struct mn_events *ev, const struct mn_event_filter *f,
                          struct mn_event_stream **out, int64_t *position) {
  struct mn_event_stream *s = calloc(1, sizeof *s);
  if (!s)
    return MN_ENOMEM;
  s->ev = ev;
  s->refs = 1;
  s->fd = -1;
  s->project = dup_or_null(f->project_name);
  s->version = dup_or_null(f->version_id);
  s->function = dup_or_null(f->function_name);
  s->invocation_id = dup_or_null(f->invocation_id);
  if ((f->project_name && !s->project) || (f->version_id && !s->version) ||
      (f->function_name && !s->function) || (f->invocation_id && !s->invocation_id)) {
    free(s->project), free(s->version), free(s->function), free(s->invocation_id), free(s);
    return MN_ENOMEM;
  }
  *position = 0;
  pthread_mutex_lock(&ev->mu);
  if (ev->stopping || atomic_load(&open_streams) >= ev->max_streams) {
    pthread_mutex_unlock(&ev->mu);
    free(s->project), free(s->version), free(s->function), free(s->invocation_id), free(s);
    return MN_EUNAVAILABLE;
  }
  atomic_fetch_add(&open_streams, 1);
  ev->consumers++;
  if (!mn_ev_await_settled(ev)) {
    stream_unref_locked(s);
    pthread_mutex_unlock(&ev->mu);
    *position = -1;
    return MN_EUNAVAILABLE;
  }
  /* Joins the fan-out and takes the position in one hold of mu: every
   * event up to the position is the backlog's, every later one is fanned
   * out to it. Joining before the wait let the listener, which settles and
   * reads while the wait has mu released, fan out events to it that the
   * position then also covered: the backlog sent them a second time. */
  s->next = ev->streams;
  if (ev->streams)
    ev->streams->prev = s;
  ev->streams = s;
  *position = ev->position;
  pthread_mutex_unlock(&ev->mu);
  *out = s;
  return 0;
}

void mn_events_stream_push_row(struct mn_event_stream *s, PGresult *r, int row) {
  struct ev_chunk *c =
      mn_ev_chunk_from_row(r, row, strtoll(PQgetvalue(r, row, MN_EV_ID), NULL, 10));
  pthread_mutex_lock(&s->ev->mu);
  if (c)
    deliver(s, c, false);
  else
    drop(s, "an event could not be encoded");
  pthread_mutex_unlock(&s->ev->mu);
  mn_ev_chunk_unref(c);
}

void mn_events_stream_push_state(struct mn_event_stream *s, const struct mn_invocation *inv) {
  enum mn_derived status = mn_derived_status(inv);
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:s,s:b,s:I,s:I}", "project_name",
                        inv->function.project_name, "version_id", inv->function.version_id,
                        "function_name", inv->function.function_name, "invocation_id",
                        inv->invocation_id, "parent_function_name",
                        inv->has_parent ? inv->parent.function_name : NULL,
                        "parent_invocation_id", inv->has_parent ? inv->parent.invocation_id : NULL,
                        "status", mn_derived_name(status), "invocation_status",
                        mn_invocation_status_str(inv->invocation_status),
                        "cancellation_requested", inv->cancellation_request_time != MN_TIME_NULL,
                        "creation_time", (json_int_t)inv->creation_time, "last_update_time",
                        (json_int_t)inv->last_update_time);
  if (o)
    json_object_set_new(o, "cancellation_request_time",
                        inv->cancellation_request_time == MN_TIME_NULL
                            ? json_null()
                            : json_integer(inv->cancellation_request_time));
  if (o)
    wire_times(o);
  struct ev_chunk *c = o ? chunk_of(0, "invocation", o) : NULL;
  json_decref(o);
  if (c)
    c->finishing = mn_derived_finished(status) ||
                   inv->invocation_status == MN_INVOCATION_TERMINATED;
  pthread_mutex_lock(&s->ev->mu);
  if (c)
    deliver(s, c, false);
  else
    drop(s, "out of memory");
  pthread_mutex_unlock(&s->ev->mu);
  mn_ev_chunk_unref(c);
}

void mn_events_stream_go_live(struct mn_event_stream *s) {
  struct mn_events *ev = s->ev;
  bool end = false;
  pthread_mutex_lock(&ev->mu);
  s->live = true;
  struct qnode *n = s->held.head;
  s->held.head = s->held.tail = NULL;
  s->held.bytes = 0;
  while (n) {
    struct qnode *next = n->next;
    deliver(s, n->chunk, false);
    mn_ev_chunk_unref(n->chunk);
    free(n);
    n = next;
  }
  if (s->need_end && !s->end_pending) {
    s->end_pending = true;
    s->refs++;
    end = true;
  }
  pthread_mutex_unlock(&ev->mu);
  if (end) {
    complete_end(s);
    pthread_mutex_lock(&ev->mu);
    stream_unref_locked(s);
    pthread_mutex_unlock(&ev->mu);
  }
}

static void stream_unref_locked(struct mn_event_stream *s) {
  if (--s->refs > 0)
    return;
  struct mn_events *ev = s->ev;
  if (s->prev)
    s->prev->next = s->next;
  else if (ev->streams == s)
    ev->streams = s->next;
  if (s->next)
    s->next->prev = s->prev;
  ev->consumers--;
  atomic_fetch_sub(&open_streams, 1);
  queue_clear(&s->queue);
  queue_clear(&s->held);
  free(s->project), free(s->version), free(s->function), free(s->invocation_id), free(s);
}

/* The owner lets go: the stream leaves the fan-out at once (a reference
 * held for its `end` keeps the memory until that is done). */
static void stream_close(struct mn_event_stream *s) {
  struct mn_events *ev = s->ev;
  pthread_mutex_lock(&ev->mu);
  s->conn = NULL;
  s->suspended = false;
  s->fd = -1;
  s->dropped = true;
  stream_unref_locked(s);
  pthread_mutex_unlock(&ev->mu);
}

void mn_events_stream_discard(struct mn_event_stream *s) {
  if (s)
    stream_close(s);
}

void mn_events_stream_release(void *stream) { stream_close(stream); }

void mn_events_stream_attach(struct mn_event_stream *s, struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *fd =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  pthread_mutex_lock(&s->ev->mu);
  s->conn = conn;
  s->fd = fd ? fd->connect_fd : -1;
  s->progress_us = mn_monotonic_us();
  pthread_mutex_unlock(&s->ev->mu);
}

ssize_t mn_events_stream_read(void *stream, uint64_t pos, char *buf, size_t max) {
  struct mn_event_stream *s = stream;
  struct mn_events *ev = s->ev;
  size_t n = 0;
  (void)pos;
  pthread_mutex_lock(&ev->mu);
  if (s->dropped) {
    pthread_mutex_unlock(&ev->mu);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  while (s->queue.head && n < max) {
    struct qnode *h = s->queue.head;
    size_t take = h->chunk->len - s->head_off;
    if (take > max - n)
      take = max - n;
    memcpy(buf + n, h->chunk->text + s->head_off, take);
    n += take;
    s->head_off += take;
    if (s->head_off == h->chunk->len) {
      s->queue.head = h->next;
      if (!h->next)
        s->queue.tail = NULL;
      s->queue.bytes -= h->chunk->len;
      s->head_off = 0;
      mn_ev_chunk_unref(h->chunk);
      free(h);
    }
  }
  if (n > 0) {
    s->progress_us = mn_monotonic_us();
    pthread_mutex_unlock(&ev->mu);
    return (ssize_t)n;
  }
  if (s->ended || ev->stopping) {
    pthread_mutex_unlock(&ev->mu);
    return MHD_CONTENT_READER_END_OF_STREAM;
  }
  MHD_suspend_connection(s->conn);
  s->suspended = true;
  pthread_mutex_unlock(&ev->mu);
  return 0;
}

/* ---- waits ---- */

static void poke(struct mn_events *ev) {
  uint64_t one = 1;
  if (write(ev->wake_fd, &one, sizeof one) < 0) {
    /* the counter is saturated: the thread is awake anyway */
  }
}

struct mn_events_wait *mn_events_wait_new(struct mn_events *ev, const char *project,
                                          const char *function, const char *invocation_id,
                                          int64_t deadline_us) {
  struct mn_events_wait *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->project = strdup(project);
  w->function = strdup(function);
  w->invocation_id = strdup(invocation_id);
  w->ev = ev;
  w->deadline_us = deadline_us;
  if (!w->project || !w->function || !w->invocation_id) {
    free(w->project), free(w->function), free(w->invocation_id), free(w);
    return NULL;
  }
  pthread_mutex_lock(&ev->mu);
  w->next = ev->waits;
  if (ev->waits)
    ev->waits->prev = w;
  ev->waits = w;
  ev->consumers++;
  bool settled = mn_ev_await_settled(ev);
  pthread_mutex_unlock(&ev->mu);
  if (!settled) { /* answered at once instead */
    mn_events_wait_free(w);
    return NULL;
  }
  return w;
}

void mn_events_wait_arm(struct mn_events_wait *w, void (*fn)(void *), void *arg) {
  struct mn_events *ev = w->ev;
  bool now;
  pthread_mutex_lock(&ev->mu);
  w->fn = fn;
  w->arg = arg;
  now = w->fired || ev->stopping || w->deadline_us <= mn_monotonic_us();
  if (now)
    w->called = true;
  pthread_mutex_unlock(&ev->mu);
  if (now)
    fn(arg);
  else
    poke(ev);
}

void mn_events_wait_free(struct mn_events_wait *w) {
  if (!w)
    return;
  struct mn_events *ev = w->ev;
  pthread_mutex_lock(&ev->mu);
  if (w->prev)
    w->prev->next = w->next;
  else if (ev->waits == w)
    ev->waits = w->next;
  if (w->next)
    w->next->prev = w->prev;
  ev->consumers--;
  pthread_mutex_unlock(&ev->mu);
  free(w->project), free(w->function), free(w->invocation_id), free(w);
}

/* ---- the hub ---- */

int mn_events_start(const struct mn_events_options *opt, struct mn_store *store,
                    struct mn_events **out, struct mn_error *err) {
  struct mn_events *ev = calloc(1, sizeof *ev);
  *out = NULL;
  if (!ev)
    return mn_fail(err, MN_ENOMEM, "out of memory");
  ev->store = store;
  ev->max_streams = opt->max_streams ? opt->max_streams : DEFAULT_MAX_STREAMS;
  ev->buffer_bytes = opt->stream_buffer_bytes ? opt->stream_buffer_bytes : DEFAULT_BUFFER_BYTES;
  ev->keepalive_us = (opt->keepalive_ms > 0 ? opt->keepalive_ms : DEFAULT_KEEPALIVE_MS) * 1000;
  ev->retention_us = (opt->retention_s > 0 ? opt->retention_s : DEFAULT_RETENTION_S) * MN_US_PER_S;
  ev->dsn = strdup(mn_store_dsn(store));
  static const char keepalive[] = ": keep-alive\n\n";
  ev->keepalive = chunk_new(keepalive, sizeof keepalive - 1);
  ev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  pthread_mutex_init(&ev->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&ev->settled, &ca);
  pthread_condattr_destroy(&ca);
  int rc;
  if (!ev->dsn || !ev->keepalive || ev->wake_fd < 0) {
    rc = mn_fail(err, MN_ENOMEM, "cannot set up event streams");
    goto fail;
  }
  if ((rc = mn_ev_listener_connect(ev, err)) != 0)
    goto fail;
  if (pthread_create(&ev->thread, NULL, mn_ev_listener_main, ev) != 0) {
    rc = mn_fail(err, MN_EINTERNAL, "cannot start the event listener");
    goto fail;
  }
  ev->thread_started = true;
  *out = ev;
  return 0;
fail:
  mn_events_free(ev);
  return rc;
}

void mn_events_shutdown(struct mn_events *ev) {
  if (!ev)
    return;
  struct callbacks cb = {0};
  pthread_mutex_lock(&ev->mu);
  ev->stopping = true;
  for (struct mn_event_stream *s = ev->streams; s; s = s->next)
    wake(s);
  for (struct mn_events_wait *w = ev->waits; w; w = w->next)
    schedule(&cb, w);
  pthread_cond_broadcast(&ev->settled);
  pthread_mutex_unlock(&ev->mu);
  run_callbacks(&cb);
  poke(ev);
}

void mn_events_free(struct mn_events *ev) {
  if (!ev)
    return;
  mn_signal_stop(&ev->mu, &ev->stopping, &ev->settled);
  if (ev->thread_started) {
    poke(ev);
    pthread_join(ev->thread, NULL);
  }
  if (ev->pg)
    PQfinish(ev->pg);
  mn_ev_chunk_unref(ev->keepalive);
  if (ev->wake_fd >= 0)
    close(ev->wake_fd);
  pthread_cond_destroy(&ev->settled);
  pthread_mutex_destroy(&ev->mu);
  free(ev->dsn);
  free(ev);
}
