/* Internal to core/plugin: a provider's declared keys (struct mn_config_key,
 * provider.h "Declarative configuration") checked against its YAML section,
 * stored into the provider's struct, and printed as a reference table. */
#ifndef MN_PLUGIN_PROVIDER_KEYS_H
#define MN_PLUGIN_PROVIDER_KEYS_H

#include <stdint.h>
#include <stdio.h>

#include "multinode/common/config_report.h"
#include "multinode/provider.h"

/* Checks every key of SECTION (a mapping; anything else has no keys)
 * against KEYS and adds one line per problem to REP; with OUT, stores each
 * value, or default, at its key's offset in OUT. */
void mn_provider_keys_walk(const struct mn_cfg_node *section, const struct mn_config_key *keys,
                           void *out, struct mn_cfg_report *rep);

/* host->config_load (provider.h). */
int mn_host_config_load(const struct mn_cfg_node *config, const struct mn_config_key *keys,
                        void *out, struct mn_provider_error *err);

/* "1d", "2h30m", "90s" -> "1m30s", "0": SECONDS as the duration grammar
 * reads it. */
void mn_provider_keys_fmt_duration(int64_t seconds, char *buf, size_t size);
/* "64MiB", "1GiB", "512": BYTES in the largest whole unit. */
void mn_provider_keys_fmt_bytes(uint64_t bytes, char *buf, size_t size);

/* K's bounds: "between 1s and 1h" (WORDS) or "1s to 1h"; "at least 1s"
 * when max is INT64_MAX. */
void mn_provider_keys_fmt_bounds(const struct mn_config_key *k, int words, char *buf,
                                 size_t size);

/* Prints KEYS as a Markdown table, each key as PREFIX.name (provider_reference.c). */
void mn_provider_keys_print(FILE *out, const char *prefix, const struct mn_config_key *keys);

#endif
