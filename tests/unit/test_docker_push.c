/* test_docker_push.c — the push's pure parts (client/docker_push.c,
 * compiled in): the engine's progress stream shown on a terminal (each
 * layer's progress overwriting its line) and elsewhere (steps only), the
 * digest read from the final aux object, an error inside a 200 stream, the
 * image name split at its tag (not at a registry port), and X-Registry-Auth
 * as base64url JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../client/docker_push.c"
#include "../client/engine_stream.c"

static const char stream_text[] =
    "{\"status\":\"The push refers to repository [127.0.0.1:5443/m]\"}\n"
    "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"60071ff20dd8\"}\n"
    "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":512,\"total\":2048},"
    "\"progress\":\"[=====>    ]     512B/2.048kB\",\"id\":\"60071ff20dd8\"}\n"
    "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"60071ff20dd8\"}\n"
    "{\"status\":\"p-1: digest: sha256:6ac7e8ea4484b8231e86d606527ab81d966476f16960a06d36855f66c6bb0a84 "
    "size: 736\"}\n"
    "{\"progressDetail\":{},\"aux\":{\"Tag\":\"p-1\",\"Digest\":"
    "\"sha256:6ac7e8ea4484b8231e86d606527ab81d966476f16960a06d36855f66c6bb0a84\",\"Size\":736}}\n";

/* Feeds TEXT in chunks of CHUNK bytes as curl would, through the engine
 * stream's line splitter (client/engine_stream.c); returns what went to
 * stderr. */
static char *feed(struct stream *s, const char *text, size_t chunk) {
  static char out[8192];
  static struct lines l;
  struct mn_engine_post req = {"/", NULL, NULL, 0, 1, on_line, s};
  memset(&l, 0, sizeof l);
  l.req = &req;
  FILE *saved = stderr, *f = tmpfile();
  assert_non_null(f);
  stderr = f;
  for (size_t i = 0, n = strlen(text); i < n; i += chunk) {
    size_t k = n - i < chunk ? n - i : chunk;
    assert_int_equal(on_data((char *)text + i, 1, k, &l), k);
  }
  stderr = saved;
  rewind(f);
  size_t got = fread(out, 1, sizeof out - 1, f);
  out[got] = '\0';
  fclose(f);
  return out;
}

static void test_stream(void **state) {
  (void)state;
  struct stream *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->tty = 1;
  char *out = feed(s, stream_text, 7);
  assert_non_null(strstr(out, "\r60071ff20dd8: Pushing [=====>    ]     512B/2.048kB\033[K"));
  assert_non_null(strstr(out, "\r60071ff20dd8: Pushed\n"));
  assert_string_equal(s->digest,
                      "sha256:6ac7e8ea4484b8231e86d606527ab81d966476f16960a06d36855f66c6bb0a84");
  assert_string_equal(s->error, "");
  memset(s, 0, sizeof *s); /* not a terminal: no progress bars, no \r */
  out = feed(s, stream_text, 4096);
  assert_null(strstr(out, "[=====>"));
  assert_null(strchr(out, '\r'));
  assert_non_null(strstr(out, "60071ff20dd8: Preparing\n"));
  memset(s, 0, sizeof *s); /* an error inside the 200 stream, and no digest */
  feed(s, "{\"status\":\"Preparing\",\"id\":\"a\"}\n{\"errorDetail\":{\"message\":\"unauthorized: "
          "authentication required\"},\"error\":\"unauthorized: authentication required\"}\n",
       5);
  assert_string_equal(s->error, "unauthorized: authentication required");
  assert_string_equal(s->digest, "");
  memset(s, 0, sizeof *s); /* a digest that is not sha256 is not taken */
  feed(s, "{\"aux\":{\"Digest\":\"md5:abc\"}}\n", 64);
  assert_string_equal(s->digest, "");
  free(s);
}

static void test_split_ref(void **state) {
  char repo[64];
  const char *tag;
  (void)state;
  assert_int_equal(split_ref("127.0.0.1:5443/m:p-1", repo, sizeof repo, &tag), 0);
  assert_string_equal(repo, "127.0.0.1:5443/m");
  assert_string_equal(tag, "p-1");
  assert_int_equal(split_ref("127.0.0.1:5443/a/b", repo, sizeof repo, &tag), 0);
  assert_string_equal(repo, "127.0.0.1:5443/a/b");
  assert_string_equal(tag, "latest");
  assert_int_equal(split_ref(":x", repo, sizeof repo, &tag), -1);
  assert_int_equal(split_ref("r.example.com/a-very-long-name-that-does-not-fit-in-64-bytes-at-all:t",
                             repo, sizeof repo, &tag), -1);
}

static void test_auth_header(void **state) {
  (void)state;
  char *h = auth_header("AWS", "p?>?>", "127.0.0.1:5443");
  assert_non_null(h);
  assert_true(strncmp(h, "X-Registry-Auth: ", 17) == 0);
  const char *b64 = h + 17;
  assert_null(strpbrk(b64, "+/")); /* base64url */
  char std[512];
  unsigned char plain[512];
  snprintf(std, sizeof std, "%s", b64);
  for (char *c = std; *c; c++)
    *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
  int n = EVP_DecodeBlock(plain, (unsigned char *)std, (int)strlen(std));
  assert_true(n > 0);
  plain[n] = '\0'; /* padding decodes as NULs, which end the string */
  json_t *j = json_loads((const char *)plain, 0, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "username")), "AWS");
  assert_string_equal(json_string_value(json_object_get(j, "password")), "p?>?>");
  assert_string_equal(json_string_value(json_object_get(j, "serveraddress")), "127.0.0.1:5443");
  json_decref(j);
  free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream),
      cmocka_unit_test(test_split_ref),
      cmocka_unit_test(test_auth_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
