#include "api_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_testdb.h"
#include "util/clock.h"

int api_fixture_start(struct api_fixture *fx, const char *name,
                      const struct mn_api_options *opt) {
  struct mn_error err = {0};
  memset(fx, 0, sizeof *fx);
  if (mn_testdb_create(fx->dsn, sizeof fx->dsn) != 0)
    return -1;
  struct mn_store_options so = {.dsn = fx->dsn, .pool_size = 8};
  if (mn_store_open(&so, &fx->store, &err) != 0) {
    fprintf(stderr, "api_fixture %s: mn_store_open: %s\n", name, err.msg);
    goto fail;
  }
  struct mn_api_options ao = {0};
  if (opt)
    ao = *opt;
  ao.listen_host = "127.0.0.1";
  ao.listen_port = 0;
  ao.api_key = API_TEST_KEY;
  if (mn_api_start(&ao, fx->store, &fx->api, &err) != 0) {
    fprintf(stderr, "api_fixture %s: mn_api_start: %s\n", name, err.msg);
    goto fail;
  }
  fx->port = mn_api_port(fx->api);
  snprintf(fx->base_url, sizeof fx->base_url, "http://127.0.0.1:%d", fx->port);
  fx->http = http_client_new(fx->base_url, API_TEST_KEY);
  if (!fx->http || fx->port <= 0)
    goto fail;
  return 0;
fail:
  api_fixture_stop(fx);
  return -1;
}

void api_fixture_stop(struct api_fixture *fx) {
  http_client_free(fx->http);
  mn_api_stop(fx->api);
  mn_store_free(fx->store);
  memset(fx, 0, sizeof *fx);
}

int api_fixture_start_second(const struct api_fixture *fx, const struct mn_api_options *opt,
                             struct api_fixture *second) {
  struct mn_error err = {0};
  *second = *fx;
  second->api = NULL;
  second->http = NULL;
  int rc = mn_api_start(opt, fx->store, &second->api, &err);
  if (rc != 0) {
    fprintf(stderr, "api_fixture: second mn_api_start: %s\n", err.msg);
    return rc;
  }
  second->port = mn_api_port(second->api);
  snprintf(second->base_url, sizeof second->base_url, "http://127.0.0.1:%d", second->port);
  second->http = http_client_new(second->base_url, API_TEST_KEY);
  return 0;
}

void api_fixture_stop_second(struct api_fixture *second) {
  http_client_free(second->http);
  mn_api_stop(second->api);
  second->http = NULL;
  second->api = NULL;
}

int api_fixture_add_execution(struct api_fixture *fx, const char *project, const char *version,
                              const char *function, const char *invocation_id,
                              const char *worker_status, const char *worker_details,
                              char *id_out) {
  struct mn_function_key fk = {project, version, function};
  struct mn_execution e = {0};
  enum mn_worker_status to;
  json_t *details = worker_details ? json_loads(worker_details, 0, NULL) : NULL;
  bool applied = true;
  int rc = mn_worker_status_parse(worker_status, &to);
  if (rc == 0)
    rc = mn_store_create_execution(fx->store, &fk, invocation_id, mn_now_us(), &e);
  if (rc == 0) {
    snprintf(id_out, 48, "%s", e.execution_id);
    if (to != MN_WORKER_PENDING || details)
      rc = mn_store_transition_execution(fx->store, &fk, invocation_id, id_out,
                                         MN_WORKER_PENDING, to, details, NULL, mn_now_us(),
                                         &applied);
  }
  mn_execution_release(&e);
  json_decref(details);
  if (rc != 0 || !applied)
    fprintf(stderr, "api_fixture_add_execution: %s\n", mn_errname(rc));
  return rc == 0 && applied ? 0 : -1;
}

int api_fixture_terminate_execution(struct api_fixture *fx, const char *project,
                                    const char *version, const char *function,
                                    const char *invocation_id, const char *execution_id) {
  struct mn_function_key fk = {project, version, function};
  bool applied = false;
  int rc = mn_store_transition_execution(fx->store, &fk, invocation_id, execution_id,
                                         MN_WORKER_RUNNING, MN_WORKER_TERMINATED, NULL, NULL,
                                         mn_now_us(), &applied);
  return rc == 0 && applied ? 0 : -1;
}

int api_fixture_terminate_invocation(struct api_fixture *fx, const char *project,
                                     const char *version, const char *function,
                                     const char *invocation_id) {
  struct mn_function_key fk = {project, version, function};
  return mn_store_terminate_invocation(fx->store, &fk, invocation_id, mn_now_us(), NULL) == 0
             ? 0
             : -1;
}
