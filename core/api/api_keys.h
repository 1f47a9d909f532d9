/* Operator keys at run time (docs/security.md, "Operator keys"): the
 * daemon's server.api_key (an admin key named "api_key") and the entries of
 * server.api_keys, each kept only as its SHA-256. A presented key is hashed
 * once and compared with every entry in constant time (fixed-length
 * digests: nothing leaks the length, and every entry is compared). The
 * table is reference-counted so that SIGHUP can swap in a new one while
 * requests that matched the old one finish. */
#ifndef MN_API_API_KEYS_H
#define MN_API_API_KEYS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct mn_api_request;
struct mn_api_response;

struct mn_api_key_entry {
  char *name;
  unsigned char sha256[32];
  enum mn_api_role role;
  char **projects; /* NULL: every project */
  size_t n_projects;
};

struct mn_api_keys {
  atomic_int refs;
  struct mn_api_key_entry *items;
  size_t n;
};

/* The table of CFG (one reference); NULL when out of memory. */
struct mn_api_keys *mn_api_keys_new(const struct mn_config *cfg);
/* A table of one admin key (tests, embedders). */
struct mn_api_keys *mn_api_keys_new_admin(const char *key);
struct mn_api_keys *mn_api_keys_ref(struct mn_api_keys *t);
void mn_api_keys_unref(struct mn_api_keys *t); /* NULL-safe */

/* The entry KEY matches, or NULL. */
const struct mn_api_key_entry *mn_api_keys_match(const struct mn_api_keys *t, const char *key,
                                                 size_t len);

/* Whether E's role and projects allow REQ: 0, or non-zero with res filled
 * (403 and a detail naming the key and the role). */
int mn_api_role_check(const struct mn_api_key_entry *e, const struct mn_api_request *req,
                      struct mn_api_response *res);
/* Whether E may see PROJECT (no project list: every project). */
bool mn_api_key_allows_project(const struct mn_api_key_entry *e, const char *project);

#endif
