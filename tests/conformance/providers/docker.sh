# A private Docker Engine (tests/e2e/lib_docker.sh) and a worker image whose
# entrypoint is the suite's worker.sh.
. "$MN_SOURCE_DIR/tests/e2e/lib_docker.sh"
docker_engine_up
export MN_DOCKER_SOCK CONFORMANCE_IMAGE=multinode-conformance:worker
"$MN_SOURCE_DIR/scripts/worker-image.sh" --bin-dir "$MN_BIN_DIR" --tag "$CONFORMANCE_IMAGE" \
  --entrypoint "$CONFORMANCE_WORKER" >/dev/null || fail "cannot build the worker image"
export CONFORMANCE_DOWN='s#^socket: .*#socket: /nonexistent/docker.sock#'
