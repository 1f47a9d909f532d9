/* JSON shapes of the API (docs/compatibility.md §1): encoders from the store's model to
 * the wire, and decoders with validation from request bodies to the model.
 *
 * Encoders return a new reference (NULL only on allocation failure); times
 * are shown as integer seconds, as the original control plane does, and the
 * precise microsecond value is added alongside as `<field>_us`.
 * Strings that are not valid UTF-8 (a provider's error text, say) are shown
 * with U+FFFD in place of the bad bytes rather than failing the response.
 *
 * Decoders check the body as the original server's pydantic models do (types,
 * required fields, enum strings, docs/compatibility.md §1.2 bounds; unknown fields are
 * ignored) and return 0, or MN_EINVAL with err->msg = "<loc>: <message>",
 * where loc is the dotted pydantic location starting at "body", e.g.
 * "body.functions.1.resource_spec.virtual_cpus: ensure this value is less
 * than or equal to 16". loc never holds user-supplied text, so it can be split
 * at the first ": ". On failure *out is left zeroed (nothing to release). */
#ifndef MN_API_CODEC_H
#define MN_API_CODEC_H

#include <jansson.h>
#include <stddef.h>

#include "store/model.h"
#include "util/error.h"
#include "multinode/common/utf8.h"

json_t *mn_json_health(void);                                    /* HealthStatus */
json_t *mn_json_project_info(const struct mn_project *p);        /* ProjectInfo */
json_t *mn_json_projects_list(const struct mn_project *items, size_t n);
json_t *mn_json_function_for_version(const struct mn_function *f);
json_t *mn_json_version_info(const struct mn_version *v);
json_t *mn_json_versions_list(const char *project_name, const struct mn_version_brief *items,
                              size_t n);
json_t *mn_json_execution_summary(const struct mn_execution *e);
json_t *mn_json_invocation_info(const struct mn_invocation *inv);
json_t *mn_json_invocations_list(const char *project_name, const char *version_id,
                                 const char *function_name,
                                 const struct mn_invocation_page *page);
/* ExecutionInfo: inv holds exactly the execution (inv->executions[0]). */
json_t *mn_json_execution_info(const struct mn_invocation *inv);
json_t *mn_json_execution_logs(const struct mn_invocation *inv, json_t *lines /* borrowed */,
                               const char *next_offset);
json_t *mn_json_error(const char *detail);                       /* {"detail": ...} */

/* FastAPI's 422 body for a decoder failure: {"detail":[{"loc":["body",
 * "functions",1,...],"msg":"...","type":"value_error"}]} (numeric path
 * elements as JSON integers). */
json_t *mn_json_validation_error(const struct mn_error *err);


/* Request bodies. */
int mn_json_parse_version_definition(const json_t *body, struct mn_version_definition *out,
                                     struct mn_error *err);

struct mn_invocation_definition {
  char *parent_function_name; /* NULL when no parent_invocation */
  char *parent_invocation_id;
  char *input;
  int priority;          /* additive fields: 0 */
  int64_t start_at;      /* MN_TIME_NULL */
  char *concurrency_key; /* NULL */
  char *idempotency_key; /* NULL */
};
void mn_invocation_definition_release(struct mn_invocation_definition *d);
int mn_json_parse_invocation_definition(const json_t *body,
                                        struct mn_invocation_definition *out,
                                        struct mn_error *err);

/* ExecutionTemporaryResultPayload: {latest_output}. *out is a heap copy. */
int mn_json_parse_temporary_result(const json_t *body, char **latest_output_out,
                                   struct mn_error *err);

struct mn_final_result {
  enum mn_outcome outcome;
  char *final_output;  /* NULL when absent or null */
  char *error_message; /* present iff outcome is FAILED */
};
void mn_final_result_release(struct mn_final_result *r);
int mn_json_parse_final_result(const json_t *body, struct mn_final_result *out,
                               struct mn_error *err);

#endif
