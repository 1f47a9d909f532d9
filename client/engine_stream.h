/* A streaming POST to the Docker Engine of $DOCKER_HOST (unix://PATH only,
 * or /var/run/docker.sock) whose answer is JSON lines, as /build and
 * /images/{name}/push answer: each complete line goes to a callback. For
 * the CLI's image builds (docker_build.c) and pushes (docker_push.c). */
#ifndef MN_CLI_ENGINE_STREAM_H
#define MN_CLI_ENGINE_STREAM_H

#include <stddef.h>
#include <stdio.h>

/* The socket path the engine is reached at. */
const char *mn_engine_socket(void);

/* One line of the answer (without its newline; longer lines are cut). */
typedef void (*mn_engine_line_fn)(void *ctx, const char *line, size_t len);

struct mn_engine_post {
  const char *path;   /* "/build?t=...", the query already escaped */
  const char *header; /* one extra header line, or NULL */
  FILE *body;         /* the request body, or NULL for none */
  long long body_size;
  long timeout_s;
  mn_engine_line_fn on_line;
  void *ctx;
};

/* 0 with the HTTP status in *status (the lines went to on_line), or -1
 * with why: DOCKER_HOST is not unix://, the engine was not reached, or
 * memory ran out. */
int mn_engine_post_lines(const struct mn_engine_post *req, long *status, char *why,
                         size_t why_size);

#endif
