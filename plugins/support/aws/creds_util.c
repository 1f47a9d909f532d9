/* creds_util.c — helpers the credentials sources share: errors, logging,
 * the clock, ISO 8601 times, and the JSON answer of the metadata endpoints. */
#include "creds_source.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int creds_fail(struct mn_provider_error *err, int code, const char *fmt, ...) {
  va_list ap;
  if (!err)
    return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

void creds_log(const struct creds_ctx *ctx, int level, const char *fmt, ...) {
  char line[512];
  va_list ap;
  if (!ctx->host || !ctx->host->log)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  ctx->host->log(ctx->host, level, "%s", line);
}

int64_t creds_now_us(const struct creds_ctx *ctx) {
  struct timespec ts;
  if (ctx->host && ctx->host->now_us)
    return ctx->host->now_us();
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (**p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return 0;
}

int creds_parse_time(const char *s, int64_t *us_out) {
  struct tm tm = {0};
  int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
  int64_t frac_us = 0, scale = 100000;
  const char *p = s;
  time_t t;

  if (!s || digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
      digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
    return -1;
  p++;
  if (digits(&p, 2, &hour) || *p++ != ':' || digits(&p, 2, &min) || *p++ != ':' ||
      digits(&p, 2, &sec))
    return -1;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return -1;
    for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac_us += (*p - '0') * scale;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p++ == '+' ? 1 : -1;
    if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
      return -1;
  } else {
    return -1;
  }
  if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
    return -1;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  t = timegm(&tm);
  if (t == (time_t)-1)
    return -1;
  t -= sign * (oh * 3600 + om * 60);
  *us_out = (int64_t)t * 1000000 + frac_us;
  return 0;
}

const char *creds_excerpt(const char *body, size_t len, char *buf, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len && o + 4 < cap; i++) {
    unsigned char ch = (unsigned char)body[i];
    buf[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
  }
  if (o + 4 >= cap && len > o)
    memcpy(buf + o, "...", 3), o += 3;
  buf[o] = '\0';
  return buf;
}

int creds_has_ctl(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

static int copy_field(char *dst, size_t cap, const char *src, const char *name, const char *what,
                      struct mn_provider_error *err) {
  size_t n = strlen(src);
  if (n == 0)
    return creds_fail(err, MN_PROVIDER_E_AUTH, "credentials from %s: %s is empty", what, name);
  if (n >= cap)
    return creds_fail(err, MN_PROVIDER_E_AUTH,
                      "credentials from %s: %s is too long (%zu bytes, at most %zu)", what, name,
                      n, cap - 1);
  if (creds_has_ctl(src))
    return creds_fail(err, MN_PROVIDER_E_AUTH,
                      "credentials from %s: %s holds a control character", what, name);
  memcpy(dst, src, n + 1);
  return 0;
}

int creds_set(struct mn_aws_creds *out, const char *access_key, const char *secret_key,
              const char *session_token, int64_t expires_us, const char *what,
              struct mn_provider_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = copy_field(out->access_key, sizeof out->access_key, access_key, "the access key id",
                       what, err)) ||
      (rc = copy_field(out->secret_key, sizeof out->secret_key, secret_key,
                       "the secret access key", what, err)))
    goto fail;
  if (session_token && *session_token &&
      (rc = copy_field(out->session_token, sizeof out->session_token, session_token,
                       "the session token", what, err)))
    goto fail;
  out->expires_us = expires_us;
  return 0;
fail:
  memset(out, 0, sizeof *out);
  return rc;
}

static const char *json_str(json_t *root, const char *key) {
  json_t *v = json_object_get(root, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int creds_from_json(const char *body, size_t len, const char *what, struct mn_aws_creds *out,
                    struct mn_provider_error *err) {
  static const char *const keys[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
  const char *vals[4];
  json_error_t jerr;
  json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
  const char *code;
  int64_t expires = 0;
  int rc;

  if (!root)
    return creds_fail(err, MN_PROVIDER_E_AUTH, "%s answered malformed JSON: %s (at offset %d)",
                      what, jerr.text, jerr.position);
  if (!json_is_object(root)) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH, "%s answered JSON that is not an object", what);
    goto out;
  }
  /* The instance metadata service adds "Code": "Success". */
  code = json_str(root, "Code");
  if (code && strcmp(code, "Success") != 0) {
    const char *msg = json_str(root, "Message");
    rc = creds_fail(err, MN_PROVIDER_E_AUTH, "%s answered Code \"%.64s\"%s%.200s", what, code,
                    msg ? ": " : "", msg ? msg : "");
    goto out;
  }
  for (size_t i = 0; i < 4; i++) {
    vals[i] = json_str(root, keys[i]);
    if (!vals[i] || !*vals[i]) {
      rc = creds_fail(err, MN_PROVIDER_E_AUTH, "%s answered no %s (or not a string)", what,
                      keys[i]);
      goto out;
    }
  }
  if (creds_parse_time(vals[3], &expires)) {
    rc = creds_fail(err, MN_PROVIDER_E_AUTH,
                    "%s answered an Expiration that is not an ISO 8601 time: \"%.64s\"", what,
                    vals[3]);
    goto out;
  }
  rc = creds_set(out, vals[0], vals[1], vals[2], expires, what, err);
out:
  json_decref(root);
  return rc;
}

int creds_read_small_file(const char *path, size_t max, char **out) {
  char *buf = NULL;
  size_t len = 0;
  ssize_t n;
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

  if (fd < 0)
    return -errno;
  if (!(buf = malloc(max + 1))) {
    rc = -ENOMEM;
    goto out;
  }
  while (len <= max && (n = read(fd, buf + len, max + 1 - len)) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      goto out;
    }
    len += (size_t)n;
  }
  if (len > max) {
    rc = -EFBIG;
    goto out;
  }
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                     buf[len - 1] == '\t'))
    len--;
  buf[len] = '\0';
  *out = buf;
  buf = NULL;
out:
  free(buf);
  close(fd);
  return rc;
}
