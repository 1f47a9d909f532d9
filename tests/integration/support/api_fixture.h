/* An API server for tests: a fresh database (pg_testdb), a real store on
 * it, mn_api_start on an ephemeral port, and an HTTP client. Executions
 * (which the scheduler would create) are made through the store. */
#ifndef MN_TEST_API_FIXTURE_H
#define MN_TEST_API_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>

#include "api/server.h"
#include "http_client.h"
#include "store/store.h"

#define API_TEST_KEY "test-key-5b2e9c"

struct api_fixture {
  char dsn[512];
  struct mn_store *store;
  struct mn_api *api;
  int port;
  char base_url[64];
  struct http_client *http; /* sends the right key */
};

/* Starts everything. opt may be NULL; its listen/key/store fields are set by
 * the fixture, the rest (logs, credentials, max_body_bytes) is kept.
 * Returns 0 or -1 with the reason on stderr. */
int api_fixture_start(struct api_fixture *fx, const char *name,
                      const struct mn_api_options *opt);
void api_fixture_stop(struct api_fixture *fx);

/* A second server on fx's store, started with opt exactly as given: second is
 * a copy of fx whose api, port, base_url and http are the new server's. Stop
 * it with api_fixture_stop_second (the store stays fx's). Returns
 * mn_api_start's result: 0, or an error with the reason on stderr. */
int api_fixture_start_second(const struct api_fixture *fx, const struct mn_api_options *opt,
                             struct api_fixture *second);
void api_fixture_stop_second(struct api_fixture *second);

/* Makes an execution of an invocation (through the store, as the scheduler
 * does) and moves it PENDING -> worker_status, setting worker_details (JSON
 * text or NULL) on the way. Writes its id into id_out (>= 48 bytes). 0 or -1. */
int api_fixture_add_execution(struct api_fixture *fx, const char *project, const char *version,
                              const char *function, const char *invocation_id,
                              const char *worker_status, const char *worker_details,
                              char *id_out);
/* RUNNING -> TERMINATED for an execution / an invocation. 0 or -1. */
int api_fixture_terminate_execution(struct api_fixture *fx, const char *project,
                                    const char *version, const char *function,
                                    const char *invocation_id, const char *execution_id);
int api_fixture_terminate_invocation(struct api_fixture *fx, const char *project,
                                     const char *version, const char *function,
                                     const char *invocation_id);

#endif
