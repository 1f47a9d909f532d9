/* Internal to core/plugin: collects the lines a provider adds to a
 * struct mn_log_page into a JSON array of strings. */
#ifndef MN_PLUGIN_LOG_PAGE_H
#define MN_PLUGIN_LOG_PAGE_H

#include <jansson.h>

#include "multinode/provider.h"

struct mn_log_sink {
  struct mn_log_page page; /* handed to the provider; host_private -> this */
  json_t *lines;
  int max_lines;
  int oom;
};

int mn_log_sink_init(struct mn_log_sink *sink, int max_lines);
void mn_log_sink_release(struct mn_log_sink *sink);

/* A JSON string of TEXT[0..len), with every invalid UTF-8 sequence replaced
 * by U+FFFD. NULL on OOM. */
json_t *mn_json_string_lossy(const char *text, size_t len);

#endif
