/* Text literals of Postgres arrays ('{"a","b"}'), for passing many values
 * as one statement parameter (then unnest($1::text[]) in SQL). */
#ifndef MN_STORE_PG_ARRAY_H
#define MN_STORE_PG_ARRAY_H

#include <stddef.h>

struct mn_pg_array {
  char *buf;
  size_t len, cap;
  size_t n;
  int oom;
};

void mn_pg_array_init(struct mn_pg_array *a);
/* Appends one element (NULL: SQL NULL), quoted and escaped. */
void mn_pg_array_add(struct mn_pg_array *a, const char *value);
/* Finishes the literal and returns it; NULL after an allocation failure.
 * Call once, after the last add; valid until release. */
const char *mn_pg_array_text(struct mn_pg_array *a);
void mn_pg_array_release(struct mn_pg_array *a);

#endif
