/* test_ecs_creds.c — the AWS credentials chain (plugins/support/aws) without a
 * network: the environment source, the shared credentials/config files,
 * the chain's order and its "no credentials" message, ISO 8601 times, the
 * JSON and XML answer readers, and the checks made before any request.
 * test_ecs_creds_sim.c covers the HTTP sources against tests/sims/aws_creds.
 *
 * The program links the toolkit's mn_plugin_aws (tests/CMakeLists.txt);
 * every test starts from an environment without AWS_* variables and with
 * HOME in a fresh temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/creds.h"
#include "aws/creds_source.h"
#include "aws/creds_xml.h"

static const char *const aws_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_DISABLED"};

static char home[256];

static void write_file(const char *name, const char *text) {
  char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", home, name);
  assert_non_null(f = fopen(path, "w"));
  fputs(text, f);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof aws_vars / sizeof aws_vars[0]; i++)
    unsetenv(aws_vars[i]);
  snprintf(home, sizeof home, "/tmp/mn-creds-test-XXXXXX");
  if (!mkdtemp(home))
    return -1;
  setenv("HOME", home, 1);
  /* No instance metadata unless a test asks for it: this machine may be an
   * EC2 instance, and the chain must not find its role. */
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  return 0;
}

static int teardown(void **state) {
  char cmd[300];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
  return system(cmd) == 0 ? 0 : -1;
}

/* Builds a chain from the current environment and gets credentials once. */
static int get_once(const char *profile, struct mn_aws_creds *out, struct mn_provider_error *err) {
  struct mn_aws_creds_config cfg = {.profile = profile, .region = "eu-west-1"};
  struct mn_aws_creds_chain *c = NULL;
  int rc = mn_aws_creds_chain_new(&cfg, NULL, &c, err);
  if (rc)
    return rc;
  rc = mn_aws_creds_get(c, out, err);
  mn_aws_creds_chain_free(c);
  return rc;
}

static void assert_contains(const char *hay, const char *needle) {
  if (!strstr(hay, needle))
    fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* ---- environment ---- */

static void test_env_with_session_token(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "env/secret+key", 1);
  setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAENVEXAMPLE");
  assert_string_equal(cr.secret_key, "env/secret+key");
  assert_string_equal(cr.session_token, "env-session-token");
  assert_int_equal(cr.expires_us, 0);
}

static void test_env_without_token_and_partial(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.session_token, "");

  unsetenv("AWS_SECRET_ACCESS_KEY");
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");

  /* a control character would end up in an HTTP header */
  setenv("AWS_SECRET_ACCESS_KEY", "bad\r\nX-Injected: 1", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "control character");
}

