/* multinode deploy / upgrade / undeploy (docs/compatibility.md §6.5): a project folder
 * (DIR/multinode.yaml, manifest.h) becomes a new version of a project, and
 * a project is marked for deletion.
 *
 * Flow of deploy and upgrade: read and check the manifest (no daemon
 * needed; every problem is printed as FILE:LINE:COL: key: message) → GET
 * the project → PUT it (deploy, or upgrade --deploy when missing) → POST
 * the version → print its id. A Python project on a container provider
 * gets an image: GET /container_repository_credentials names the registry
 * (the original's flow), the image is built and pushed there, and the
 * version records it by digest (REPOSITORY@sha256:...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "context_tar.h"
#include "deploy_checks.h"
#include "docker_build.h"
#include "docker_push.h"
#include "manifest.h"
#include "multinode/common/limits.h"
#include "multinode/common/utf8.h"
#include "python_project.h"
#include "registry_auth.h"

#define PROJECT_NAME_LIMIT MN_PROJECT_NAME_LENGTH_LIMIT /* the server refuses longer names */

const char cli_deploy_summary[] =
    "deploy a project folder as a new project and print the version id\n"
    "\n"
    "DIR is a folder holding multinode.yaml:\n"
    "\n"
    "  # the default image of every function (for container providers)\n"
    "  image: multinode-worker:local\n"
    "  functions:\n"
    "    NAME:\n"
    "      command: [\"sh\", \"${PROJECT_DIR}/task.sh\"]  # or a string, run with sh -c\n"
    "      provider: local       # default: the daemon's default provider\n"
    "      image: IMAGE          # default: the image above\n"
    "      cpu: 4                # vCPUs; default 0.1, at most 16\n"
    "      memory: 16 GiB        # KiB, MiB or GiB; default 256 MiB, at most 64 GiB\n"
    "      max_retries: 1        # 0 to 50; default 0\n"
    "      max_concurrency: 10   # 1 to 100; default 10\n"
    "      timeout: 1h           # s, m, h, d, e.g. 90s or 1h30m; default 1h, at most 24h\n"
    "      env: {KEY: value}     # extra environment variables\n"
    "\n"
    "${PROJECT_DIR} in command and env values becomes the folder's absolute path;\n"
    "other relative paths are left as they are. A function runs its command with the\n"
    "invocation's input on standard input; its standard output is the result, and\n"
    "`multinode progress`, `multinode start` and `multinode wait` work inside it.\n"
    "\n"
    "The local provider runs the commands on the daemon's machine, so the folder\n"
    "must be there and readable by the daemon; `image` is only recorded, for\n"
    "container providers. When the daemon's provider runs containers, a folder with\n"
    "a Dockerfile and no `image` is built on the Docker Engine of $DOCKER_HOST (the\n"
    "whole folder but .git is the build context) into REPOSITORY:PROJECT-HASH, which\n"
    "every function without its own image runs.\n"
    "\n"
    "A folder with a main.py and no multinode.yaml is a Python project (the\n"
    "`multinode` Python package): its @mn.function()s are read by importing main.py\n"
    "with $MULTINODE_PYTHON (default python3), and the version runs a read-only,\n"
    "content-addressed snapshot of the folder (under $MULTINODE_SNAPSHOT_DIR, default\n"
    "~/.multinode/snapshots), so later edits do not change it. When the daemon's\n"
    "provider runs containers, an image FROM $MULTINODE_BASE_IMAGE (default\n"
    "multinode-python:local, see scripts/worker-image.sh --python) is built on the\n"
    "Docker Engine of $DOCKER_HOST. When GET /container_repository_credentials names a\n"
    "registry (ECR for the ecs provider, `registry` of the docker provider), the image\n"
    "is pushed there and the version runs it by digest; the login is the daemon's\n"
    "(ECR), else $MULTINODE_REGISTRY_USERNAME and $MULTINODE_REGISTRY_PASSWORD, else\n"
    "the registry's \"auth\" in the Docker config (~/.docker/config.json).\n"
    "\n"
    "Fails when the project exists (use `multinode upgrade`). Exit status: 0 done,\n"
    "1 failure (including a manifest with problems, each printed as\n"
    "FILE:LINE:COL: key: message), 2 usage error.";

