#include "multinode/common/closest.h"

#include <string.h>

/* Levenshtein distance; (size_t)-1 for words of 63 bytes or more. */
static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), row[64];
  if (la >= 63 || lb >= 63)
    return (size_t)-1;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *mn_closest_name(const char *word, const char *const *names, size_t n) {
  const char *best = NULL;
  size_t best_d = (size_t)-1, len = strlen(word);
  size_t limit = len / 3 > 2 ? len / 3 : 2;
  for (size_t i = 0; i < n; i++) {
    if (!names[i])
      continue;
    size_t d = distance(word, names[i]);
    /* a prefix counts as close: --project for --project-name */
    if (strncmp(names[i], word, len) == 0 && len >= 3)
      d = d < 1 ? d : 1;
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  return best && best_d <= limit && best_d > 0 ? best : NULL;
}