static void test_env_wins_over_files(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  write_file("credentials", "[default]\naws_access_key_id = AKIAFILE\n"
                            "aws_secret_access_key = filesecret\n");
  setenv("AWS_SHARED_CREDENTIALS_FILE", "~/credentials", 1);
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAFILE"); /* "~/" expanded */
  setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAENV");
  /* ...but a profile named in the provider's configuration outranks them */
  assert_int_equal(get_once("default", &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAFILE");
  setenv("AWS_PROFILE", "default", 1); /* AWS_PROFILE does not */
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAENV");
}

/* ---- shared files ---- */

static void test_files_default_paths_and_comments(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  char dir[300];
  (void)state;
  snprintf(dir, sizeof dir, "%s/.aws", home);
  assert_int_equal(mkdir(dir, 0700), 0);
  write_file(".aws/credentials",
             "# a comment\n"
             "; another\n"
             "[other]\n"
             "aws_access_key_id=AKIAOTHER\n"
             "aws_secret_access_key=othersecret\n"
             "\n"
             "  [ default ]   # trailing comment\n"
             "aws_access_key_id = AKIADEFAULT   ; inline comment\n"
             "aws_secret_access_key = def/secret+key==\n"
             "aws_session_token = FwoGZXIvYXdzEJr//////////wEaDM\n"
             "s3 =\n"
             "  max_concurrent_requests = 20\n");
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIADEFAULT");
  assert_string_equal(cr.secret_key, "def/secret+key==");
  assert_string_equal(cr.session_token, "FwoGZXIvYXdzEJr//////////wEaDM");
  assert_int_equal(cr.expires_us, 0);

  /* the profile from the config, then AWS_PROFILE */
  assert_int_equal(get_once("other", &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAOTHER");
  setenv("AWS_PROFILE", "other", 1);
  assert_int_equal(get_once(NULL, &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIAOTHER");
  assert_int_equal(get_once("default", &cr, &err), 0); /* the config wins over AWS_PROFILE */
  assert_string_equal(cr.access_key, "AKIADEFAULT");
}

static void test_files_config_profile_sections(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  write_file("config", "[default]\nregion = us-east-1\n"
                       "[profile dev]\nregion = eu-west-1\n"
                       "aws_access_key_id = AKIACONFIGDEV\n"
                       "aws_secret_access_key = configsecret\n"
                       "[dev]\naws_access_key_id = AKIAWRONGSECTION\n"
                       "aws_secret_access_key = wrong\n"
                       "[profile   spaced  ]\naws_access_key_id = AKIASPACED\n"
                       "aws_secret_access_key = x\n");
  write_file("credentials", "[spaced]\naws_secret_access_key = fromcredentials\n");
  setenv("AWS_CONFIG_FILE", home, 1);
  { /* AWS_CONFIG_FILE names a directory: a clear error */
    assert_int_equal(get_once("dev", &cr, &err), MN_PROVIDER_E_AUTH);
    assert_contains(err.msg, "cannot read");
  }
  char path[400];
  snprintf(path, sizeof path, "%s/config", home);
  setenv("AWS_CONFIG_FILE", path, 1);
  snprintf(path, sizeof path, "%s/credentials", home);
  setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
  assert_int_equal(get_once("dev", &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIACONFIGDEV"); /* [profile dev], not [dev] */
  /* the credentials file overrides a key of the config file's profile */
  assert_int_equal(get_once("spaced", &cr, &err), 0);
  assert_string_equal(cr.access_key, "AKIASPACED");
  assert_string_equal(cr.secret_key, "fromcredentials");

  /* [default] in the config with only a region is no source: the chain moves on */
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "no AWS credentials");
}

static void test_files_errors(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  char path[400];
  (void)state;
  snprintf(path, sizeof path, "%s/credentials", home);
  setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
  write_file("credentials", "[p]\naws_access_key_id = AKIAONLY\n");
  assert_int_equal(get_once("p", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "credentials:2: profile \"p\" sets aws_access_key_id but not "
                           "aws_secret_access_key");

  assert_int_equal(get_once("missing", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "profile \"missing\" not found in");

  write_file("credentials", "[p]\naws_access_key_id = A\nthis line is wrong\n");
  assert_int_equal(get_once("p", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "credentials:3: expected \"key = value\"");

  write_file("credentials", "[p\naws_access_key_id = A\n");
  assert_int_equal(get_once("p", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "credentials:1: a section header must end with ']'");

  write_file("credentials", "[p]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
                            "source_profile = base\n");
  assert_int_equal(get_once("p", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "credentials:2: profile \"p\" uses role_arn, which the AWS "
                           "credentials chain does not support");

  write_file("credentials", "[p]\ncredential_process = /bin/creds\n");
  assert_int_equal(get_once("p", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "uses credential_process");

  write_file("credentials", "[p]\nregion = x\n");
  assert_int_equal(get_once("p", &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "profile \"p\" holds no credentials");
}

/* ---- the chain ---- */

static void test_no_source_message(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  assert_contains(err.msg, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN");
}

static void test_bad_region_and_partial_web_identity(void **state) {
  struct mn_aws_creds_config cfg = {.region = "eu west/1"};
  struct mn_aws_creds_chain *c = (void *)1;
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  assert_int_equal(mn_aws_creds_chain_new(&cfg, NULL, &c, &err), MN_PROVIDER_E_INVALID);
  assert_null(c);
  assert_contains(err.msg, "region \"eu west/1\" is not an AWS region name");

  setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/x", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not");

  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "cannot read the web identity token file \"/nonexistent/token\"");

  write_file("token", "header.payload.signature\n");
  char path[400];
  snprintf(path, sizeof path, "%s/token", home);
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
  setenv("AWS_ROLE_SESSION_NAME", "no spaces allowed", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "role session name \"no spaces allowed\" is invalid");
}

static void test_container_full_uri_rules(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  (void)state;
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "plain http is allowed only to a loopback address");
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "not a url at all", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "is not a URL");
  /* 169.254.170.23 (EKS Pod Identity) and loopback are allowed; port 9 on
   * loopback refuses the connection: a TRANSIENT network error */
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/v1/creds", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_TRANSIENT);
  assert_contains(err.msg, "ECS container credentials endpoint");
  /* a token file that cannot be read */
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/tok", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_contains(err.msg, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
}

static void test_imds_unreachable_is_no_source(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  struct timespec a, b;
  (void)state;
  unsetenv("AWS_EC2_METADATA_DISABLED");
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  clock_gettime(CLOCK_MONOTONIC, &b);
  assert_contains(err.msg, "no AWS credentials");
  assert_contains(err.msg, "EC2 instance metadata:");
  assert_true(b.tv_sec - a.tv_sec < 3);
  setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
  assert_int_equal(get_once(NULL, &cr, &err), MN_PROVIDER_E_AUTH);
  assert_null(strstr(err.msg, "EC2 instance metadata:"));
}

/* ---- readers ---- */

static void test_parse_time(void **state) {
  int64_t us;
  (void)state;
  assert_int_equal(creds_parse_time("1970-01-01T00:00:00Z", &us), 0);
  assert_int_equal(us, 0);
  assert_int_equal(creds_parse_time("2024-02-29T12:34:56Z", &us), 0);
  assert_int_equal(us, INT64_C(1709210096) * 1000000);
  assert_int_equal(creds_parse_time("2024-02-29T12:34:56.250Z", &us), 0);
  assert_int_equal(us, INT64_C(1709210096) * 1000000 + 250000);
  assert_int_equal(creds_parse_time("2024-02-29T14:34:56+02:00", &us), 0);
  assert_int_equal(us, INT64_C(1709210096) * 1000000);
  static const char *const bad[] = {"",  "2024-02-29", "2024-02-29T12:34:56", "tomorrow",
                                    "2024-13-01T00:00:00Z", "2024-02-29T12:34:56Zjunk",
                                    "2024-02-29T12:34:56.Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(creds_parse_time(bad[i], &us), -1);
}

static void test_json_reader(void **state) {
  struct mn_aws_creds cr;
  struct mn_provider_error err = {0};
  const char *ok = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\","
                   "\"Token\":\"t\",\"Expiration\":\"2030-01-01T00:00:00Z\"}";
  (void)state;
  assert_int_equal(creds_from_json(ok, strlen(ok), "x", &cr, &err), 0);
  assert_string_equal(cr.access_key, "ASIA1");
  assert_string_equal(cr.session_token, "t");
  assert_int_equal(cr.expires_us, INT64_C(1893456000) * 1000000);
  static const struct {
    const char *body, *msg;
  } bad[] = {
      {"{\"AccessKeyId\":", "malformed JSON"},
      {"[1]", "not an object"},
      {"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":\"t\"}", "no Expiration"},
      {"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":5,\"Token\":\"t\",\"Expiration\":\"x\"}",
       "no SecretAccessKey"},
      {"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":\"x\"}",
       "not an ISO 8601 time: \"x\""},
      {"{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no\"}",
       "Code \"AssumeRoleUnauthorizedAccess\": no"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(creds_from_json(bad[i].body, strlen(bad[i].body), "x", &cr, &err),
                     MN_PROVIDER_E_AUTH);
    assert_contains(err.msg, bad[i].msg);
  }
}

static void test_xml_reader(void **state) {
  char out[64];
  const char *a, *b;
  (void)state;
  const char *doc = "<?xml version=\"1.0\"?>\n<R xmlns=\"https://x/\"><Result>\n"
                    "  <Credentials>\n    <AccessKeyId> AK&amp;&lt;&gt;&quot;&apos;&#65;&#x42;"
                    "&#x20AC; </AccessKeyId>\n    <Empty/>\n  </Credentials>\n"
                    "<CredentialsX><AccessKeyId>no</AccessKeyId></CredentialsX></Result></R>";
  const char *end = doc + strlen(doc);
  assert_int_equal(creds_xml_section(doc, end, "Credentials", &a, &b), 0);
  assert_int_equal(creds_xml_text(a, b, "AccessKeyId", out, sizeof out), 0);
  assert_string_equal(out, "AK&<>\"'AB\xe2\x82\xac");
  assert_int_equal(creds_xml_text(a, b, "Empty", out, sizeof out), 0);
  assert_string_equal(out, "");
  assert_int_equal(creds_xml_text(a, b, "Missing", out, sizeof out), CREDS_XML_ABSENT);
  /* the whole document holds two AccessKeyId: refused, not guessed */
  assert_int_equal(creds_xml_text(doc, end, "AccessKeyId", out, sizeof out),
                   CREDS_XML_MALFORMED);
  /* too long for the buffer */
  assert_int_equal(creds_xml_text(a, b, "AccessKeyId", out, 4), CREDS_XML_MALFORMED);
  static const char *const bad[] = {
      "<C><K>a<b/>c</K></C>",          /* markup inside a text element */
      "<C><K><![CDATA[x]]></K></C>",   /* CDATA */
      "<C><!-- <K>x</K> --><K>y</K></C>", /* comment */
      "<C><K>&nbsp;</K></C>",          /* unknown entity */
      "<C><K>&#0;</K></C>",            /* NUL */
      "<C><K>&#xD800;</K></C>",        /* a surrogate */
      "<C><K>x</C>",                   /* unclosed */
      "<C><K>a&amp</K></C>",           /* unterminated entity */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = creds_xml_text(bad[i], bad[i] + strlen(bad[i]), "K", out, sizeof out);
    if (rc != CREDS_XML_MALFORMED)
      fail_msg("case %zu (%s): %d", i, bad[i], rc);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_env_with_session_token),
      T(test_env_without_token_and_partial),
      T(test_env_wins_over_files),
      T(test_files_default_paths_and_comments),
      T(test_files_config_profile_sections),
      T(test_files_errors),
      T(test_no_source_message),
      T(test_bad_region_and_partial_web_identity),
      T(test_container_full_uri_rules),
      T(test_imds_unreachable_is_no_source),
      T(test_parse_time),
      T(test_json_reader),
      T(test_xml_reader),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
