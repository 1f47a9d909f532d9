#include "multinode/common/error.h"

#include <stdio.h>
#include <string.h>

struct errinfo {
  int code;
  int status;
  const char *name;
  const char *detail;
};

static const struct errinfo errtab[] = {
#define MN_X_ROW(code, status, name, detail) {MN_##code, status, name, detail},
    MN_ERROR_MAP(MN_X_ROW)
#undef MN_X_ROW
};

static const struct errinfo *lookup(int code) {
  for (size_t i = 0; i < sizeof errtab / sizeof errtab[0]; i++)
    if (errtab[i].code == code)
      return &errtab[i];
  return NULL;
}

const char *mn_strerror(int code) {
  if (code == MN_OK)
    return "ok";
  const struct errinfo *e = lookup(code);
  return e ? e->detail : "Unknown error";
}

const char *mn_errname(int code) {
  if (code == MN_OK)
    return "Ok";
  const struct errinfo *e = lookup(code);
  return e ? e->name : "UnknownError";
}

int mn_error_http_status(int code) {
  if (code == MN_OK)
    return 200;
  const struct errinfo *e = lookup(code);
  return e ? e->status : 500;
}

int mn_vfail(struct mn_error *err, int code, const char *fmt, va_list ap) {
  if (err) {
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  }
  return code;
}

int mn_fail(struct mn_error *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mn_vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

void mn_error_clear(struct mn_error *err) {
  if (err) {
    err->code = MN_OK;
    err->msg[0] = '\0';
  }
}
