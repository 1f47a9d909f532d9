/* k8s.h — the Kubernetes provider's state and its modules: one batch/v1 Job
 * per execution, talked to over libcurl (api.c), built by manifest.c,
 * launched by launch.c with the execution's key in a v1 Secret owned by the
 * Job (secret.c), watched by status.c (one list call for Jobs and one for
 * Pods per pass), stopped by terminate.c, read by logs.c. */
#ifndef MN_K8S_H
#define MN_K8S_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <multinode/provider.h>

#include "http.h"
#include "kubeconfig.h"

/* Every label and annotation this provider sets is under this prefix. */
#define MN_K8S_LABEL_PREFIX "multinode.dev/"

/* providers.k8s, as read by k8s_conf.c. Strings belong to the host. */
struct mn_k8s_conf {
  const char *kubeconfig;      /* path, or NULL: KUBECONFIG, ~/.kube/config, in-cluster */
  const char *context;         /* NULL: current-context */
  const char *namespace_;      /* NULL: the context's, else "default" */
  const char *service_account; /* the pods' service account, or NULL */
  const char *in_cluster_dir;  /* the service-account directory */
  int in_cluster;              /* in-cluster credentials, even when a kubeconfig exists */
  const char *const *image_pull_secrets;
  size_t n_image_pull_secrets;
  const char *registry;        /* HOST[:PORT]/REPO deploy pushes to, or NULL */
  const char *const *node_selector; /* "key=value" */
  size_t n_node_selector;
  const char *const *tolerations;   /* "key[=value]:Effect" or "key" */
  size_t n_tolerations;
  int64_t ttl_seconds_after_finished;
  int64_t termination_grace_seconds;
  int64_t pending_timeout_seconds;
  int64_t request_timeout_seconds;
};

struct mn_k8s {
  const struct mn_host *host;
  struct mn_k8s_conf conf;
  struct mn_k8s_auth auth;
  char namespace_[256];
  char cluster_label[64]; /* host->cluster_id as a label value */
  struct mn_http http;    /* the API server's connections (api.c) */
  char http_name[1100];   /* "kubernetes API at <server>", for messages */
  int http_ready;
  pthread_mutex_t lock;   /* guards the fields below */
  char *token;            /* the token file's content, re-read when it changes */
  struct timespec token_mtime;
  off_t token_size;
  ino_t token_ino;
};

/* k8s_conf.c: the keys of providers.k8s (docs/k8s.md's table is printed
 * from them); reads the section (the daemon has checked it against them);
 * then resolves the credentials. */
extern const struct mn_config_key mn_k8s_conf_keys[];
int mn_k8s_conf_read(const struct mn_cfg_node *config, const struct mn_host *host,
                     struct mn_k8s_conf *conf, struct mn_provider_error *err);
int mn_k8s_auth_resolve(struct mn_k8s *k, const struct mn_cfg_node *config,
                        struct mn_provider_error *err);

/* api.c: the client of the API server (after mn_k8s_auth_resolve), and one
 * HTTP exchange with it. */
int mn_k8s_http_init(struct mn_k8s *k);
struct mn_k8s_response {
  long status;     /* HTTP status */
  char *text;      /* the body, NUL-terminated (also for non-JSON bodies) */
  size_t len;
  json_t *json;    /* the body parsed, when it is JSON; else NULL */
  int64_t retry_after_us; /* the Retry-After header, or -1 */
};
void mn_k8s_response_release(struct mn_k8s_response *r);
/* Sends METHOD path (starting with "/", query included) with body (or NULL;
 * for PATCH a JSON merge patch). Returns 0 when an answer came (whatever
 * its status), else TRANSIENT (the network, a timeout) with err set. */
/* The RBAC rule a request needs, as "VERB RESOURCE in group \"G\"" into
 * OUT: 0 when api_calls.c lists it, 1 when it does not, -1 when PATH is no
 * namespaced API path. mn_k8s_request refuses all but 0. */
int mn_k8s_call_rule(const char *method, const char *path, char *out, size_t size);
int mn_k8s_request(struct mn_k8s *k, const char *method, const char *path, json_t *body,
                   struct mn_k8s_response *resp, struct mn_provider_error *err);