const char cli_upgrade_summary[] =
    "deploy a project folder as a new version of a project and print its id\n"
    "\n"
    "DIR holds multinode.yaml, as for `multinode deploy` (see `multinode help deploy`).\n"
    "The project must exist, unless --deploy is given: then it is created when\n"
    "missing. Invocations started before keep running the version they started on;\n"
    "new ones use the new (latest) version.";

static int project_name(struct cli *cli, const char **out) {
  const char *name = cli_get(cli, "--project-name");
  if (!name || !*name)
    return cli_usage_error(cli, "--project-name is required");
  if (mn_utf8_length(name, strlen(name)) > PROJECT_NAME_LIMIT)
    return cli_usage_error(cli, "--project-name \"%s\" is too long: at most %d characters", name,
                           PROJECT_NAME_LIMIT);
  *out = name;
  return CLI_OK;
}

/* Reads DIR/multinode.yaml, or inspects DIR/main.py for a Python project
 * (python_project.h); prints every problem on failure. */
static int load_manifest(const char *dir, struct mn_manifest *m, struct mn_python_project *py,
                         const char *what) {
  int loaded = py ? mn_python_project_inspect(dir, m, py) : mn_manifest_load(dir, m);
  if (loaded == 0)
    return CLI_OK;
  for (size_t i = 0; i < m->n_errors; i++)
    fprintf(stderr, "%s\n", m->errors[i]);
  if (m->n_errors == 0)
    return cli_fail("out of memory reading %s/%s", dir, MN_MANIFEST_FILE);
  if (m->file && access(m->file, F_OK) != 0)
    return cli_fail("cannot read %s: a project folder holds one, or a main.py (see "
                    "`multinode help deploy`); nothing was %s",
                    m->file, what);
  return cli_fail("%s: %zu problem%s; nothing was %s", m->file, m->n_errors,
                  m->n_errors == 1 ? "" : "s", what);
}

static void print_summary(const char *verb, const char *project, const json_t *version,
                          const struct mn_manifest *m) {
  fprintf(stderr, "%s project \"%s\": version %s with %zu function%s (", verb, project,
          mn_client_json_str(version, "version_id"), m->n_functions,
          m->n_functions == 1 ? "" : "s");
  for (size_t i = 0; i < m->n_functions; i++)
    fprintf(stderr, "%s%s", i ? ", " : "", m->functions[i].function_name);
  fprintf(stderr, ")\n");
}

enum mode { DEPLOY, UPGRADE };

/* How the daemon will run the functions of a Python project: on its
 * default provider, whose type GET /providers tells (a daemon without that
 * endpoint runs processes). */
static enum mn_python_target python_target(struct cli *cli) {
  struct mn_client_error err;
  json_t *list = NULL;
  enum mn_python_target target = MN_PYTHON_PROCESS;
  if (mn_client_providers_list(cli->client, &list, &err) == 0) {
    const char *def = mn_client_json_str(list, "default");
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(list, "providers"), i, item) {
      const char *name = mn_client_json_str(item, "name");
      const char *type = mn_client_json_str(item, "type");
      if (def && name && type && strcmp(def, name) == 0 && strcmp(type, "local") != 0)
        target = MN_PYTHON_CONTAINER;
    }
  }
  json_decref(list);
  return target;
}

/* The repository GET /container_repository_credentials names, with its
 * login; "" when images stay on the engine ("multinode-local"). */
static int registry_of(struct cli *cli, char *repository, size_t size,
                       struct mn_registry_login *login) {
  struct mn_client_error err;
  json_t *creds = NULL;
  char why[512];
  repository[0] = '\0';
  if (mn_client_registry_credentials(cli->client, &creds, &err) < 0)
    return cli_report(cli, &err, "cannot get the container repository credentials");
  const char *repo = mn_client_json_str(creds, "repository_name");
  int rc = CLI_OK;
  if (repo && *repo && strcmp(repo, "multinode-local") != 0) {
    if (strlen(repo) >= size)
      rc = cli_fail("repository \"%s\" is too long", repo);
    else if (mn_registry_login_find(repo, mn_client_json_str(creds, "username"),
                                    mn_client_json_str(creds, "password"), login, why,
                                    sizeof why) < 0)
      rc = cli_fail("%s", why);
    else
      snprintf(repository, size, "%s", repo);
  }
  json_decref(creds);
  return rc;
}

