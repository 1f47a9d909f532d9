/* Operator keys and their roles (api_keys.h). */
#include "api/api_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api/codec.h"
#include "api/routes.h"

static void entry_release(struct mn_api_key_entry *e) {
  free(e->name);
  for (size_t i = 0; i < e->n_projects; i++)
    free(e->projects[i]);
  free(e->projects);
}

void mn_api_keys_unref(struct mn_api_keys *t) {
  if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
    return;
  for (size_t i = 0; i < t->n; i++)
    entry_release(&t->items[i]);
  OPENSSL_cleanse(t->items, t->n * sizeof *t->items);
  free(t->items);
  free(t);
}

struct mn_api_keys *mn_api_keys_ref(struct mn_api_keys *t) {
  atomic_fetch_add(&t->refs, 1);
  return t;
}

static struct mn_api_keys *table_new(size_t n) {
  struct mn_api_keys *t = calloc(1, sizeof *t);
  if (t && !(t->items = calloc(n ? n : 1, sizeof *t->items))) {
    free(t);
    return NULL;
  }
  if (t)
    atomic_init(&t->refs, 1);
  return t;
}

static int add_admin(struct mn_api_keys *t, const char *key) {
  struct mn_api_key_entry *e = &t->items[t->n];
  if (!(e->name = strdup("api_key")))
    return -1;
  SHA256((const unsigned char *)key, strlen(key), e->sha256);
  e->role = MN_ROLE_ADMIN;
  t->n++;
  return 0;
}

struct mn_api_keys *mn_api_keys_new_admin(const char *key) {
  struct mn_api_keys *t = table_new(1);
  if (t && add_admin(t, key) < 0) {
    mn_api_keys_unref(t);
    return NULL;
  }
  return t;
}

struct mn_api_keys *mn_api_keys_new(const struct mn_config *cfg) {
  struct mn_api_keys *t = table_new(cfg->server.n_api_keys + 1);
  if (!t)
    return NULL;
  if (cfg->server.api_key && cfg->server.api_key[0] && add_admin(t, cfg->server.api_key) < 0)
    goto oom;
  for (size_t i = 0; i < cfg->server.n_api_keys; i++) {
    const struct mn_config_api_key *k = &cfg->server.api_keys[i];
    struct mn_api_key_entry *e = &t->items[t->n];
    if (!(e->name = strdup(k->name)))
      goto oom;
    t->n++;
    memcpy(e->sha256, k->sha256, sizeof e->sha256);
    e->role = k->role;
    if (k->n_projects) {
      if (!(e->projects = calloc(k->n_projects, sizeof *e->projects)))
        goto oom;
      for (size_t j = 0; j < k->n_projects; j++) {
        if (!(e->projects[j] = strdup(k->projects[j])))
          goto oom;
        e->n_projects++;
      }
    }
  }
  return t;
oom:
  mn_api_keys_unref(t);
  return NULL;
}

const struct mn_api_key_entry *mn_api_keys_match(const struct mn_api_keys *t, const char *key,
                                                 size_t len) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const struct mn_api_key_entry *found = NULL;
  SHA256((const unsigned char *)key, len, digest);
  for (size_t i = 0; i < t->n; i++) /* every entry, whatever matched */
    if (CRYPTO_memcmp(digest, t->items[i].sha256, sizeof digest) == 0 && !found)
      found = &t->items[i];
  OPENSSL_cleanse(digest, sizeof digest);
  return found;
}

bool mn_api_key_allows_project(const struct mn_api_key_entry *e, const char *project) {
  if (!e->projects)
    return true;
  for (size_t i = 0; project && i < e->n_projects; i++)
    if (strcmp(e->projects[i], project) == 0)
      return true;
  return false;
}


/* What an invoker may do beyond reading. */
static bool invoker_op(const char *op) {
  static const char *const ops[] = {"create_invocation", "cancel_invocation", NULL};
  for (size_t i = 0; ops[i]; i++)
    if (strcmp(ops[i], op) == 0)
      return true;
  return false;
}

/* Reads no role may do but admin: the registry password; and the workers'
 * own calls, which take an execution's key. */
static bool admin_only(const char *op) {
  static const char *const ops[] = {"get_container_repository_credentials", "start_execution",
                                    "update_execution", "finish_execution",
                                    "heartbeat_execution", "get_events", NULL};
  for (size_t i = 0; ops[i]; i++)
    if (strcmp(ops[i], op) == 0)
      return true;
  return false;
}

int mn_api_role_check(const struct mn_api_key_entry *e, const struct mn_api_request *req,
                      struct mn_api_response *res) {
  const char *op = req->route->operation_id;
  static const char *const role_names[] = {"admin", "invoker", "reader"};
  const char *role = role_names[e->role];
  if (e->role == MN_ROLE_ADMIN)
    return 0;
  if (admin_only(op))
    return mn_api_reply_forbidden(res, "key \"%s\" (role %s) may not %s: it needs the admin role", e->name,
                  role, op);
  bool read = req->route->method == MN_HTTP_GET;
  if (!read && !(e->role == MN_ROLE_INVOKER && invoker_op(op)))
    return mn_api_reply_forbidden(res, "key \"%s\" (role %s) may not %s: %s", e->name, role, op,
                  e->role == MN_ROLE_READER
                      ? "a reader key may only read (GET)"
                      : "an invoker key may start, read, list and cancel invocations and "
                        "read versions and logs");
  const char *project = req->n_params > MN_PARAM_PROJECT ? req->params[MN_PARAM_PROJECT] : NULL;
  if (project && !mn_api_key_allows_project(e, project))
    return mn_api_reply_forbidden(res, "key \"%s\" may not touch project \"%s\"", e->name, project);
  return 0;
}
