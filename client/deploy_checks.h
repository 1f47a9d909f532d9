/* Checks of a manifest against the daemon's providers (cli_deploy_checks.c). */
#ifndef MN_CLI_DEPLOY_CHECKS_H
#define MN_CLI_DEPLOY_CHECKS_H

#include "cli.h"
#include "manifest.h"

/* CLI_OK, or CLI_FAIL after printing every problem. Needs a connection. */
int cli_deploy_check(struct cli *cli, const struct mn_manifest *m);

#endif
