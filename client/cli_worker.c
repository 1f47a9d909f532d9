/* multinode progress TEXT: inside a worker, record the current execution's
 * progress (PUT .../update). Prints nothing on stdout: a function's stdout
 * is its result. */
#include <stdlib.h>

#include "cli.h"

int cli_cmd_progress(struct cli *cli) {
  static const char *const needed[] = {"MULTINODE_PROJECT_NAME", "MULTINODE_VERSION_ID",
                                       "MULTINODE_FUNCTION_NAME", "MULTINODE_INVOCATION_ID",
                                       "MULTINODE_EXECUTION_ID"};
  struct mn_client_error err;
  const char *text;
  char *owned = NULL;
  int rc;

  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (!cli_env(needed[i]))
      return cli_usage_error(cli, "progress works only inside a worker: %s is not set",
                             needed[i]);
  struct mn_client_execution_ref ex = {
      cli_env("MULTINODE_PROJECT_NAME"), cli_env("MULTINODE_VERSION_ID"),
      cli_env("MULTINODE_FUNCTION_NAME"), cli_env("MULTINODE_INVOCATION_ID"),
      cli_env("MULTINODE_EXECUTION_ID")};

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
