/* JSON for the errors libmicrohttpd answers by itself.
 *
 * A request line or headers too large for the connection's memory (414,
 * 431), a malformed request, Content-Length or chunked encoding (400, 413),
 * an HTTP version it does not speak (505): libmicrohttpd 0.9 answers these
 * before the application sees the request, with HTML pages compiled in, and
 * has no option to change them. It makes each page with
 * MHD_create_response_from_buffer(MHD_RESPMEM_PERSISTENT), called through
 * its PLT, so the definition below takes the library's place (ELF symbol
 * interposition, as allocators replace malloc): it recognises those pages
 * and answers {"detail": ...} as application/json instead; every other
 * response is made as the library would. mn_mhd_errors_interposed() tells
 * whether it is in effect (a statically linked or -Bsymbolic library keeps
 * its own pages; the tests would say so). */
#include "api/mhd_errors.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

struct page {
  const char *marker; /* a piece of the library's page */
  const char *json;
};

/* Most specific first: several pages share a title. */
static const struct page pages[] = {
    {"header was too big", "{\"detail\":\"The request line or its headers are too large\"}"},
    {"too large value for <b>Content-Length",
     "{\"detail\":\"The request body is too large\"}"},
    {"wrong value for <b>Content-Length", "{\"detail\":\"The Content-Length header is invalid\"}"},
    {"chunked encoding was syntactically incorrect",
     "{\"detail\":\"The chunked encoding of the body is malformed\"}"},
    {"chunk size used in your HTTP chunked encoded request is too large",
     "{\"detail\":\"A chunk of the body is too large\"}"},
    {"Host:&quot; header required", "{\"detail\":\"The Host header is required\"}"},
    {"HTTP version is too old", "{\"detail\":\"This HTTP version is not supported\"}"},
    {"HTTP version is not supported", "{\"detail\":\"This HTTP version is not supported\"}"},
    {"syntactically incorrect", "{\"detail\":\"The request is malformed\"}"},
    {"Internal server error", "{\"detail\":\"Internal Server Error\"}"},
};
static const char fallback[] = "{\"detail\":\"The request cannot be processed\"}";

static void free_copy(void *p) { free(p); }

/* The library's HTML error page this buffer is, as JSON; NULL when it is
 * not one. */
static const char *replacement(size_t size, const char *buffer) {
  static const char prefix[] = "<html><head><title>";
  if (size < sizeof prefix - 1 || memcmp(buffer, prefix, sizeof prefix - 1) != 0)
    return NULL;
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    size_t m = strlen(pages[i].marker);
    for (size_t k = 0; k + m <= size; k++)
      if (memcmp(buffer + k, pages[i].marker, m) == 0)
        return pages[i].json;
  }
  return fallback;
}

__attribute__((visibility("default"))) struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode) {
  const char *json = mode == MHD_RESPMEM_PERSISTENT ? replacement(size, buffer) : NULL;
  if (json) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(strlen(json), (void *)json, NULL);
    if (r)
      MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return r;
  }
  switch (mode) {
  case MHD_RESPMEM_PERSISTENT:
    return MHD_create_response_from_buffer_with_free_callback(size, buffer, NULL);
  case MHD_RESPMEM_MUST_FREE:
    return MHD_create_response_from_buffer_with_free_callback(size, buffer, free_copy);
  case MHD_RESPMEM_MUST_COPY:
  default: {
    void *copy = malloc(size ? size : 1);
    if (!copy)
      return NULL;
    memcpy(copy, buffer, size);
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(size, copy, free_copy);
    if (!r)
      free(copy);
    return r;
  }
  }
}

bool mn_mhd_errors_interposed(void) {
  /* the library's calls resolve through the global scope; so does this */
  void *seen = dlsym(RTLD_DEFAULT, "MHD_create_response_from_buffer");
  return seen == (void *)MHD_create_response_from_buffer;
}
