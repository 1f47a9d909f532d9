/* names.c — names within ECS's rules (see names.h). */
#include "names.h"

#include "name_hash.h"

#include <stdio.h>
#include <string.h>

#define PART_MAX 100

static int family_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

static size_t put_part(char *out, const char *s) {
  size_t n = 0;
  for (; s && s[n] && n < PART_MAX; n++)
    out[n] = family_char(s[n]) ? s[n] : '-';
  return n;
}

int mn_ecs_family(const char *cluster_id, const char *project, const char *function, char *out,
                  size_t size) {
  char hash[9];
  char in[3 * 1100];
  const char *parts[3] = {cluster_id ? cluster_id : "", project ? project : "",
                          function ? function : ""};
  size_t len = 0;

  /* hash input: the three names, each NUL-terminated (cut, not ambiguous) */
  for (int i = 0; i < 3; i++) {
    size_t n = strnlen(parts[i], 1024);
    memcpy(in + len, parts[i], n);
    len += n;
    in[len++] = '\0';
  }
  if (size < MN_ECS_FAMILY_MAX + 1 || mn_name_hash(in, len, 8, hash) != 0)
    return -1;
  size_t at = 0;
  memcpy(out, "multinode-", 10);
  at = 10;
  at += put_part(out + at, project);
  out[at++] = '-';
  at += put_part(out + at, function);
  snprintf(out + at, size - at, "-%s", hash);
  return 0;
}

int mn_ecs_client_token(const char *execution_id, char *out, size_t size) {
  size_t n = strlen(execution_id);
  int ok = n > 0 && n <= MN_ECS_TOKEN_MAX;
  for (size_t i = 0; ok && i < n; i++)
    ok = (unsigned char)execution_id[i] >= 33 && (unsigned char)execution_id[i] <= 126;
  if (ok) {
    if (n + 1 > size)
      return -1;
    memcpy(out, execution_id, n + 1);
    return 0;
  }
  return size < 65 ? -1 : mn_name_hash(execution_id, n, 64, out);
}

int mn_ecs_started_by(const char *cluster_id, char *out, size_t size) {
  int n = snprintf(out, size, "multinode/%.*s", MN_ECS_STARTED_BY_MAX - 10,
                   cluster_id ? cluster_id : "");
  if (n < 0 || (size_t)n >= size)
    return -1;
  for (int i = 10; i < n; i++)
    if (!family_char(out[i]))
      out[i] = '-';
  return 0;
}

int mn_ecs_image_valid(const char *image) {
  size_t n = image ? strlen(image) : 0;
  if (n == 0 || n > MN_ECS_IMAGE_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!family_char(image[i]) && !strchr(":./@#", image[i]))
      return 0;
  return 1;
}

int mn_ecs_log_stream(const char *prefix, const char *task_arn, char *out, size_t size) {
  const char *slash = strrchr(task_arn, '/');
  const char *id = slash ? slash + 1 : task_arn;
  int n = snprintf(out, size, "%s/main/%s", prefix, id);
  return n < 0 || (size_t)n >= size || !*id ? -1 : 0;
}
