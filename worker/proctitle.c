#include "proctitle.h"

#include <string.h>

extern char **environ;

static char *area;       /* argv[0]: where the command line starts */
static size_t area_size; /* argv and the environment strings after it */
static size_t args_size; /* the original argv alone, NULs included */

void mn_proctitle_init(char **argv) {
  char *end;
  if (!argv || !argv[0])
    return;
  end = argv[0];
  for (size_t i = 0; argv[i]; i++)
    if (argv[i] == end)
      end = argv[i] + strlen(argv[i]) + 1;
  args_size = (size_t)(end - argv[0]);
  for (size_t i = 0; environ && environ[i]; i++)
    if (environ[i] == end)
      end = environ[i] + strlen(environ[i]) + 1;
  area = argv[0];
  area_size = (size_t)(end - argv[0]);
}

void mn_proctitle_set(char *const *argv) {
  size_t used = 0;
  /* The text must cover the last byte of the original arguments (so the
   * kernel reads it as a title) and end with a NUL inside the area. */
  if (!area || area_size <= args_size)
    return;
  for (size_t i = 0; argv[i] && used + 1 < area_size; i++) {
    size_t n = strlen(argv[i]);
    if (i > 0)
      area[used++] = ' ';
    if (n > area_size - 1 - used)
      n = area_size - 1 - used;
    memcpy(area + used, argv[i], n);
    used += n;
  }
  while (used < args_size)
    area[used++] = ' ';
  memset(area + used, 0, area_size - used);
}
