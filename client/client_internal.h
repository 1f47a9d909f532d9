/* Internals shared by the client library's files (not installed).
 * Cross-file internal names use the mn_client__ prefix. */
#ifndef MN_CLIENT_INTERNAL_H
#define MN_CLIENT_INTERNAL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>

#include "multinode/client.h"

struct mn_client {
  char *api_url;     /* without a trailing slash */
  char *auth_header; /* "Authorization: Bearer <key>" or NULL */
  CURL *curl;
  struct curl_slist *headers;
  long connect_timeout_ms;
  long request_timeout_ms;
  int retry;
  long retry_deadline_ms;
  char curl_errbuf[CURL_ERROR_SIZE];
};

/* Fills err (when not NULL) and returns code. */
int mn_client__fail(struct mn_client_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mn_client__error_clear(struct mn_client_error *err);

/* Fills err from an HTTP error response: status plus the body's detail,
 * with the name matched against the catalogue. Returns MN_CLIENT_E_HTTP. */
int mn_client__http_error(struct mn_client_error *err, long status, const char *body,
                          size_t len);

/* A path built from fmt, where each "%s" is replaced by the next argument
 * URL-escaped as one path segment. Heap string or NULL (no memory). */
char *mn_client__path(struct mn_client *c, const char *fmt, ...);

/* A query string builder: appends "?k=v" or "&k=v", escaping both. */
int mn_client__query_add(struct mn_client *c, char **path, const char *key, const char *value);

/* One API call: method ("GET", "POST", "PUT", "DELETE") on path (starting
 * with "/"), with an optional JSON body. On 2xx, *out (when not NULL)
 * receives the parsed body. Applies the client's retry policy. */
int mn_client__call(struct mn_client *c, const char *method, const char *path,
                    const json_t *body, json_t **out, struct mn_client_error *err);

/* mn_client__call on a path from mn_client__path, which it frees; a NULL
 * path means no memory. */
int mn_client__call_path(struct mn_client *c, const char *method, char *path,
                         const json_t *body, json_t **out, struct mn_client_error *err);

/* Sets *out (when not NULL) to NULL; fails with MN_CLIENT_E_INVAL. */
int mn_client__bad_arg(struct mn_client_error *err, json_t **out, const char *what);

/* The base path of a function's endpoints, and its three arguments:
 *   mn_client__path(c, MN_CLIENT_FN_PATH "/invocations/%s", MN_CLIENT_FN_ARGS(fn), id) */
#define MN_CLIENT_FN_PATH "/projects/%s/versions/%s/functions/%s"
#define MN_CLIENT_FN_ARGS(fn)                                                  \
  (fn)->project_name, ((fn)->version_ref && *(fn)->version_ref ? (fn)->version_ref : "latest"), \
      (fn)->function_name

/* Monotonic milliseconds, and a sleep that resumes after signals. */
long long mn_client__now_ms(void);
void mn_client__sleep_ms(long ms);

#endif
