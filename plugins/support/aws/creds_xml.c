/* creds_xml.c — reads the few elements of an STS query-protocol answer.
 *
 * Not an XML parser, on purpose: the answers of AssumeRoleWithWebIdentity
 * have a fixed shape (sts-2011-06-15 model: a result wrapper holding a
 * Credentials structure of four strings, or ErrorResponse/Error with Code
 * and Message), without attributes on those elements, CDATA, comments or
 * DTDs. This finds an element by its exact name inside a given range and
 * decodes the five predefined entities and character references; anything
 * it does not handle (markup inside a text element, a comment, CDATA or a
 * DTD anywhere, an unknown entity, a repeated element) is refused as
 * malformed rather than guessed at. It saves the plugin a dependency on
 * libxml2 (and its process-wide state) for four strings. */
#include "creds_xml.h"

#include <stdlib.h>
#include <string.h>

#include "multinode/common/utf8.h"

static const char *find(const char *s, const char *end, const char *needle) {
  size_t n = strlen(needle);
  for (; s && (size_t)(end - s) >= n; s++)
    if (memcmp(s, needle, n) == 0)
      return s;
  return NULL;
}

/* The open tag <name ...> or <name/> in [s, end): sets *content to just
 * after it, *empty for <name/>. */
static const char *open_tag(const char *s, const char *end, const char *name,
                            const char **content, int *empty) {
  size_t n = strlen(name);
  for (const char *p = s; (p = find(p, end, "<")) != NULL; p++) {
    const char *q = p + 1, *gt;
    if ((size_t)(end - q) <= n || memcmp(q, name, n) != 0)
      continue;
    q += n;
    if (*q != '>' && *q != '/' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
      continue;
    if (!(gt = find(q, end, ">")))
      return NULL;
    *empty = gt[-1] == '/';
    *content = gt + 1;
    return p;
  }
  return NULL;
}

int creds_xml_section(const char *s, const char *end, const char *name, const char **in_start,
                      const char **in_end) {
  char close[80];
  const char *content, *c, *again;
  int empty;

  if (strlen(name) + 4 > sizeof close || find(s, end, "<!"))
    return CREDS_XML_MALFORMED;
  if (!open_tag(s, end, name, &content, &empty))
    return CREDS_XML_ABSENT;
  if (empty) {
    *in_start = *in_end = content;
    c = content;
  } else {
    strcpy(close, "</");
    strcat(close, name);
    strcat(close, ">");
    if (!(c = find(content, end, close)))
      return CREDS_XML_MALFORMED;
    *in_start = content;
    *in_end = c;
    c += strlen(close);
  }
  if (open_tag(c, end, name, &again, &empty) || open_tag(*in_start, *in_end, name, &again, &empty))
    return CREDS_XML_MALFORMED; /* repeated or nested */
  return 0;
}

static int put_utf8(unsigned long cp, char *out, size_t cap, size_t *o) {
  char b[4];
  size_t n = cp ? mn_utf8_encode(cp, b) : 0;
  if (!n || *o + n >= cap)
    return -1;
  memcpy(out + *o, b, n);
  *o += n;
  return 0;
}

static int decode(const char *s, const char *end, char *out, size_t cap) {
  static const struct {
    const char *ent;
    char ch;
  } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  size_t o = 0;

  while (s < end) {
    if (*s == '<')
      return CREDS_XML_MALFORMED;
    if (*s != '&') {
      if (*s == '\0' || o + 1 >= cap)
        return CREDS_XML_MALFORMED;
      out[o++] = *s++;
      continue;
    }
    if (s + 2 < end && s[1] == '#') {
      const char *semi = find(s, end, ";");
      int hex = s[2] == 'x';
      char *stop;
      unsigned long cp;
      if (!semi || semi - s > 12 || semi == s + 2 + hex)
        return CREDS_XML_MALFORMED;
      cp = strtoul(s + 2 + hex, &stop, hex ? 16 : 10);
      if (stop != semi || put_utf8(cp, out, cap, &o))
        return CREDS_XML_MALFORMED;
      s = semi + 1;
      continue;
    }
    for (size_t i = 0;; i++) {
      size_t n;
      if (i == sizeof named / sizeof named[0])
        return CREDS_XML_MALFORMED;
      n = strlen(named[i].ent);
      if ((size_t)(end - s) >= n && memcmp(s, named[i].ent, n) == 0) {
        if (o + 1 >= cap)
          return CREDS_XML_MALFORMED;
        out[o++] = named[i].ch;
        s += n;
        break;
      }
    }
  }
  out[o] = '\0';
  return 0;
}

int creds_xml_text(const char *s, const char *end, const char *name, char *out, size_t cap) {
  const char *a, *b;
  int rc = creds_xml_section(s, end, name, &a, &b);
  if (rc)
    return rc;
  /* Whitespace around the text is layout, not value. */
  while (a < b && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n'))
    a++;
  while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r' || b[-1] == '\n'))
    b--;
  return decode(a, b, out, cap);
}
