#include "multinode/common/yaml_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

struct builder {
  yaml_parser_t parser;
  const char *file;
  struct mn_error *err;
};

static void node_free(struct mn_cfg_node *n) {
  if (!n)
    return;
  free(n->path);
  free(n->value);
  for (size_t i = 0; i < n->n_pairs; i++) {
    node_free(n->pairs[i].key);
    node_free(n->pairs[i].value);
  }
  free(n->pairs);
  for (size_t i = 0; i < n->n_items; i++)
    node_free(n->items[i]);
  free(n->items);
  free(n->strings);
  free(n);
}

void mn_cfg_tree_free(struct mn_cfg_tree *tree) {
  if (!tree)
    return;
  node_free(tree->root);
  free(tree->file);
  free(tree);
}

static int syntax_error(struct builder *b) {
  yaml_parser_t *p = &b->parser;
  yaml_mark_t m = p->error == YAML_READER_ERROR ? p->mark : p->problem_mark;
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->error == YAML_MEMORY_ERROR)
    return mn_fail(b->err, MN_ENOMEM, "%s: out of memory while parsing", b->file);
  if (p->context)
    return mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: %s (%s at %zu:%zu)", b->file,
                   m.line + 1, m.column + 1, problem, p->context, p->context_mark.line + 1,
                   p->context_mark.column + 1);
  return mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: %s", b->file, m.line + 1, m.column + 1,
                 problem);
}

static int next_event(struct builder *b, yaml_event_t *ev) {
  if (!yaml_parser_parse(&b->parser, ev))
    return syntax_error(b);
  return 0;
}

/* The next event of a collection into *ev: 0, 1 at its END event (consumed),
 * or an error code. */
static int next_in(struct builder *b, yaml_event_t *ev, yaml_event_type_t end) {
  int rc = next_event(b, ev);
  if (rc)
    return rc;
  if (ev->type != end)
    return 0;
  yaml_event_delete(ev);
  return 1;
}

/* The end of building N: handed out, or freed on failure (rc). */
static int finish(struct mn_cfg_node *n, int rc, struct mn_cfg_node **out) {
  if (rc)
    node_free(n);
  else
    *out = n;
  return rc;
}

static struct mn_cfg_node *node_new(struct builder *b, enum mn_cfg_kind kind,
                                    const yaml_event_t *ev, const char *path) {
  struct mn_cfg_node *n = calloc(1, sizeof *n);
  if (!n)
    return NULL;
  n->kind = kind;
  n->file = b->file;
  n->line = (int)ev->start_mark.line + 1;
  n->col = (int)ev->start_mark.column + 1;
  n->path = strdup(path);
  if (!n->path) {
    free(n);
    return NULL;
  }
  return n;
}

static char *path_join(const char *base, const char *key) {
  size_t nb = strlen(base), nk = strlen(key);
  char *p = malloc(nb + nk + 2);
  if (!p)
    return NULL;
  if (nb) {
    memcpy(p, base, nb);
    p[nb] = '.';
    memcpy(p + nb + 1, key, nk + 1);
  } else {
    memcpy(p, key, nk + 1);
  }
  return p;
}

static int grow(void **arr, size_t n, size_t elem) {
  /* capacity doubles at powers of two */
  if (n && (n & (n - 1)))
    return 0;
  void *p = realloc(*arr, (n ? n * 2 : 4) * elem);
  if (!p)
    return -1;
  *arr = p;
  return 0;
}

static int parse_node(struct builder *b, yaml_event_t *ev, const char *path, int depth,
                      struct mn_cfg_node **out);

static int parse_scalar(struct builder *b, yaml_event_t *ev, const char *path,
                        struct mn_cfg_node **out) {
  struct mn_cfg_node *n = node_new(b, MN_CFG_SCALAR, ev, path);
  if (!n)
    return mn_fail(b->err, MN_ENOMEM, "out of memory");
  n->value_len = ev->data.scalar.length;
  n->value = malloc(n->value_len + 1);
  if (!n->value) {
    node_free(n);
    return mn_fail(b->err, MN_ENOMEM, "out of memory");
  }
  memcpy(n->value, ev->data.scalar.value, n->value_len);
  n->value[n->value_len] = '\0';
  n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  *out = n;
  return 0;
}

