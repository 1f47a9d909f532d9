/* Fuzzes the configuration loader: the input is a multinode.yaml. It is
 * parsed in memory into the YAML tree (whose shape is checked), then loaded
 * from a file with mn_config_load_report exactly as the daemon loads it
 * (core/config/ has no in-memory entry point for the whole load). Whatever
 * the text, nothing may crash or leak, and the promises of config.h must
 * hold: a failure leaves the config zeroed with a report, a success names an
 * existing default provider. A broken promise aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "multinode/common/yaml_tree.h"

#include "fuzz_check.h"

static char tmp_path[64];
static int tmp_fd = -1;

static void remove_tmp(void) {
  if (tmp_fd >= 0) {
    close(tmp_fd);
    unlink(tmp_path);
    tmp_fd = -1;
  }
}

/* One temporary file per process, rewritten for every input. */
static int write_tmp(const uint8_t *data, size_t size) {
  if (tmp_fd < 0) {
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_path, sizeof tmp_path, "%s/mn-fuzz-config-XXXXXX",
             dir && *dir && strlen(dir) < 32 ? dir : "/tmp");
    if ((tmp_fd = mkstemp(tmp_path)) < 0)
      return -1;
    atexit(remove_tmp);
    /* the secrets that the seed configs read through `<key>_env` */
    setenv("MN_TEST_API_KEY", "key-from-env", 0);
    setenv("MN_TEST_DSN_VALUE", "host=/run/pg dbname=mn", 0);
    setenv("MULTINODE_API_KEY", "change-me", 0);
  }
  if (ftruncate(tmp_fd, 0) != 0)
    return -1;
  for (size_t done = 0; done < size;) {
    ssize_t n = pwrite(tmp_fd, data + done, size - done, (off_t)done);
    if (n <= 0)
      return -1;
    done += (size_t)n;
  }
  return 0;
}

/* Every node keeps a position and a path; scalars hold their text. */
static void check_node(const struct mn_cfg_node *n, int depth) {
  CHECK(n != NULL);
  CHECK(depth <= MN_CFG_MAX_DEPTH + 1);
  CHECK(n->path != NULL && n->file != NULL);
  CHECK(n->line >= 1 && n->col >= 1);
  switch (n->kind) {
  case MN_CFG_SCALAR:
    CHECK(n->value != NULL && n->value[n->value_len] == '\0');
    (void)mn_cfg_node_is_null(n);
    long long i;
    int b;
    (void)mn_cfg_scalar_int(n, &i);
    (void)mn_cfg_scalar_bool(n, &b);
    break;
  case MN_CFG_MAPPING:
    for (size_t k = 0; k < n->n_pairs; k++) {
      CHECK(n->pairs[k].key != NULL && n->pairs[k].key->kind == MN_CFG_SCALAR);
      check_node(n->pairs[k].key, depth + 1);
      check_node(n->pairs[k].value, depth + 1);
      CHECK(mn_cfg_node_get(n, n->pairs[k].key->value) != NULL);
    }
    break;
  case MN_CFG_SEQUENCE:
    for (size_t k = 0; k < n->n_items; k++) {
      check_node(n->items[k], depth + 1);
      if (n->strings)
        CHECK(n->strings[k] != NULL);
    }
    break;
  default:
    CHECK(!"a node of an unknown kind");
  }
}

static void fuzz_tree(const uint8_t *data, size_t size) {
  struct mn_cfg_tree *tree = NULL;
  struct mn_error err = {0};
  int rc = mn_cfg_tree_load_string("fuzz.yaml", (const char *)data, size, &tree, &err);
  if (rc != 0) {
    CHECK(tree == NULL);
    CHECK(err.msg[0] != '\0');
    return;
  }
  CHECK(tree != NULL && tree->root != NULL);
  check_node(tree->root, 0);
  (void)mn_cfg_node_find(tree->root, "providers.default");
  (void)mn_cfg_node_find(tree->root, "store.postgres.dsn");
  mn_cfg_tree_free(tree);
}

static void fuzz_load(void) {
  struct mn_config cfg;
  struct mn_error err = {0};
  char *report = NULL;
  int rc = mn_config_load_report(tmp_path, &cfg, &report, &err);
  if (rc != 0) {
    static const struct mn_config zero;
    CHECK(rc < 0);
    CHECK(err.msg[0] != '\0');
    CHECK(report != NULL || rc == MN_ENOMEM);
    CHECK(memcmp(&cfg, &zero, sizeof cfg) == 0);
  } else {
    CHECK(report == NULL);
    CHECK(cfg.tree != NULL && cfg.file != NULL);
    CHECK(cfg.server.listen_host != NULL && cfg.server.api_key != NULL);
    CHECK(cfg.server.public_url != NULL && cfg.data_dir != NULL);
    CHECK(cfg.providers.default_provider != NULL);
    const struct mn_provider_section *def = mn_config_provider(&cfg, NULL);
    CHECK(def != NULL && strcmp(def->name, cfg.providers.default_provider) == 0);
    for (size_t i = 0; i < cfg.providers.n_items; i++)
      CHECK(mn_config_provider(&cfg, cfg.providers.items[i].name) != NULL);
  }
  free(report);
  mn_config_release(&cfg);
  mn_config_release(&cfg); /* idempotent, as promised */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_tree(data, size);
  if (write_tmp(data, size) != 0) {
    fprintf(stderr, "fuzz_config: cannot write the temporary file \"%s\"\n", tmp_path);
    abort();
  }
  fuzz_load();
  return 0;
}
