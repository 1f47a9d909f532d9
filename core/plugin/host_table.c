/* The services a provider gets in its struct mn_host. */
#include <stdarg.h>
#include <stdio.h>

#include "plugin/handle.h"
#include "plugin/provider_keys.h"
#include "util/clock.h"
#include "util/log.h"

__attribute__((format(printf, 3, 4))) static void host_log(const struct mn_host *host, int level,
                                                           const char *fmt, ...) {
  const struct mn_provider_handle *h = host->host_private;
  if (level < MN_HOST_LOG_ERROR)
    level = MN_HOST_LOG_ERROR;
  if (level > MN_HOST_LOG_DEBUG)
    level = MN_HOST_LOG_DEBUG;
  if (level > mn_log_threshold)
    return;
  va_list ap;
  va_start(ap, fmt);
  mn_log_vemit((enum mn_log_level)level, h->log_tag, fmt, ap);
  va_end(ap);
}

__attribute__((format(printf, 3, 4))) static int host_error(struct mn_provider_error *err,
                                                            int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void host_wake(const struct mn_host *host) {
  const struct mn_provider_handle *h = host->host_private;
  struct mn_plugins *ps = h->owner;
  if (!ps)
    return;
  pthread_mutex_lock(&ps->waker_mu);
  if (ps->waker)
    ps->waker(ps->waker_ctx);
  pthread_mutex_unlock(&ps->waker_mu);
}

void mn_host_table_init(struct mn_provider_handle *h) {
  struct mn_host *t = &h->host;
  t->abi_version = MN_PROVIDER_ABI_VERSION;
  t->struct_size = (uint32_t)sizeof *t;
  t->host_private = h;
  t->log = host_log;
  t->now_us = mn_now_us;
  t->error = host_error;
  t->config_has = mn_host_config_has;
  t->config_string = mn_host_config_string;
  t->config_int = mn_host_config_int;
  t->config_bool = mn_host_config_bool;
  t->config_duration = mn_host_config_duration;
  t->config_strings = mn_host_config_strings;
  t->config_check_keys = mn_host_config_check_keys;
  t->config_error = mn_host_config_error;
  t->wake = host_wake;
  t->config_load = mn_host_config_load;
}
