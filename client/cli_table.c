/* multinode invocations: a table of invocations (one function's, or every
 * function's of a version), filtered by status and parent; and the same
 * rows for `describe`'s children. Statuses are the derived ones (PENDING,
 * RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED, TIMED OUT). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

#define TABLE_MAX_ROWS 50

struct filter {
  const char *status;           /* derived status, NULL: any */
  const char *parent_function;  /* both, or neither */
  const char *parent_id;
};

static const char *const statuses[] = {"PENDING",   "RUNNING",   "CANCELLING", "SUCCEEDED",
                                       "FAILED",    "CANCELLED", "TIMED_OUT",  "TIMED OUT"};

/* The server's filter that narrows a derived one: an unfinished one is
 * never TERMINATED; a finished one may still be RUNNING on the server
 * ("FAILED - terminating"), so no filter. */
static const char *server_status(const char *derived) {
  if (!derived)
    return NULL;
  return strcasecmp(derived, "PENDING") == 0 || strcasecmp(derived, "RUNNING") == 0 ||
                 strcasecmp(derived, "CANCELLING") == 0
             ? "RUNNING"
             : NULL;
}

static int status_matches(const char *want, const struct mn_status_info *st) {
  const char *have = mn_status_str(st->status);
  if (!want)
    return 1;
  if (strcasecmp(want, "TIMED_OUT") == 0)
    want = "TIMED OUT";
  return strcasecmp(want, have) == 0;
}

static void print_header(void) {
  printf("%-38s %-22s %-28s %-10s %s\n", "INVOCATION", "FUNCTION", "STATUS", "CREATED",
         "PARENT");
}

/* Rows of one function's invocations; *rows counts what was printed (or
 * added to json). */
static int function_rows(struct cli *cli, const struct mn_client_function_ref *fn,
                         const struct filter *flt, json_t *json, size_t *rows) {
  struct mn_client_list_options opt = {.max_results = TABLE_MAX_ROWS,
                                       .status = server_status(flt->status),
                                       .parent_function_name = flt->parent_function,
                                       .parent_invocation_id = flt->parent_id};
  struct mn_client_error err;
  json_t *page = NULL, *item;
  size_t i;
  if (mn_client_invocations_list(cli->client, fn, &opt, &page, &err) < 0)
    return cli_report(cli, &err, "cannot list the invocations of \"%s\"", fn->function_name);
  json_array_foreach(json_object_get(page, "invocations"), i, item) {
    const char *id = mn_client_json_str(item, "invocation_id");
    json_t *full = NULL;
    struct mn_status_info st;
    char status[128], created[32];
    if (!id || *rows >= TABLE_MAX_ROWS)
      continue;
    if (mn_client_invocation_get(cli->client, fn, id, &full, &err) < 0 ||
        mn_status_derive(full, &st, NULL) < 0 || !status_matches(flt->status, &st)) {
      json_decref(full);
      continue;
    }
    (*rows)++;
    if (json) {
      json_array_append(json, full);
    } else {
      const json_t *parent = json_object_get(full, "parent_invocation");
      mn_status_readable(&st, status, sizeof status);
      printf("%-38s %-22s %-28s %-10s %s\n", id, fn->function_name, status,
             cli_time(full, "creation_time", 1, created, sizeof created),
             json_is_object(parent) ? mn_client_json_str(parent, "invocation_id") : "-");
    }
    json_decref(full);
  }
  json_decref(page);
  return CLI_OK;
}

/* Every function of version (or the one named) through function_rows. */
static int version_rows(struct cli *cli, const char *project, const json_t *version,
                        const char *only, const struct filter *flt, json_t *json,
                        size_t *rows) {
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(version, "functions"), i, f) {
    const char *name = mn_client_json_str(f, "function_name");
    if (!name || (only && strcmp(only, name) != 0))
      continue;
    struct mn_client_function_ref fn = {project, mn_client_json_str(version, "version_id"),
                                        name};
    int rc = function_rows(cli, &fn, flt, json, rows);
    if (rc != CLI_OK)
      return rc;
  }
  return CLI_OK;
}

int cli_print_children(struct cli *cli, const json_t *inv, json_t *json) {
  struct mn_client_error err;
  const char *project = mn_client_json_str(inv, "project_name");
  const char *vid = mn_client_json_str(inv, "version_id");
  json_t *version = NULL;
  struct filter flt = {NULL, mn_client_json_str(inv, "function_name"),
                       mn_client_json_str(inv, "invocation_id")};
  size_t rows = 0;
  if (!project || !vid || !flt.parent_function || !flt.parent_id)
    return CLI_OK;
  if (mn_client_version_get(cli->client, project, vid, &version, &err) < 0)
    return cli_report(cli, &err, "cannot get version %s of \"%s\"", vid, project);
  if (!json)
    printf("children:\n");
  int rc = version_rows(cli, project, version, NULL, &flt, json, &rows);
  if (rc == CLI_OK && !json && rows == 0)
    printf("\tnone\n");
  json_decref(version);
  return rc;
}

int cli_cmd_invocations(struct cli *cli) {
  struct mn_client_error err;
  const char *project = cli_get(cli, "--project-name");
  const char *version_id = cli_get(cli, "--version-id");
  const char *function = cli_get(cli, "--function-name");
  const char *parent = cli_get(cli, "--parent");
  struct filter flt = {cli_get(cli, "--status"), NULL, NULL};
  json_t *hold = NULL, *version = NULL, *json = NULL;
  size_t rows = 0;
  int rc;

  if (flt.status) {
    const char *near = NULL;
    int known = 0;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
      known = known || strcasecmp(flt.status, statuses[i]) == 0;
    if (!known && (near = cli_closest(flt.status, statuses, 7)))
      return cli_usage_error(cli, "--status \"%s\": did you mean %s?", flt.status, near);
    if (!known)
      return cli_usage_error(cli, "--status \"%s\": want PENDING, RUNNING, CANCELLING, "
                                  "SUCCEEDED, FAILED, CANCELLED or TIMED_OUT", flt.status);
  }
  if (!project && !parent)
    return cli_usage_error(cli, "--project-name (or --parent) is required");
  if ((rc = cli_connect(cli)) != CLI_OK)
    return rc;
  if (parent) { /* the parent's id alone names its project and version */
    if (mn_client_invocation_get_by_id(cli->client, parent, &hold, &err) < 0)
      return cli_report(cli, &err, "cannot find the parent invocation %s", parent);
    project = mn_client_json_str(hold, "project_name");
    version_id = mn_client_json_str(hold, "version_id");
    flt.parent_function = mn_client_json_str(hold, "function_name");
    flt.parent_id = parent;
  }
  if (mn_client_version_get(cli->client, project, version_id, &version, &err) < 0) {
    rc = cli_report(cli, &err, "cannot get version \"%s\" of project \"%s\"",
                    version_id ? version_id : "latest", project);
    goto done;
  }
  if (cli->json)
    json = json_array();
  else
    print_header();
  rc = version_rows(cli, project, version, function, &flt, json, &rows);
  if (rc == CLI_OK && json)
    cli_print_json(json);
  else if (rc == CLI_OK && rows == 0)
    printf("(none)\n");
done:
  json_decref(json);
  json_decref(version);
  json_decref(hold);
  return rc;
}
