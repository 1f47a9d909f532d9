/* names.c — Job names, label values and quantities (see names.h). */
#include "names.h"

#include "name_hash.h"

#include <stdio.h>
#include <string.h>

/* The smallest integer >= x - 1e-6 (x > 0): no libm needed. */
static long long ceil_pos(double x) {
  long long n = (long long)x;
  if ((double)n < x - 1e-6)
    n++;
  return n;
}

/* The first 10 hex digits of SHA-256(s). */
static void short_hash(const char *s, char out[11]) {
  if (mn_name_hash(s, strlen(s), 10, out) != 0)
    snprintf(out, 11, "0000000000");
}

static int is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static int is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

void mn_k8s_job_name(const char *execution_id, char out[64]) {
  char buf[64];
  size_t n = 0;
  int changed = 0;
  int len = snprintf(buf, sizeof buf, "mn-%s", execution_id);
  if (len < 0 || (size_t)len >= sizeof buf)
    changed = 1;
  /* lowercase, invalid characters to '-', no runs of '-' */
  char clean[64];
  for (const char *p = execution_id; *p && n < 52 - 3; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') {
      c = (char)(c - 'A' + 'a');
      changed = 1;
    } else if (!is_lower_alnum(c) && c != '-') {
      c = '-';
      changed = 1;
    }
    if (c == '-' && n > 0 && clean[n - 1] == '-') {
      changed = 1;
      continue;
    }
    clean[n++] = c;
  }
  clean[n] = '\0';
  if (n && clean[n - 1] == '-') {
    clean[--n] = '\0';
    changed = 1;
  }
  if (!changed && len > 3 && is_lower_alnum(buf[len - 1])) {
    memcpy(out, buf, (size_t)len + 1);
    return;
  }
  char h[11];
  short_hash(execution_id, h);
  snprintf(out, 64, "mn-%s%s%s", clean, n ? "-" : "", h);
}

int mn_k8s_label_value_valid(const char *s) {
  size_t n = strlen(s);
  if (n == 0)
    return 1;
  if (n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return 0;
  return 1;
}

void mn_k8s_label_value(const char *value, char out[64]) {
  if (mn_k8s_label_value_valid(value)) {
    snprintf(out, 64, "%s", value);
    return;
  }
  char clean[64];
  size_t n = 0;
  for (const char *p = value; *p && n < 52; p++) {
    char c = *p;
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
      c = '_';
    if (n == 0 && !is_alnum(c))
      continue; /* must start alphanumeric */
    clean[n++] = c;
  }
  clean[n] = '\0';
  char h[11];
  short_hash(value, h);
  snprintf(out, 64, "%s%s%s", clean, n ? "-" : "", h);
}

/* value (> 0, at most 1e6) as a quantity: a whole number of `unit`s when
 * it is one, else a number of its 1/per parts (`part`), rounded up. */
static int quantity(double value, int per, const char *unit, const char *part, char *out,
                    size_t size) {
  if (!(value > 0) || value > 1e6)
    return -1;
  long long parts = ceil_pos(value * per);
  if (parts < 1)
    parts = 1;
  if (parts % per == 0)
    snprintf(out, size, "%lld%s", parts / per, unit);
  else
    snprintf(out, size, "%lld%s", parts, part);
  return 0;
}

int mn_k8s_cpu_quantity(double vcpus, char *out, size_t size) {
  return quantity(vcpus, 1000, "", "m", out, size);
}

int mn_k8s_memory_quantity(double memory_gb, char *out, size_t size) {
  return quantity(memory_gb, 1024, "Gi", "Mi", out, size);
}

int mn_k8s_image_valid(const char *ref, char *err, size_t err_size) {
  if (!ref || !ref[0]) {
    snprintf(err, err_size, "no image");
    return 0;
  }
  for (const char *p = ref; *p; p++) {
    char c = *p;
    if (!is_alnum(c) && !strchr("._/:@-", c)) {
      snprintf(err, err_size, "character '%c' is not allowed in an image reference", c);
      return 0;
    }
  }
  /* the repository path: after the registry host (a first component with
   * '.' or ':' or "localhost"), before ":tag" / "@digest" */
  const char *path = ref, *slash = strchr(ref, '/');
  if (slash) {
    size_t n = (size_t)(slash - ref);
    if (memchr(ref, '.', n) || memchr(ref, ':', n) || (n == 9 && !strncmp(ref, "localhost", 9)))
      path = slash + 1;
  }
  const char *end = strchr(path, '@');
  if (!end)
    end = path + strlen(path);
  const char *last = NULL;
  for (const char *p = path; p < end; p++)
    if (*p == '/')
      last = p;
  for (const char *p = last ? last : path; p < end; p++)
    if (*p == ':') {
      end = p; /* the tag */
      break;
    }
  if (end == path) {
    snprintf(err, err_size, "the repository name is empty");
    return 0;
  }
  for (const char *p = path; p < end; p++)
    if (*p >= 'A' && *p <= 'Z') {
      snprintf(err, err_size, "the repository name must be lowercase");
      return 0;
    }
  if (!is_alnum(path[0]) || !is_alnum(end[-1])) {
    snprintf(err, err_size, "the repository name must start and end with a letter or digit");
    return 0;
  }
  return 1;
}
