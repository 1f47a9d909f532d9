/* mn-test-stand-in-worker: multinode-worker as the local provider's unit
 * tests need it (they have no daemon to call): `--spawner` runs the real
 * spawner loop (spawner.h); otherwise, and in every spawned child, it
 * replaces itself with its arguments, like `exec "$@"`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../spawner.h"
#include "multinode/spawner.h"

static int run(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
    return 2;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "%s: cannot run \"%s\": %s\n", argv[0], argv[1], strerror(errno));
  return 127;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], MN_SPAWNER_ARG))
    return mn_spawner_main(argv, run);
  return run(argc, argv);
}
