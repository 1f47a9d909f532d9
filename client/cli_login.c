/* multinode login / logout: the saved API URL and key. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* Reads one line after a prompt on stderr; hidden keeps it off the screen.
 * Returns 0, or -1 at end of input. */
static int prompt(const char *question, int hidden, char *buf, size_t size) {
  struct termios saved, quiet;
  int echo_off = 0;

  fprintf(stderr, "%s", question);
  fflush(stderr);
  if (hidden && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  char *line = fgets(buf, (int)size, stdin);
  if (echo_off) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputc('\n', stderr);
  }
  if (!line)
    return -1;
  buf[strcspn(buf, "\r\n")] = '\0';
  return 0;
}

int cli_cmd_login(struct cli *cli) {
  struct mn_client_config saved = {0};
  struct mn_client_config fresh = {0};
  struct mn_client_error err;
  char url_buf[2048], key_buf[2048];
  const char *url = cli_get(cli, "--url");
  const char *key = cli_get(cli, "--api-key");
  const char *default_url;
  int rc;

  if (mn_client_config_load_file(&saved, &err) < 0)
    return cli_fail("%s", err.detail);
  if (saved.api_key && !cli_flag(cli, "--force")) {
    rc = cli_fail("you are already logged in to %s: `multinode login --force` replaces the "
                  "saved URL and key (or run `multinode logout` first)",
                  saved.api_url ? saved.api_url : MN_CLIENT_DEFAULT_URL);
    goto done;
  }
  default_url = cli_env(MN_WORKER_ENV_API_URL);
  if (!default_url)
    default_url = saved.api_url ? saved.api_url : MN_CLIENT_DEFAULT_URL;

  if (!url) {
    char question[2200];
    snprintf(question, sizeof question, "Multinode API URL [%s]: ", default_url);
    if (prompt(question, 0, url_buf, sizeof url_buf) < 0 || !url_buf[0])
      snprintf(url_buf, sizeof url_buf, "%s", default_url);
    url = url_buf;
  }
  if (!key) {
    if (prompt("API key: ", 1, key_buf, sizeof key_buf) < 0)
      key_buf[0] = '\0';
    key = key_buf;
  }
  if (!*key) {
    rc = cli_fail("an API key is required: give --api-key KEY or type it at the prompt");
    goto done;
  }

  cli->client = mn_client_new(url, key);
  if (!cli->client) {
    rc = cli_fail("\"%s\" is not a usable URL", url);
    goto done;
  }
  rc = mn_client_projects_list(cli->client, NULL, &err);
  if (rc < 0 && err.code == MN_CLIENT_E_HTTP && err.http_status == 403) {
    rc = cli_fail("%s refused the API key (%s): check it and run `multinode login` again", url,
                  err.detail);
    goto done;
  }
  if (rc < 0) {
    rc = cli_report(cli, &err, "check the API key");
    goto done;
  }

  fresh.api_url = (char *)mn_client_api_url(cli->client);
  fresh.api_key = (char *)key;
  if (mn_client_config_save(&fresh, &err) < 0) {
    rc = cli_fail("%s", err.detail);
    goto done;
  }
  printf("logged in to %s\n", fresh.api_url);
  rc = CLI_OK;
done:
  memset(key_buf, 0, sizeof key_buf);
  mn_client_config_release(&saved);
  return rc;
}

int cli_cmd_logout(struct cli *cli) {
  struct mn_client_config cfg = {0};
  struct mn_client_error err;
  char path[4096];

  if (mn_client_config_path(path, sizeof path, &err) < 0)
    return cli_fail("%s", err.detail);
  if (access(path, F_OK) != 0) {
    printf("not logged in\n");
    return CLI_OK;
  }
  if (mn_client_config_save(&cfg, &err) < 0)
    return cli_fail("%s", err.detail);
  printf("logged out: %s no longer holds an API URL or key\n", path);
  return CLI_OK;
}
