/* creds_files.c — static keys from the shared files: ~/.aws/credentials
 * ([NAME] sections) and ~/.aws/config ([profile NAME], [default]); the
 * paths come from AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE. A key in
 * the credentials file wins over the same key in the config file. A
 * profile that names role_arn + web_identity_token_file assumes that role
 * through STS; other kinds of profiles (assume role from another profile,
 * SSO, credential_process) are refused with a message saying so. */
#include "creds_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1024 * 1024)

enum {
  K_ACCESS_KEY,
  K_SECRET_KEY,
  K_SESSION_TOKEN,
  K_ROLE_ARN,
  K_TOKEN_FILE,
  K_SESSION_NAME,
  K_SOURCE_PROFILE,
  K_CREDENTIAL_SOURCE,
  K_CREDENTIAL_PROCESS,
  K_SSO_SESSION,
  K_SSO_START_URL,
  N_KEYS
};

static const char *const key_names[N_KEYS] = {
    "aws_access_key_id",  "aws_secret_access_key", "aws_session_token",
    "role_arn",           "web_identity_token_file", "role_session_name",
    "source_profile",     "credential_source",     "credential_process",
    "sso_session",        "sso_start_url"};

/* What the two files say about one profile. */
struct profile {
  char *val[N_KEYS];
  const char *file[N_KEYS]; /* where each value came from */
  int line[N_KEYS];
  int found; /* the section exists in either file */
};

static char *trim(char *s) {
  char *e;
  while (*s == ' ' || *s == '\t')
    s++;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
    *--e = '\0';
  return s;
}

/* Cuts a comment that starts with whitespace + '#' or ';' (keys and tokens
 * never hold whitespace, so this cannot cut into a value). */
static void cut_comment(char *s) {
  for (char *p = s; *p; p++)
    if ((*p == '#' || *p == ';') && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
      *p = '\0';
      return;
    }
}

/* Does the section header (inside the brackets, trimmed) name the profile? */
static int section_matches(char *sect, const char *profile, int is_config) {
  if (!is_config)
    return strcmp(sect, profile) == 0;
  if (strcmp(profile, "default") == 0 && strcmp(sect, "default") == 0)
    return 1;
  if (strncmp(sect, "profile", 7) != 0 || (sect[7] != ' ' && sect[7] != '\t'))
    return 0;
  return strcmp(trim(sect + 7), profile) == 0;
}

/* Reads one file's section for the profile into p (overwriting what is
 * there). A missing file is no error. */
