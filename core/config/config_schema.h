/* The configuration's key tables (nginx ngx_command_t / Fluent Bit config
 * maps): every key with its type, flags, default, place in struct mn_config
 * and description. One walker checks a YAML mapping against a table; the
 * same tables print the configuration reference (--help, README). */
#ifndef MN_CONFIG_CONFIG_SCHEMA_H
#define MN_CONFIG_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

enum mn_cfg_type {
  MN_CFG_T_SECTION = 0, /* a mapping checked against `children` */
  MN_CFG_T_STRING,      /* char *: any scalar */
  MN_CFG_T_URL,         /* char *: http:// or https:// URL */
  MN_CFG_T_INT,         /* int, within [min, max] */
  MN_CFG_T_DURATION,    /* int64_t seconds ("90s", "5m", "1h", "1d", 120), in [min, max] */
  MN_CFG_T_LISTEN,      /* "host:port": char * at offset, int port at offset2 */
  MN_CFG_T_LOG_LEVEL,   /* enum mn_log_level: error|warn|info|debug */
  MN_CFG_T_PROVIDERS,   /* providers: default + one mapping per provider */
  MN_CFG_T_BOOL,        /* bool: true|false */
  MN_CFG_T_API_KEYS,    /* server.api_keys: a list of {name, sha256|key_env, role, projects} */
};

#define MN_CFG_F_REQUIRED 0x1u /* error when absent (and no default) */
#define MN_CFG_F_ENV 0x2u      /* also `<name>_env: VAR`: the value is read from $VAR */
#define MN_CFG_F_NONEMPTY 0x4u /* "" is refused */
#define MN_CFG_F_SECRET 0x8u   /* never printed */

struct mn_cfg_key {
  const char *name;
  enum mn_cfg_type type;
  unsigned flags;
  const char *def;   /* default, written as in YAML; NULL: none */
  size_t offset;     /* of the field in struct mn_config */
  size_t offset2;    /* LISTEN: of the port field */
  long long min, max;
  const struct mn_cfg_key *children; /* SECTION; ends with a NULL name */
  const char *description;
};

/* The root table (ends with a NULL name). */
extern const struct mn_cfg_key mn_config_schema[];

const char *mn_cfg_type_name(enum mn_cfg_type type);

/* Prints every key (path, type, default, description) as a Markdown table. */
void mn_config_print_reference(FILE *out);

#endif
