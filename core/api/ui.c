#include "api/ui.h"

#include <string.h>

const struct mn_ui_asset *mn_ui_find(const char *path) {
  if (strcmp(path, "/ui") == 0 || strcmp(path, "/ui/index.html") == 0)
    path = "/ui/";
  for (size_t i = 0; i < mn_ui_n_assets; i++)
    if (strcmp(mn_ui_assets[i].path, path) == 0)
      return &mn_ui_assets[i];
  return NULL;
}
