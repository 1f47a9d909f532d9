/* creds_xml.h — the few elements of an STS query-protocol answer
 * (see creds_xml.c for why this is not a general XML parser). */
#ifndef MN_AWS_CREDS_XML_H
#define MN_AWS_CREDS_XML_H

#include <stddef.h>

#define CREDS_XML_ABSENT (-1)
#define CREDS_XML_MALFORMED (-2)

/* The content of the one element `name` in [s, end) as [*in_start, *in_end).
 * 0, CREDS_XML_ABSENT, or CREDS_XML_MALFORMED (repeated, unclosed, or the
 * document holds a comment, CDATA or a DTD). */
int creds_xml_section(const char *s, const char *end, const char *name, const char **in_start,
                      const char **in_end);
/* The decoded text of the one element `name` in [s, end), into out (NUL-
 * terminated, at most cap bytes with the NUL). 0, CREDS_XML_ABSENT, or
 * CREDS_XML_MALFORMED (markup inside, an unknown entity, too long...). */
int creds_xml_text(const char *s, const char *end, const char *name, char *out, size_t cap);

#endif