static int parse_sequence(struct builder *b, yaml_event_t *start, const char *path,
                          int depth, struct mn_cfg_node **out) {
  struct mn_cfg_node *n = node_new(b, MN_CFG_SEQUENCE, start, path);
  char *item_path = NULL;
  int rc = 0, all_scalars = 1;
  if (!n)
    return mn_fail(b->err, MN_ENOMEM, "out of memory");
  yaml_event_t ev;
  while ((rc = next_in(b, &ev, YAML_SEQUENCE_END_EVENT)) == 0) {
    size_t len = strlen(path) + 24;
    item_path = malloc(len);
    if (!item_path || grow((void **)&n->items, n->n_items, sizeof *n->items)) {
      yaml_event_delete(&ev);
      rc = mn_fail(b->err, MN_ENOMEM, "out of memory");
      goto done;
    }
    snprintf(item_path, len, "%s[%zu]", path, n->n_items);
    struct mn_cfg_node *item = NULL;
    if ((rc = parse_node(b, &ev, item_path, depth + 1, &item)))
      goto done;
    free(item_path);
    item_path = NULL;
    if (item->kind != MN_CFG_SCALAR)
      all_scalars = 0;
    n->items[n->n_items++] = item;
  }
  if (rc == 1)
    rc = 0;
  if (!rc && all_scalars) {
    n->strings = calloc(n->n_items + 1, sizeof *n->strings);
    if (!n->strings) {
      rc = mn_fail(b->err, MN_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t i = 0; i < n->n_items; i++)
      n->strings[i] = n->items[i]->value;
  }
done:
  free(item_path);
  return finish(n, rc, out);
}

static int parse_mapping(struct builder *b, yaml_event_t *start, const char *path, int depth,
                         struct mn_cfg_node **out) {
  struct mn_cfg_node *n = node_new(b, MN_CFG_MAPPING, start, path);
  struct mn_cfg_node *key = NULL, *value = NULL;
  char *key_path = NULL;
  int rc = 0;
  if (!n)
    return mn_fail(b->err, MN_ENOMEM, "out of memory");
  yaml_event_t ev;
  while ((rc = next_in(b, &ev, YAML_MAPPING_END_EVENT)) == 0) {
    if (ev.type != YAML_SCALAR_EVENT) {
      rc = mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: %s: keys must be plain strings", b->file,
                   ev.start_mark.line + 1, ev.start_mark.column + 1, path[0] ? path : "(root)");
      yaml_event_delete(&ev);
      goto done;
    }
    key_path = path_join(path, (const char *)ev.data.scalar.value);
    if (!key_path) {
      yaml_event_delete(&ev);
      rc = mn_fail(b->err, MN_ENOMEM, "out of memory");
      goto done;
    }
    rc = parse_scalar(b, &ev, key_path, &key);
    yaml_event_delete(&ev);
    if (rc)
      goto done;
    if (mn_cfg_node_get(n, key->value)) {
      rc = mn_fail(b->err, MN_ECONFIG, "%s:%d:%d: %s: duplicate key", b->file, key->line,
                   key->col, key_path);
      goto done;
    }
    if ((rc = next_event(b, &ev)))
      goto done;
    if ((rc = parse_node(b, &ev, key_path, depth + 1, &value)))
      goto done;
    if (grow((void **)&n->pairs, n->n_pairs, sizeof *n->pairs)) {
      rc = mn_fail(b->err, MN_ENOMEM, "out of memory");
      goto done;
    }
    n->pairs[n->n_pairs].key = key;
    n->pairs[n->n_pairs].value = value;
    n->n_pairs++;
    key = value = NULL;
    free(key_path);
    key_path = NULL;
  }
  if (rc == 1)
    rc = 0;
done:
  free(key_path);
  node_free(key);
  node_free(value);
  return finish(n, rc, out);
}

/* Consumes (deletes) *ev in every case. */
static int parse_node(struct builder *b, yaml_event_t *ev, const char *path, int depth,
                      struct mn_cfg_node **out) {
  int rc;
  const char *shown = path[0] ? path : "(root)";
  if (depth > MN_CFG_MAX_DEPTH) {
    rc = mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: %s: nesting deeper than %d levels", b->file,
                 ev->start_mark.line + 1, ev->start_mark.column + 1, shown, MN_CFG_MAX_DEPTH);
    yaml_event_delete(ev);
    return rc;
  }
  switch (ev->type) {
  case YAML_SCALAR_EVENT: rc = parse_scalar(b, ev, path, out); break;
  case YAML_SEQUENCE_START_EVENT: rc = parse_sequence(b, ev, path, depth, out); break;
  case YAML_MAPPING_START_EVENT: rc = parse_mapping(b, ev, path, depth, out); break;
  case YAML_ALIAS_EVENT:
    rc = mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: %s: YAML aliases are not supported",
                 b->file, ev->start_mark.line + 1, ev->start_mark.column + 1, shown);
    break;
  default:
    rc = mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: unexpected YAML event", b->file,
                 ev->start_mark.line + 1, ev->start_mark.column + 1);
    break;
  }
  yaml_event_delete(ev);
  return rc;
}

static int empty_root(struct builder *b, struct mn_cfg_node **out) {
  yaml_event_t fake;
  memset(&fake, 0, sizeof fake);
  *out = node_new(b, MN_CFG_MAPPING, &fake, "");
  return *out ? 0 : mn_fail(b->err, MN_ENOMEM, "out of memory");
}

