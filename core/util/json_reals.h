/* json_reals.h — how many digits a JSON document's reals are printed with,
 * shared by the daemon's answers and the CLI's --json (dependency-free but
 * for jansson, like utf8.h). */
#ifndef MN_UTIL_JSON_REALS_H
#define MN_UTIL_JSON_REALS_H

#include <jansson.h>

/* 15 when every real in j reads back exactly from 15 significant digits
 * (then 0.1 prints as 0.1, not jansson's default 0.10000000000000001, and
 * still exactly); else 17. For JSON_REAL_PRECISION(). */
int mn_json_real_digits(const json_t *j);

#endif
