/* A YAML document parsed once (libyaml events) into a tree whose every node
 * remembers where it came from: file, line and column (1-based), and its key
 * path ("providers.docker.socket", "providers.ecs.subnets[1]"), so any later
 * check can say exactly what is wrong where.
 *
 * Aliases and anchors are refused (a config has no need for them and they
 * allow cycles); so are duplicate keys, non-scalar keys and a second
 * document. Nesting deeper than MN_CFG_MAX_DEPTH is refused.
 *
 * Shared by the daemon's config, the providers' sections, the CLI's project
 * manifest and the Kubernetes provider's kubeconfig (docs/architecture.md,
 * "The common library"). */
#ifndef MN_COMMON_YAML_TREE_H
#define MN_COMMON_YAML_TREE_H

#include <stddef.h>

#include "multinode/common/error.h"

#define MN_CFG_MAX_DEPTH 64

enum mn_cfg_kind { MN_CFG_SCALAR = 0, MN_CFG_MAPPING, MN_CFG_SEQUENCE };

struct mn_cfg_node;

struct mn_cfg_pair {
  struct mn_cfg_node *key; /* always a scalar */
  struct mn_cfg_node *value;
};

struct mn_cfg_node {
  enum mn_cfg_kind kind;
  const char *file; /* the tree's file name (borrowed from the tree) */
  int line, col;    /* 1-based position of the node's first character */
  char *path;       /* key path; "" for the root */
  /* scalar */
  char *value;      /* the text ("" for an empty scalar) */
  size_t value_len;
  int plain;        /* unquoted (plain) style: only plain scalars can be null */
  /* mapping */
  struct mn_cfg_pair *pairs;
  size_t n_pairs;
  /* sequence */
  struct mn_cfg_node **items;
  size_t n_items;
  char **strings; /* when every item is a scalar: their values, else NULL */
};

struct mn_cfg_tree {
  char *file;
  struct mn_cfg_node *root; /* an empty mapping for an empty document */
};

/* Parses the file at PATH (named PATH in messages). A syntax error reads
 * "FILE:LINE:COL: problem". 0, MN_EIO (unreadable) or MN_ECONFIG. */
int mn_cfg_tree_load_file(const char *path, struct mn_cfg_tree **out, struct mn_error *err);
/* Parses TEXT[0..len) as if it came from the file NAME. */
int mn_cfg_tree_load_string(const char *name, const char *text, size_t len,
                            struct mn_cfg_tree **out, struct mn_error *err);
void mn_cfg_tree_free(struct mn_cfg_tree *tree); /* NULL-safe */

/* The value of KEY in MAP (a mapping node), or NULL. */
const struct mn_cfg_node *mn_cfg_node_get(const struct mn_cfg_node *map, const char *key);
/* The node at a dotted PATH below NODE ("postgres.dsn"), or NULL when a
 * step is absent or not a mapping. */
const struct mn_cfg_node *mn_cfg_node_find(const struct mn_cfg_node *node, const char *path);
/* The pair holding KEY in MAP, or NULL (to get the key's own position). */
const struct mn_cfg_pair *mn_cfg_node_pair(const struct mn_cfg_node *map, const char *key);

/* A plain empty scalar, "~", "null", "Null" or "NULL". */
int mn_cfg_node_is_null(const struct mn_cfg_node *node);

/* Scalar conversions; 0 or MN_EINVAL (node NULL, not a scalar, bad text). */
int mn_cfg_scalar_int(const struct mn_cfg_node *node, long long *out);
int mn_cfg_scalar_bool(const struct mn_cfg_node *node, int *out);

#endif
