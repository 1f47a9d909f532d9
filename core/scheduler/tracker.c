#include "scheduler/tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 4096

struct node {
  struct node *next;
  struct mn_track track;
  char key[];
};

struct mn_tracker {
  struct node *buckets[N_BUCKETS];
  size_t size;
  uint64_t pass;
};

static size_t hash(const char *s) {
  uint64_t h = UINT64_C(1469598103934665603);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return (size_t)(h % N_BUCKETS);
}

struct mn_tracker *mn_tracker_new(void) {
  struct mn_tracker *t = calloc(1, sizeof *t);
  if (t)
    t->pass = 1;
  return t;
}

void mn_tracker_free(struct mn_tracker *t) {
  if (!t)
    return;
  for (size_t b = 0; b < N_BUCKETS; b++) {
    for (struct node *n = t->buckets[b], *next; n; n = next) {
      next = n->next;
      free(n);
    }
  }
  free(t);
}

struct mn_track *mn_tracker_peek(struct mn_tracker *t, const char *key) {
  for (struct node *n = t->buckets[hash(key)]; n; n = n->next)
    if (strcmp(n->key, key) == 0)
      return &n->track;
  return NULL;
}

struct mn_track *mn_tracker_get(struct mn_tracker *t, const char *key) {
  struct mn_track *e = mn_tracker_peek(t, key);
  if (!e) {
    size_t len = strlen(key);
    struct node *n = calloc(1, sizeof *n + len + 1);
    if (!n)
      return NULL;
    memcpy(n->key, key, len + 1);
    size_t b = hash(key);
    n->next = t->buckets[b];
    t->buckets[b] = n;
    t->size++;
    e = &n->track;
  }
  e->seen = t->pass;
  return e;
}

void mn_tracker_new_pass(struct mn_tracker *t) {
  for (size_t b = 0; b < N_BUCKETS; b++) {
    struct node **link = &t->buckets[b];
    while (*link) {
      struct node *n = *link;
      if (n->track.seen < t->pass && !n->track.in_flight) {
        *link = n->next;
        free(n);
        t->size--;
      } else {
        link = &n->next;
      }
    }
  }
  t->pass++;
}

size_t mn_tracker_size(const struct mn_tracker *t) { return t->size; }

void mn_track_failed(struct mn_track *e, int64_t now, const char *message) {
  mn_track_failed_after(e, now, message, 0);
}

void mn_track_failed_after(struct mn_track *e, int64_t now, const char *message,
                           int64_t retry_after_us) {
  if (e->failures == 0)
    e->first_failure = now;
  e->failures++;
  int64_t delay = 100000; /* 100 ms, doubling, at most 30 s */
  for (int i = 1; i < e->failures && delay < 30000000; i++)
    delay *= 2;
  if (delay > 30000000)
    delay = 30000000;
  if (retry_after_us > 0) /* the provider knows better (a Retry-After) */
    delay = retry_after_us < MN_TRACK_RETRY_AFTER_MAX ? retry_after_us : MN_TRACK_RETRY_AFTER_MAX;
  e->not_before = now + delay;
  snprintf(e->last_error, sizeof e->last_error, "%s", message ? message : "");
}

void mn_track_succeeded(struct mn_track *e) {
  e->failures = 0;
  e->not_before = 0;
  e->first_failure = 0;
  e->last_error[0] = '\0';
}