/* A multinode.yaml folder with its own Dockerfile and no image: builds it
 * as the version's image (REPOSITORY:<project>-<hash of the context>). */
static int build_dockerfile(const char *dir, const char *project, const char *repository,
                            struct mn_manifest *m) {
  char context[] = "/tmp/multinode-context.XXXXXX", hash[25], tag[1200], why[1024];
  int fd = mkstemp(context);
  if (fd < 0)
    return cli_fail("cannot make a temporary file for the build context");
  close(fd);
  int rc = mn_context_tar(dir, context, hash, why, sizeof why);
  if (rc == 0) {
    mn_docker_image_tag(tag, sizeof tag, repository[0] ? repository : "multinode-local", project,
                        hash);
    fprintf(stderr, "building image %s from %s/Dockerfile\n", tag, dir);
    rc = mn_docker_build(context, tag, why, sizeof why);
  }
  unlink(context);
  if (rc != 0)
    return cli_fail("cannot build the image of %s: %s", dir, why);
  char *copy = strdup(tag);
  if (!copy)
    return cli_fail("out of memory");
  free(m->image);
  m->image = copy;
  return CLI_OK;
}

/* Pushes the built image m->image and makes the version run it by digest. */
static int push_image(struct mn_manifest *m, const char *repository,
                      const struct mn_registry_login *login) {
  char digest[128], why[1024], *pinned;
  fprintf(stderr, "pushing image %s to %s (login: %s)\n", m->image, login->server, login->source);
  if (mn_docker_push(m->image, login->username, login->password, login->server, digest,
                     sizeof digest, why, sizeof why) < 0)
    return cli_fail("cannot push image %s: %s", m->image, why);
  size_t n = strlen(repository) + 1 + strlen(digest) + 1;
  if (!(pinned = malloc(n)))
    return cli_fail("out of memory");
  snprintf(pinned, n, "%s@%s", repository, digest);
  fprintf(stderr, "pushed %s\n", pinned);
  free(m->image);
  m->image = pinned;
  return CLI_OK;
}

