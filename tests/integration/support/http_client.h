/* A small libcurl client for the API tests: one keep-alive handle per
 * client, JSON bodies in and out. */
#ifndef MN_TEST_HTTP_CLIENT_H
#define MN_TEST_HTTP_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct http_client;

/* base_url e.g. "http://127.0.0.1:5000"; api_key NULL sends no Authorization. */
struct http_client *http_client_new(const char *base_url, const char *api_key);
void http_client_free(struct http_client *c);

/* METHOD PATH with an optional JSON body (text, sent as is). Fills *status
 * and *json (the parsed response body, NULL when it is not JSON; the caller
 * decrefs). Returns 0, or -1 when no HTTP response came back. */
int http_request(struct http_client *c, const char *method, const char *path, const char *body,
                 long *status, json_t **json);

/* Same with full control: body of body_len bytes (NULL: none), extra header
 * lines ("Name: value", NULL-terminated list or NULL), with or without the
 * client's Authorization header; *raw (if not NULL) gets the body text. */
int http_request_ex(struct http_client *c, const char *method, const char *path,
                    const char *body, size_t body_len, const char *const *headers, bool auth,
                    long *status, json_t **json, char **raw);

/* Number of TCP connections the client has opened so far (keep-alive check). */
long http_client_connects(struct http_client *c);

/* Sends `request` as raw bytes over a new TCP connection to 127.0.0.1:port
 * and reads until the server closes or timeout_ms passes. *response gets what
 * was read (NUL-terminated). Returns 0, or -1 on a socket error or timeout. */
int http_raw_exchange(int port, const char *request, size_t len, int timeout_ms,
                      char **response);

/* printf into a static-free heap string (caller frees). */
char *http_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
