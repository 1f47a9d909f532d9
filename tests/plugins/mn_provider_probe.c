/* Test plugin: reports, as its "log", what the host handed it at init (the
 * host table's fields), so the host test can check them. Its launch
 * misbehaves on purpose for two execution ids: "weird" returns an error code
 * outside the ABI, "empty" succeeds without filling the worker reference. */
#include <string.h>

#include "stub_ops.h"

struct probe {
  char lines[8][600];
  int n;
};

static int probe_init(const struct mn_cfg_node *config, const struct mn_host *host,
                      void **state_out, struct mn_provider_error *err) {
  (void)config;
  struct probe *p = calloc(1, sizeof *p);
  if (!p)
    return host->error(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
  snprintf(p->lines[p->n++], sizeof p->lines[0], "provider_name=%s", host->provider_name);
  snprintf(p->lines[p->n++], sizeof p->lines[0], "public_url=%s", host->public_url);
  snprintf(p->lines[p->n++], sizeof p->lines[0], "api_key=%s", host->api_key);
  snprintf(p->lines[p->n++], sizeof p->lines[0], "data_dir=%s", host->data_dir);
  snprintf(p->lines[p->n++], sizeof p->lines[0], "cluster_id=%s", host->cluster_id);
  snprintf(p->lines[p->n++], sizeof p->lines[0], "abi=%u.%u struct_size_ok=%d",
           (unsigned)MN_PROVIDER_ABI_MAJOR_OF(host->abi_version),
           (unsigned)MN_PROVIDER_ABI_MINOR_OF(host->abi_version),
           host->struct_size >= sizeof(struct mn_host) && host->config_error != NULL);
  snprintf(p->lines[p->n++], sizeof p->lines[0], "now_positive=%d", host->now_us() > 0);
  host->log(host, MN_HOST_LOG_DEBUG, "probe ready");
  *state_out = p;
  return 0;
}

static void probe_shutdown(void *state) { free(state); }

static int probe_logs(void *state, const struct mn_worker_ref *ref, const char *offset,
                      int max_lines, struct mn_log_page *page, struct mn_provider_error *err) {
  struct probe *p = state;
  (void)ref;
  (void)offset;
  (void)err;
  for (int i = 0; i < p->n && i < max_lines; i++)
    page->add_line(page, p->lines[i], strlen(p->lines[i]));
  /* one line with invalid UTF-8, to check the host's replacement */
  if (max_lines > p->n)
    page->add_line(page, "bad \xff byte", 10);
  return 0;
}

static int probe_launch(void *state, const struct mn_launch_spec *spec,
                        struct mn_worker_ref *ref_out, struct mn_provider_error *err) {
  if (strcmp(spec->execution_id, "weird") == 0) {
    snprintf(err->msg, sizeof err->msg, "weird");
    return 7;
  }
  if (strcmp(spec->execution_id, "empty") == 0)
    return 0;
  return stub_launch(state, spec, ref_out, err);
}

static const struct mn_provider table = {
    .abi_version = MN_PROVIDER_ABI_VERSION,
    .struct_size = sizeof(struct mn_provider),
    .name = "probe",
    .caps = MN_PROVIDER_CAP_LOGS,
    .init = probe_init,
    .shutdown = probe_shutdown,
    .launch = probe_launch,
    .inspect_many = stub_inspect_many,
    .terminate = stub_terminate,
    .logs = probe_logs,
};

const struct mn_provider *mn_provider_entry(void) { return &table; }