/* Maps a non-2xx answer to an error by the toolkit's table
 * (mn_http_status_code: 429/5xx TRANSIENT, 401/403 AUTH, 404 NOT_FOUND,
 * other 4xx INVALID); the message names `what` and carries the API's Status
 * message; a TRANSIENT one carries the answer's Retry-After to the daemon.
 * Returns the code. */
int mn_k8s_fail(struct mn_k8s *k, const struct mn_k8s_response *r, const char *what,
                struct mn_provider_error *err);
/* "labelSelector=<escaped selector>" */
int mn_k8s_selector_query(const char *selector, char *out, size_t size);

/* manifest.c. secret_env: the name of the env entry delivered through the
 * Job's Secret (named job_name), or NULL (every entry a literal value). */
json_t *mn_k8s_job_manifest(const struct mn_k8s *k, const struct mn_launch_spec *spec,
                            const char *job_name, const char *secret_env,
                            struct mn_provider_error *err);
/* The labels and annotations of an execution's objects (Job, pod, Secret). */
json_t *mn_k8s_labels_of(const struct mn_k8s *k, const struct mn_launch_spec *spec);
json_t *mn_k8s_annotations_of(const struct mn_launch_spec *spec);

/* secret.c: the execution's secret env entry (the launch spec's
 * secret_env_name, since ABI 1.2, when the env carries it), or NULL. */
const char *mn_k8s_secret_env(const struct mn_k8s *k, const struct mn_launch_spec *spec,
                              const char **value_out);
/* Creates the Secret `name` holding value under the key env_name, owned by
 * the Job (job_uid), labelled like it; when it exists already (409) and
 * belongs to this execution, its data and owner are replaced (a launch
 * repeated with a new key). */
int mn_k8s_secret_put(struct mn_k8s *k, const struct mn_launch_spec *spec, const char *name,
                      const char *job_uid, const char *env_name, const char *value,
                      struct mn_provider_error *err);
/* Deletes the Secret ns/name; gone already is success. */
int mn_k8s_secret_delete(struct mn_k8s *k, const char *ns, const char *name,
                         struct mn_provider_error *err);

/* terminate.c: DELETE path with DeleteOptions opts (taken, may be NULL);
 * 404 is success. And the Job, with propagationPolicy Background. */
int mn_k8s_delete(struct mn_k8s *k, const char *path, json_t *opts, const char *what,
                  struct mn_provider_error *err);
int mn_k8s_delete_job(struct mn_k8s *k, const char *ns, const char *job,
                      struct mn_provider_error *err);

/* logs.c: GET the pods of Job ns/job (label job-name) into *r, released by
 * the caller; 0 only with a 200 whose items is an array. */
int mn_k8s_job_pods(struct mn_k8s *k, const char *ns, const char *job,
                    struct mn_k8s_response *r, struct mn_provider_error *err);

/* The worker ref: identifier "NAMESPACE/JOB", logs_identifier the same. */
int mn_k8s_ref_split(const struct mn_worker_ref *ref, char ns[256], char job[64]);

/* status.c: the state of one Job from the Job and its pods (status.c). */
void mn_k8s_job_state(const struct mn_k8s *k, json_t *job, json_t *pods_of_job,
                      struct mn_worker_state *out);

/* the operations */
int mn_k8s_prepare(void *state, const struct mn_function_desc *fn, struct mn_prepared *out,
                   struct mn_provider_error *err);
int mn_k8s_launch(void *state, const struct mn_launch_spec *spec, struct mn_worker_ref *ref_out,
                  struct mn_provider_error *err);
int mn_k8s_inspect_many(void *state, const struct mn_worker_ref *refs, size_t n,
                        struct mn_worker_state *states_out, struct mn_provider_error *err);
int mn_k8s_list_owned(void *state, mn_owned_worker_fn *cb, void *ctx,
                      struct mn_provider_error *err);
int mn_k8s_terminate(void *state, const struct mn_worker_ref *ref, int grace_seconds,
                     struct mn_provider_error *err);
int mn_k8s_release(void *state, const struct mn_worker_ref *ref, struct mn_provider_error *err);
int mn_k8s_logs(void *state, const struct mn_worker_ref *ref, const char *offset, int max_lines,
                struct mn_log_page *page, struct mn_provider_error *err);

#endif
