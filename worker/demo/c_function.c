/* A function written in C (include/multinode/worker.h), run by the e2e
 * tests under multinode-worker. Its input is a command:
 *   "echo TEXT"      result: TEXT
 *   "progress TEXT"  records TEXT as progress and sets no result
 *   "child FUNCTION" starts FUNCTION as a child; result: the child's id
 *   "fail TEXT"      writes TEXT to standard error and exits 3 */
#include <stdio.h>
#include <string.h>

#include "multinode/worker.h"

static int run(struct mn_worker *w, struct mn_client_error *err) {
  const char *in = mn_worker_input(w, NULL);
  if (!in) {
    fprintf(stderr, "cannot read the input\n");
    return 1;
  }
  if (!strncmp(in, "echo ", 5))
    return mn_worker_set_result(w, in + 5, err) < 0;
  if (!strncmp(in, "progress ", 9))
    return mn_worker_progress(w, in + 9, err) < 0;
  if (!strncmp(in, "child ", 6)) {
    json_t *child = NULL;
    int rc = mn_worker_start_child(w, in + 6, "from-parent", &child, err) < 0 ||
             mn_worker_set_result(w, mn_client_json_str(child, "invocation_id"), err) < 0;
    json_decref(child);
    return rc;
  }
  if (!strncmp(in, "fail ", 5)) {
    fprintf(stderr, "%s\n", in + 5);
    return 3;
  }
  fprintf(stderr, "unknown input \"%s\"\n", in);
  return 2;
}

int main(void) {
  struct mn_worker *w;
  struct mn_client_error err = {0};
  int rc;
  if (mn_worker_open(&w, &err) < 0) {
    fprintf(stderr, "mn_worker_open: %s\n", err.detail);
    return 1;
  }
  rc = run(w, &err);
  if (rc == 1 && err.detail[0])
    fprintf(stderr, "%s\n", err.detail);
  mn_worker_close(w);
  return rc;
}
