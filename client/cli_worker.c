/* multinode progress TEXT / multinode heartbeat: inside a worker, record
 * the current execution's progress (PUT .../update), or only that it is
 * alive (PUT .../heartbeat). Print nothing on stdout: a function's stdout is
 * its result. */
#include <stdlib.h>

#include "cli.h"

/* The running execution, from the worker's environment. */
static int worker_execution(const struct cli *cli, const char *what,
                            struct mn_client_execution_ref *ex) {
  static const char *const needed[] = {MN_WORKER_ENV_PROJECT_NAME, MN_WORKER_ENV_VERSION_ID,
                                       MN_WORKER_ENV_FUNCTION_NAME, MN_WORKER_ENV_INVOCATION_ID,
                                       MN_WORKER_ENV_EXECUTION_ID};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (!cli_env(needed[i]))
      return cli_usage_error(cli, "%s works only inside a worker: %s is not set", what,
                             needed[i]);
  *ex = (struct mn_client_execution_ref){
      cli_env(MN_WORKER_ENV_PROJECT_NAME), cli_env(MN_WORKER_ENV_VERSION_ID),
      cli_env(MN_WORKER_ENV_FUNCTION_NAME), cli_env(MN_WORKER_ENV_INVOCATION_ID),
      cli_env(MN_WORKER_ENV_EXECUTION_ID)};
  return CLI_OK;
}

int cli_cmd_heartbeat(struct cli *cli) {
  struct mn_client_execution_ref ex;
  struct mn_client_error err;
  int rc;
  if ((rc = worker_execution(cli, "heartbeat", &ex)) != CLI_OK ||
      (rc = cli_connect(cli)) != CLI_OK)
    return rc;
  if (mn_client_execution_heartbeat(cli->client, &ex, NULL, &err) < 0)
    return cli_report(cli, &err, "cannot send the heartbeat of execution %s", ex.execution_id);
  return CLI_OK;
}

int cli_cmd_progress(struct cli *cli) {
  struct mn_client_execution_ref ex;
  struct mn_client_error err;
  const char *text;
  char *owned = NULL;
  int rc;

  if ((rc = worker_execution(cli, "progress", &ex)) != CLI_OK)
    return rc;

  if ((rc = cli_text_arg(cli->args[0], &text, &owned)) != CLI_OK)
    return rc;
  if ((rc = cli_connect(cli)) != CLI_OK)
    goto done;
  if (mn_client_execution_update(cli->client, &ex, text, NULL, &err) < 0)
    rc = cli_report(cli, &err, "cannot record progress of execution %s", ex.execution_id);
done:
  free(owned);
  return rc;
}
