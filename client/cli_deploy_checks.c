/* What `multinode deploy` and `upgrade` check against the daemon before
 * sending a version (issue 19): under a provider that runs container
 * images (any type but "local", as GET /providers tells), a function needs
 * an image, and its command must not name a file of the project folder on
 * this machine (it is not in the container) unless the provider mounts it
 * (--allow-host-paths: e.g. the Docker provider's `binds`); a provider the
 * daemon does not run is refused here too (the daemon's own 422 comes only
 * once the project exists). Every problem is reported, then nothing is
 * sent. */
#include <stdio.h>
#include <string.h>

#include "deploy_checks.h"

static const char *type_of(const json_t *list, const char *provider) {
  size_t i;
  json_t *item;
  json_array_foreach(json_object_get(list, "providers"), i, item) {
    const char *name = mn_client_json_str(item, "name");
    if (name && strcmp(name, provider) == 0)
      return mn_client_json_str(item, "type");
  }
  return NULL;
}

static const char *host_path_in(const struct mn_client_function_spec *f, const char *dir) {
  for (size_t k = 0; f->command && f->command[k]; k++)
    if (dir && *dir && strstr(f->command[k], dir))
      return f->command[k];
  return NULL;
}

int cli_deploy_check(struct cli *cli, const struct mn_manifest *m) {
  struct mn_client_error err;
  json_t *list = NULL;
  size_t problems = 0;
  if (mn_client_providers_list(cli->client, &list, &err) < 0)
    return CLI_OK; /* an older daemon: it checks what it can */
  const char *def = mn_client_json_str(list, "default");
  for (size_t i = 0; i < m->n_functions; i++) {
    const struct mn_client_function_spec *f = &m->functions[i];
    const char *provider = f->provider ? f->provider : def;
    const char *type = provider ? type_of(list, provider) : NULL;
    if (!type) { /* the daemon refuses it too, but only once the project exists */
      char names[512] = "";
      size_t k, used = 0;
      json_t *item;
      json_array_foreach(json_object_get(list, "providers"), k, item) {
        int n = snprintf(names + used, sizeof names - used, "%s\"%s\"", used ? ", " : "",
                         mn_client_json_str(item, "name") ? mn_client_json_str(item, "name")
                                                          : "?");
        if (n > 0 && (size_t)n < sizeof names - used)
          used += (size_t)n;
      }
      fprintf(stderr, "error: %s: functions.%s.provider: the daemon has no provider \"%s\" "
                      "(it has %s)\n",
              m->file, f->function_name, provider ? provider : "", used ? names : "none");
      problems++;
      continue;
    }
    if (strcmp(type, "local") == 0)
      continue;
    const char *image = f->docker_image_override && *f->docker_image_override
                            ? f->docker_image_override
                            : m->image;
    if (!image || !*image) {
      fprintf(stderr,
              "error: %s: functions.%s: provider \"%s\" (type %s) runs container images, and "
              "this function has none\n  hint: set `image:` (for the version or the "
              "function), or `provider: local` for a command of this machine\n",
              m->file, f->function_name, provider, type);
      problems++;
    }
    const char *path = host_path_in(f, m->project_dir);
    if (path && !cli_flag(cli, "--allow-host-paths")) {
      fprintf(stderr,
              "error: %s: functions.%s.command: \"%s\" is a file of this machine, which a "
              "container of provider \"%s\" (type %s) does not have\n  hint: put it in the "
              "image, use `provider: local`, or mount the folder into the containers (the "
              "Docker provider's `binds`) and deploy with --allow-host-paths\n",
              m->file, f->function_name, path, provider, type);
      problems++;
    }
  }
  json_decref(list);
  if (!problems)
    return CLI_OK;
  return cli_fail("%s: %zu problem%s with the daemon's providers; nothing was sent", m->file,
                  problems, problems == 1 ? "" : "s");
}
