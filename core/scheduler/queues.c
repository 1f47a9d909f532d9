/* The set of functions with a queue (queues.h): an open-addressing hash
 * set of "project\x1fversion\x1ffunction" strings, and the array of keys
 * the store takes, rebuilt when the set changed. */
#include "scheduler/queues.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEP '\x1f'
#define TOMBSTONE ((char *)1)

struct mn_queues {
  char **slots; /* NULL: empty; TOMBSTONE: removed */
  size_t cap, n, used;
  struct mn_function_key *keys; /* the view of mn_queues_keys */
  char **key_bufs;              /* copies the view points into */
  size_t n_keys;
  bool dirty;
};

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static char *join(const char *p, const char *v, const char *f) {
  size_t lp = strlen(p), lv = strlen(v), lf = strlen(f);
  char *s = malloc(lp + lv + lf + 3);
  if (!s)
    return NULL;
  memcpy(s, p, lp);
  s[lp] = SEP;
  memcpy(s + lp + 1, v, lv);
  s[lp + 1 + lv] = SEP;
  memcpy(s + lp + lv + 2, f, lf + 1);
  return s;
}

struct mn_queues *mn_queues_new(void) {
  struct mn_queues *q = calloc(1, sizeof *q);
  if (q && !(q->slots = calloc(q->cap = 64, sizeof *q->slots))) {
    free(q);
    q = NULL;
  }
  return q;
}

static void free_view(struct mn_queues *q) {
  for (size_t i = 0; i < q->n_keys; i++)
    free(q->key_bufs[i]);
  free(q->key_bufs);
  free(q->keys);
  q->key_bufs = NULL;
  q->keys = NULL;
  q->n_keys = 0;
}

void mn_queues_free(struct mn_queues *q) {
  if (!q)
    return;
  for (size_t i = 0; i < q->cap; i++)
    if (q->slots[i] && q->slots[i] != TOMBSTONE)
      free(q->slots[i]);
  free(q->slots);
  free_view(q);
  free(q);
}

/* The slot holding key, or the first free one on its probe path. */
static size_t probe(const struct mn_queues *q, const char *key, bool *found) {
  size_t i = hash(key) & (q->cap - 1), free_at = SIZE_MAX;
  *found = false;
  for (;;) {
    char *s = q->slots[i];
    if (!s)
      return free_at != SIZE_MAX ? free_at : i;
    if (s == TOMBSTONE) {
      if (free_at == SIZE_MAX)
        free_at = i;
    } else if (strcmp(s, key) == 0) {
      *found = true;
      return i;
    }
    i = (i + 1) & (q->cap - 1);
  }
}

static int grow(struct mn_queues *q) {
  size_t cap = q->n * 4 > q->cap ? q->cap * 2 : q->cap; /* rehash drops tombstones */
  char **old = q->slots;
  size_t old_cap = q->cap;
  char **slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -1;
  q->slots = slots;
  q->cap = cap;
  q->used = q->n;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i] && old[i] != TOMBSTONE) {
      bool found;
      q->slots[probe(q, old[i], &found)] = old[i];
    }
  free(old);
  return 0;
}

int mn_queues_add(struct mn_queues *q, const char *project, const char *version,
                  const char *function) {
  char *key = join(project, version, function);
  bool found;
  if (!key)
    return -1;
  if ((q->used + 1) * 2 > q->cap && grow(q) < 0) {
    free(key);
    return -1;
  }
  size_t i = probe(q, key, &found);
  if (found) {
    free(key);
    return 0;
  }
  if (!q->slots[i])
    q->used++;
  q->slots[i] = key;
  q->n++;
  q->dirty = true;
  return 0;
}

void mn_queues_remove(struct mn_queues *q, const char *project, const char *version,
                      const char *function) {
  char *key = join(project, version, function);
  bool found;
  if (!key)
    return;
  size_t i = probe(q, key, &found);
  free(key);
  if (!found)
    return;
  free(q->slots[i]);
  q->slots[i] = TOMBSTONE;
  q->n--;
  q->dirty = true;
}

bool mn_queues_has(const struct mn_queues *q, const char *project, const char *version,
                   const char *function) {
  char *key = join(project, version, function);
  bool found = false;
  if (key)
    probe(q, key, &found);
  free(key);
  return found;
}

int mn_queues_add_payload(struct mn_queues *q, const char *payload) {
  static const char prefix[] = "queue\x1f";
  if (strncmp(payload, prefix, sizeof prefix - 1) != 0)
    return 0;
  const char *p = payload + sizeof prefix - 1;
  const char *v = strchr(p, SEP), *f = v ? strchr(v + 1, SEP) : NULL;
  if (!f)
    return 0;
  char *copy = strdup(p);
  if (!copy)
    return -1;
  copy[v - p] = '\0';
  copy[f - p] = '\0';
  int rc = mn_queues_add(q, copy, copy + (v - p) + 1, copy + (f - p) + 1);
  free(copy);
  return rc;
}

size_t mn_queues_count(const struct mn_queues *q) { return q->n; }

struct mn_fn_keys mn_queues_keys(struct mn_queues *q) {
  if (q->dirty || !q->keys) {
    free_view(q);
    q->keys = calloc(q->n ? q->n : 1, sizeof *q->keys);
    q->key_bufs = calloc(q->n ? q->n : 1, sizeof *q->key_bufs);
    if (!q->keys || !q->key_bufs) {
      free_view(q);
      return (struct mn_fn_keys){NULL, 0};
    }
    for (size_t i = 0; i < q->cap; i++) {
      char *s = q->slots[i];
      if (!s || s == TOMBSTONE)
        continue;
      char *copy = strdup(s);
      if (!copy)
        break;
      char *v = strchr(copy, SEP), *f = strchr(v + 1, SEP);
      *v = *f = '\0';
      q->key_bufs[q->n_keys] = copy;
      q->keys[q->n_keys++] = (struct mn_function_key){copy, v + 1, f + 1};
    }
    q->dirty = false;
  }
  return (struct mn_fn_keys){q->keys, q->n_keys};
}

int mn_queues_add_key(void *q, const struct mn_function_key *key) {
  return mn_queues_add(q, key->project_name, key->version_ref, key->function_name);
}
