/* `multinoded --migrate`: applies the schema and exits, for a release step
 * that runs before the daemons of a new version start (docs/deploy.md). */
#ifndef MN_MIGRATE_CMD_H
#define MN_MIGRATE_CMD_H

#include "config/config.h"

/* Connects to the configured Postgres (or starts the embedded cluster under
 * data_dir and stops it again), applies every pending migration, prints the
 * schema version reached. Returns the process exit status (0 or 1). */
int mn_migrate_command(const struct mn_config *cfg);

#endif
