# Helpers for the Docker provider's end-to-end tests: a private Docker Engine
# per test (scripts/docker-engine.sh) and a worker image built from this
# build's binaries (scripts/worker-image.sh). Source after lib.sh and
# lib_daemon.sh.
#
#   docker_engine_up          starts the engine (torn down at exit); exports
#                             DOCKER_HOST (and DOCKER_API_VERSION for the CLI);
#                             sets MN_DOCKER_DIR and MN_DOCKER_SOCK
#   docker_image_build TAG    the worker image, entrypoint tests/e2e/worker-hold.sh
#   docker_yaml [EXTRA]       the daemon's providers: section (default docker;
#                             $MN_WORK bind-mounted at the same path); EXTRA lines
#                             go into providers.docker (indented by 4)
#   dk METHOD PATH            calls the engine API; prints the body
#   containers [FILTER_JSON]  the ids of the engine's containers (all states)
#   running_of INVOCATION     the ids of running containers of an invocation
#   no_containers             true when the engine has no container at all
#   container_gone NAME       true when the engine has no container NAME
#   dk_fn_script              writes $MN_WORK/fn.sh: input "hold" touches
#                             $MN_WORK/<invocation>.started, waits (<= 60 s) for
#                             <invocation>.go, prints "done <invocation>"
#   dk_deploy PROJECT IMAGE CONCURRENCY RETRIES   a version of one function "hold"
#                             running fn.sh; prints the version id
#   dk_invoke ID_FILE         POSTs an invocation of it ($DK_BASE), input hold
: "${MN_WORK:?source lib_daemon.sh first}"
: "${MN_SOURCE_DIR:?}"

docker_engine_up() {
  [ "$(id -u)" = 0 ] || fail "the docker tests need root (a private dockerd)"
  local t
  for t in dockerd containerd runc docker busybox jq; do
    command -v "$t" >/dev/null || fail "$t is missing (apt-get install docker.io busybox-static jq)"
  done
  MN_DOCKER_DIR=$(mktemp -d /tmp/mnd.XXXXXX)
  on_exit "'$MN_SOURCE_DIR/scripts/docker-engine.sh' teardown '$MN_DOCKER_DIR'"
  MN_DOCKER_SOCK=$("$MN_SOURCE_DIR/scripts/docker-engine.sh" start "$MN_DOCKER_DIR") ||
    fail "the private docker engine did not start"
  export DOCKER_HOST=unix://$MN_DOCKER_SOCK DOCKER_API_VERSION=1.41
}

docker_image_build() {
  "$MN_SOURCE_DIR/scripts/worker-image.sh" --bin-dir "$MN_BIN_DIR" --tag "$1" \
    --entrypoint "$MN_SOURCE_DIR/tests/e2e/worker-hold.sh" >/dev/null ||
    fail "cannot build the worker image $1"
}

docker_yaml() {
  printf 'providers:\n  default: docker\n  docker:\n    socket: %s\n    network: host\n    binds: ["%s:%s"]\n' \
    "$MN_DOCKER_SOCK" "$MN_WORK" "$MN_WORK"
  [ -z "${1:-}" ] || sed 's/^/    /' <<<"$1"
}

dk() {
  curl -s --max-time 30 --unix-socket "$MN_DOCKER_SOCK" -X "$1" "http://engine/v1.41$2"
}

containers() {
  local q=/containers/json?all=1
  [ -z "${1:-}" ] || q="$q&filters=$(jq -rn --arg f "$1" '$f | @uri')"
  dk GET "$q" | jq -r '.[].Id'
}

no_containers() { [ -z "$(containers)" ]; }
container_gone() {
  [ "$(dk GET "/containers/$1/json" | jq -r .message)" = "No such container: $1" ]
}

running_of() {
  containers "{\"label\":[\"multinode.invocation_id=$1\"],\"status\":[\"running\"]}"
}

dk_fn_script() {
  cat >"$MN_WORK/fn.sh" <<SH
me=$MN_WORK/\$MULTINODE_INVOCATION_ID
[ "\$(cat)" = hold ] || exit 2
touch "\$me.started"
i=0; while [ ! -f "\$me.go" ] && [ \$i -lt 300 ]; do sleep 0.2; i=\$((i + 1)); done
echo "done \$MULTINODE_INVOCATION_ID"
SH
}

dk_deploy() {
  local v
  api PUT "/projects/$1" >/dev/null
  v=$(api POST "/projects/$1/versions" "{\"default_docker_image\":\"$2\",\"functions\":[
    {\"function_name\":\"hold\",\"command\":[\"sh\",\"$MN_WORK/fn.sh\"],
     \"resource_spec\":{\"virtual_cpus\":0.1,\"memory_gbs\":0.25,\"max_concurrency\":$3},
     \"execution_spec\":{\"max_retries\":$4,\"timeout_seconds\":120}}]}" | jq -r .version_id)
  [[ $v == ver-* ]] || fail "no version for $1: $v"
  DK_BASE=/projects/$1/versions/$v/functions/hold
  echo "$v"
}

dk_invoke() {
  local id
  id=$(api POST "$DK_BASE/invocations" '{"input":"hold"}' | jq -r .invocation_id)
  [[ $id == inv-* ]] || fail "no invocation id"
  echo "$id"
}
dk_inv() { api GET "$DK_BASE/invocations/$1"; }
# dk_succeeded_once ID: TERMINATED with exactly one execution, SUCCEEDED
dk_succeeded_once() {
  dk_inv "$1" | jq -e --arg id "$1" '.invocation_status == "TERMINATED" and
    (.executions | length == 1) and .executions[0].outcome == "SUCCEEDED" and
    .executions[0].output == "done \($id)"' >/dev/null
}
dk_terminated() { dk_inv "$1" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