static int read_file(const char *path, const char *profile, int is_config, struct profile *p,
                     struct mn_provider_error *err) {
  char *buf = NULL, *line, *next;
  int in = 0, nested = 0, lineno = 0, rc;

  if ((rc = creds_read_small_file(path, MAX_FILE, &buf)) != 0)
    return rc == -ENOENT ? 0
                         : creds_fail(err, MN_PROVIDER_E_AUTH, "cannot read \"%.200s\": %s",
                                      path, rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
  for (line = buf; line; line = next) {
    char *s, *eq, *key, *val;
    int indented = *line == ' ' || *line == '\t';
    if ((next = strchr(line, '\n')))
      *next++ = '\0';
    lineno++;
    s = trim(line);
    if (!*s || *s == '#' || *s == ';')
      continue;
    if (*s == '[') {
      char *close;
      cut_comment(s);
      s = trim(s);
      close = s + strlen(s) - 1;
      if (*close != ']') {
        rc = creds_fail(err, MN_PROVIDER_E_AUTH, "%s:%d: a section header must end with ']'",
                        path, lineno);
        goto out;
      }
      *close = '\0';
      in = section_matches(trim(s + 1), profile, is_config);
      p->found |= in;
      nested = 0;
      continue;
    }
    if (indented && nested)
      continue; /* a nested setting ("s3 =" followed by indented lines) */
    if (!(eq = strchr(s, '='))) {
      rc = creds_fail(err, MN_PROVIDER_E_AUTH, "%s:%d: expected \"key = value\", found \"%.60s\"",
                      path, lineno, s);
      goto out;
    }
    *eq = '\0';
    key = trim(s);
    val = eq + 1;
    cut_comment(val);
    val = trim(val);
    nested = !*val;
    if (!in)
      continue;
    for (size_t k = 0; k < N_KEYS; k++) {
      if (strcmp(key, key_names[k]) != 0)
        continue;
      free(p->val[k]);
      if (!(p->val[k] = strdup(val))) {
        rc = creds_fail(err, MN_PROVIDER_E_TRANSIENT, "out of memory");
        goto out;
      }
      p->file[k] = path;
      p->line[k] = lineno;
    }
  }
  rc = 0;
out:
  free(buf);
  return rc;
}

/* The path from the variable, or ~/.aws/<name>; "~/" expands to $HOME. */
static int file_path(const struct creds_ctx *ctx, const char *var, const char *name, char *out,
                     size_t cap) {
  const char *home = ctx->env.home;
  if (var && strncmp(var, "~/", 2) != 0)
    return snprintf(out, cap, "%s", var) < (int)cap ? 0 : -1;
  if (!home)
    return -1;
  if (var)
    return snprintf(out, cap, "%s%s", home, var + 1) < (int)cap ? 0 : -1;
  return snprintf(out, cap, "%s/.aws/%s", home, name) < (int)cap ? 0 : -1;
}

static int from_profile(const struct creds_ctx *ctx, const struct profile *p, const char *cpath,
                        const char *fpath, struct mn_aws_creds *out,
                        struct mn_provider_error *err) {
  char what[600];
  const char *name = ctx->profile;

  if (p->val[K_ACCESS_KEY] || p->val[K_SECRET_KEY]) {
    int k = p->val[K_ACCESS_KEY] ? K_SECRET_KEY : K_ACCESS_KEY;
    int have = p->val[K_ACCESS_KEY] ? K_ACCESS_KEY : K_SECRET_KEY;
    if (!p->val[k])
      return creds_fail(err, MN_PROVIDER_E_AUTH, "%s:%d: profile \"%s\" sets %s but not %s",
                        p->file[have], p->line[have], name, key_names[have], key_names[k]);
    snprintf(what, sizeof what, "profile \"%s\" (%s:%d)", name, p->file[K_ACCESS_KEY],
             p->line[K_ACCESS_KEY]);
    return creds_set(out, p->val[K_ACCESS_KEY], p->val[K_SECRET_KEY], p->val[K_SESSION_TOKEN], 0,
                     what, err);
  }
  if (p->val[K_ROLE_ARN] && p->val[K_TOKEN_FILE])
    return creds_assume_role_with_web_identity(ctx, p->val[K_ROLE_ARN], p->val[K_TOKEN_FILE],
                                               p->val[K_SESSION_NAME], out, err);
  for (int k = K_ROLE_ARN; k < N_KEYS; k++)
    if (p->val[k] && k != K_SESSION_NAME)
      return creds_fail(err, MN_PROVIDER_E_AUTH,
                        "%s:%d: profile \"%s\" uses %s, which the AWS credentials chain "
                        "does not support; give it aws_access_key_id and aws_secret_access_key, or "
                        "role_arn with web_identity_token_file",
                        p->file[k], p->line[k], name, key_names[k]);
  if (!ctx->profile_chosen)
    return CREDS_SKIP; /* e.g. a [default] that only sets the region */
  return creds_fail(err, MN_PROVIDER_E_AUTH,
                    "profile \"%s\" holds no credentials (aws_access_key_id) in \"%s\" or \"%s\"",
                    name, cpath, fpath);
}

int creds_files_fetch(const struct creds_ctx *ctx, struct mn_aws_creds *out,
                      struct mn_provider_error *err) {
  char cpath[4096], fpath[4096];
  struct profile p = {0};
  int have_c, have_f, rc;

  have_c = file_path(ctx, ctx->env.shared_credentials_file, "credentials", cpath, sizeof cpath) == 0;
  have_f = file_path(ctx, ctx->env.config_file, "config", fpath, sizeof fpath) == 0;
  if (!have_c)
    snprintf(cpath, sizeof cpath, "~/.aws/credentials");
  if (!have_f)
    snprintf(fpath, sizeof fpath, "~/.aws/config");
  if ((have_f && (rc = read_file(fpath, ctx->profile, 1, &p, err))) ||
      (have_c && (rc = read_file(cpath, ctx->profile, 0, &p, err))))
    goto out;
  if (!p.found) {
    rc = ctx->profile_chosen
             ? creds_fail(err, MN_PROVIDER_E_AUTH, "profile \"%s\" not found in \"%s\" or \"%s\"",
                          ctx->profile, cpath, fpath)
             : CREDS_SKIP;
    goto out;
  }
  rc = from_profile(ctx, &p, cpath, fpath, out, err);
out:
  for (int k = 0; k < N_KEYS; k++) {
    if (p.val[k])
      memset(p.val[k], 0, strlen(p.val[k]));
    free(p.val[k]);
  }
  return rc;
}
