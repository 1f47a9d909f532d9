/* The dashboard's static files (docs/dashboard.md), compiled into the
 * daemon from ui/ at build time (cmake/embed_ui.cmake): nothing is read
 * from disk or the network at run time. */
#ifndef MN_API_UI_H
#define MN_API_UI_H

#include <stddef.h>

struct mn_ui_asset {
  const char *path; /* "/ui/app.js"; the index is "/ui/" */
  const char *content_type;
  const unsigned char *data;
  size_t len;
};

extern const struct mn_ui_asset mn_ui_assets[];
extern const size_t mn_ui_n_assets;

/* The asset a request path names ("/ui" and "/ui/" are the index), or NULL. */
const struct mn_ui_asset *mn_ui_find(const char *path);

/* The headers every dashboard response carries: a strict Content Security
 * Policy (only the daemon's own scripts, styles and API), no framing, no
 * sniffing, no referrer. */
#define MN_UI_CSP                                                                       \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "     \
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

#endif