static int deploy_version(struct cli *cli, enum mode mode) {
  const char *dir = cli->args[0], *name;
  int may_create = mode == DEPLOY || cli_flag(cli, "--deploy");
  int create = 0, rc;
  struct mn_manifest m;
  struct mn_python_project py = {0};
  int is_python = mn_python_project_detect(dir);
  struct mn_client_error err;
  json_t *version = NULL, *def = NULL, *project = NULL;
  const char *what = mode == DEPLOY ? "deployed" : "upgraded";
  char repository[1024] = "";
  struct mn_registry_login login;
  memset(&login, 0, sizeof login);

  if ((rc = project_name(cli, &name)) != CLI_OK)
    return rc;
  if ((rc = load_manifest(dir, &m, is_python ? &py : NULL, what)) != CLI_OK)
    goto done;
  struct mn_client_version_definition d = mn_manifest_definition(&m);
  if (cli_flag(cli, "--dry-run")) {
    if (!(def = mn_client_version_definition_json(&d))) {
      rc = cli_fail("out of memory");
      goto done;
    }
    cli_print_json(def);
    fprintf(stderr, "%s: valid; nothing was %s (--dry-run)\n", m.file, what);
    goto done;
  }
  if ((rc = cli_connect(cli)) != CLI_OK)
    goto done;

  if (mn_client_project_get(cli->client, name, &project, &err) == 0) {
    if (json_is_integer(json_object_get(project, "deletion_request_time"))) {
      rc = cli_fail("project \"%s\" is being deleted (it was undeployed): deploy under "
                    "another name, or once it is gone",
                    name);
      goto done;
    }
    if (mode == DEPLOY) {
      rc = cli_fail("project \"%s\" already exists: deploy a new version of it with "
                    "`multinode upgrade %s --project-name %s`",
                    name, dir, name);
      goto done;
    }
  } else if (mn_client_error_is(&err, "ProjectDoesNotExist")) {
    if (!may_create) {
      rc = cli_fail("project \"%s\" does not exist: create it with `multinode deploy %s "
                    "--project-name %s` (or `multinode upgrade --deploy`)",
                    name, dir, name);
      goto done;
    }
    create = 1;
  } else {
    rc = cli_report(cli, &err, "cannot look up project \"%s\"", name);
    goto done;
  }

  char dockerfile[4096];
  snprintf(dockerfile, sizeof dockerfile, "%s/Dockerfile", dir);
  int own_image = !is_python && !m.image[0] && access(dockerfile, F_OK) == 0;
  enum mn_python_target target =
      is_python || own_image ? python_target(cli) : MN_PYTHON_PROCESS;
  if (target == MN_PYTHON_CONTAINER &&
      (rc = registry_of(cli, repository, sizeof repository, &login)) != CLI_OK)
    goto done;
  if (is_python && mn_python_project_materialize(dir, name, repository, target, &m, &py) < 0) {
    rc = cli_fail("project folder %s: nothing was %s", dir, what);
    goto done;
  }
  /* a folder whose Dockerfile becomes the image is checked by its build */
  if (!is_python && !own_image && (rc = cli_deploy_check(cli, &m)) != CLI_OK)
    goto done;
  if (own_image && target == MN_PYTHON_CONTAINER &&
      (rc = build_dockerfile(dir, name, repository, &m)) != CLI_OK) {
    fprintf(stderr, "  note: nothing was %s\n", what);
    goto done;
  }
  if (repository[0] && (rc = push_image(&m, repository, &login)) != CLI_OK) {
    fprintf(stderr, "  note: nothing was %s\n", what);
    goto done;
  }
  d = mn_manifest_definition(&m); /* materializing set the commands and the image */
  if (create && mn_client_project_create(cli->client, name, NULL, &err) < 0) {
    /* someone created it meanwhile: fine for upgrade --deploy only */
    if (!(mode == UPGRADE && mn_client_error_is(&err, "ProjectAlreadyExists"))) {
      rc = mode == DEPLOY && mn_client_error_is(&err, "ProjectAlreadyExists")
               ? cli_fail("project \"%s\" already exists (it was just created by someone "
                          "else): use `multinode upgrade`",
                          name)
               : cli_report(cli, &err, "cannot create project \"%s\"", name);
      goto done;
    }
  }
  if (mn_client_version_create(cli->client, name, &d, &version, &err) < 0) {
    rc = cli_report(cli, &err, "cannot create a version of project \"%s\"", name);
    if (create)
      fprintf(stderr, "  note: project \"%s\" was created without a version; once fixed, run "
                      "`multinode upgrade %s --project-name %s`\n",
              name, dir, name);
    goto done;
  }
  if (cli->json) {
    cli_print_json(version);
  } else {
    printf("%s\n", mn_client_json_str(version, "version_id"));
    fflush(stdout);
  }
  print_summary(create ? "deployed" : "upgraded", name, version, &m);
  rc = CLI_OK;
done:
  json_decref(version);
  json_decref(def);
  json_decref(project);
  mn_manifest_release(&m);
  mn_python_project_release(&py);
  mn_registry_login_clear(&login);
  return rc;
}

int cli_cmd_deploy(struct cli *cli) {
  return deploy_version(cli, DEPLOY);
}

int cli_cmd_upgrade(struct cli *cli) {
  return deploy_version(cli, UPGRADE);
}

int cli_cmd_undeploy(struct cli *cli) {
  struct mn_client_error err;
  const char *name;
  json_t *info = NULL;
  int rc;

  if ((rc = project_name(cli, &name)) != CLI_OK || (rc = cli_connect(cli)) != CLI_OK)
    return rc;
  /* on a terminal, the name typed again; scripts pass --yes (or no terminal) */
  if (!cli_flag(cli, "--yes") && isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
    char answer[1100];
    fprintf(stderr, "undeploy cancels every invocation of project \"%s\" and removes it.\n"
                    "Type the project name to confirm: ", name);
    fflush(stderr);
    if (!fgets(answer, sizeof answer, stdin) || (answer[strcspn(answer, "\n")] = '\0',
                                                 strcmp(answer, name) != 0))
      return cli_fail("not confirmed: project \"%s\" is left as it was", name);
  }
  if (mn_client_project_delete(cli->client, name, &info, &err) < 0)
    return cli_report(cli, &err, "cannot undeploy project \"%s\"", name);
  if (cli->json)
    cli_print_json(info);
  else
    printf("project \"%s\" is marked for deletion: its invocations are being cancelled and "
           "it will be removed\n",
           name);
  json_decref(info);
  return CLI_OK;
}
