/* worker_details {type, identifier, logs_identifier} <-> struct mn_worker_ref. */
#include <string.h>

#include "plugin/host.h"

json_t *mn_worker_details_new(const char *type, const struct mn_worker_ref *ref) {
  return json_pack("{s:s, s:s, s:s}", "type", type, "identifier", ref->identifier,
                   "logs_identifier", ref->logs_identifier);
}

static int copy_field(const json_t *details, const char *key, char *dst, size_t size) {
  const json_t *v = json_object_get(details, key);
  const char *s = json_string_value(v);
  if (!s || strlen(s) >= size)
    return MN_EINVAL;
  memcpy(dst, s, strlen(s) + 1);
  return 0;
}

int mn_worker_details_parse(const json_t *details, const char **type_out,
                            struct mn_worker_ref *ref_out) {
  memset(ref_out, 0, sizeof *ref_out);
  const char *type = json_string_value(json_object_get(details, "type"));
  if (!json_is_object(details) || !type || !type[0])
    return MN_EINVAL;
  if (copy_field(details, "identifier", ref_out->identifier, sizeof ref_out->identifier))
    return MN_EINVAL;
  /* logs_identifier is optional: the identifier stands in for it */
  if (json_object_get(details, "logs_identifier") &&
      !json_is_null(json_object_get(details, "logs_identifier"))) {
    if (copy_field(details, "logs_identifier", ref_out->logs_identifier,
                   sizeof ref_out->logs_identifier))
      return MN_EINVAL;
  } else {
    memcpy(ref_out->logs_identifier, ref_out->identifier, sizeof ref_out->identifier);
  }
  *type_out = type;
  return 0;
}