/* STREAM-START [DOCUMENT-START node DOCUMENT-END] STREAM-END */
static int parse_stream(struct builder *b, struct mn_cfg_node **root) {
  yaml_event_t ev;
  int rc;
  if ((rc = next_event(b, &ev)))
    return rc;
  yaml_event_delete(&ev); /* STREAM-START */
  if ((rc = next_event(b, &ev)))
    return rc;
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    return empty_root(b, root);
  }
  yaml_event_delete(&ev); /* DOCUMENT-START */
  if ((rc = next_event(b, &ev)))
    return rc;
  if ((rc = parse_node(b, &ev, "", 0, root)))
    return rc;
  if (mn_cfg_node_is_null(*root)) {
    node_free(*root);
    *root = NULL;
    if ((rc = empty_root(b, root)))
      return rc;
  }
  if ((rc = next_event(b, &ev))) /* DOCUMENT-END */
    return rc;
  yaml_event_delete(&ev);
  if ((rc = next_event(b, &ev)))
    return rc;
  if (ev.type != YAML_STREAM_END_EVENT)
    rc = mn_fail(b->err, MN_ECONFIG, "%s:%zu:%zu: only one YAML document is allowed", b->file,
                 ev.start_mark.line + 1, ev.start_mark.column + 1);
  yaml_event_delete(&ev);
  return rc;
}

static int load(const char *name, FILE *fp, const char *text, size_t len,
                struct mn_cfg_tree **out, struct mn_error *err) {
  struct builder b = {.err = err};
  struct mn_cfg_tree *tree = calloc(1, sizeof *tree);
  int rc = 0;
  if (!tree || !(tree->file = strdup(name))) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto done;
  }
  b.file = tree->file;
  if (!yaml_parser_initialize(&b.parser)) {
    rc = mn_fail(err, MN_ENOMEM, "out of memory");
    goto done;
  }
  if (fp)
    yaml_parser_set_input_file(&b.parser, fp);
  else
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
  rc = parse_stream(&b, &tree->root);
  yaml_parser_delete(&b.parser);
done:
  if (rc) {
    mn_cfg_tree_free(tree);
    return rc;
  }
  *out = tree;
  return 0;
}

int mn_cfg_tree_load_file(const char *path, struct mn_cfg_tree **out, struct mn_error *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return mn_fail(err, MN_EIO, "%s: cannot open: %s", path, strerror(errno));
  int rc = load(path, fp, NULL, 0, out, err);
  fclose(fp);
  return rc;
}

int mn_cfg_tree_load_string(const char *name, const char *text, size_t len,
                            struct mn_cfg_tree **out, struct mn_error *err) {
  return load(name, NULL, text, len, out, err);
}

const struct mn_cfg_pair *mn_cfg_node_pair(const struct mn_cfg_node *map, const char *key) {
  if (!map || map->kind != MN_CFG_MAPPING)
    return NULL;
  for (size_t i = 0; i < map->n_pairs; i++)
    if (strcmp(map->pairs[i].key->value, key) == 0)
      return &map->pairs[i];
  return NULL;
}

const struct mn_cfg_node *mn_cfg_node_get(const struct mn_cfg_node *map, const char *key) {
  const struct mn_cfg_pair *p = mn_cfg_node_pair(map, key);
  return p ? p->value : NULL;
}

const struct mn_cfg_node *mn_cfg_node_find(const struct mn_cfg_node *node, const char *path) {
  char step[256];
  while (node && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof step)
      return NULL;
    memcpy(step, path, n);
    step[n] = '\0';
    node = mn_cfg_node_get(node, step);
    path += n + (dot ? 1 : 0);
  }
  return node;
}

int mn_cfg_node_is_null(const struct mn_cfg_node *n) {
  if (!n || n->kind != MN_CFG_SCALAR || !n->plain)
    return 0;
  return n->value[0] == '\0' || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
         strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

int mn_cfg_scalar_int(const struct mn_cfg_node *n, long long *out) {
  if (!n || n->kind != MN_CFG_SCALAR || !n->value[0] || strlen(n->value) != n->value_len)
    return MN_EINVAL;
  const char *s = n->value;
  if ((*s == '-' || *s == '+') && s[1])
    s++;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return MN_EINVAL;
  errno = 0;
  char *end;
  long long v = strtoll(n->value, &end, 10);
  if (errno || *end)
    return MN_EINVAL;
  *out = v;
  return 0;
}

int mn_cfg_scalar_bool(const struct mn_cfg_node *n, int *out) {
  static const char *const yes[] = {"true", "yes", "on"};
  static const char *const no[] = {"false", "no", "off"};
  if (!n || n->kind != MN_CFG_SCALAR)
    return MN_EINVAL;
  for (size_t i = 0; i < 3; i++) {
    if (strcasecmp(n->value, yes[i]) == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(n->value, no[i]) == 0) {
      *out = 0;
      return 0;
    }
  }
  return MN_EINVAL;
}
