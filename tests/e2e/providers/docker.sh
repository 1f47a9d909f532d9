# The Docker provider in the scenario harness (tests/e2e/scenarios/*.sh):
# every worker is a container on a private engine started for this test. The
# hooks every provider file defines are described in tests/e2e/lib_scenarios.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../lib_docker.sh"
SC_IMAGE=multinode-e2e-worker:scenarios
SC_MISSING_IMAGE=multinode-e2e-missing:none

prov_setup() {
  docker_engine_up
  docker_image_build "$SC_IMAGE"
}

prov_yaml() { docker_yaml; }

# A hardware failure: the container's main process (multinode-worker) is
# SIGKILLed.
prov_kill_worker() {
  local ids
  ids=$(running_of "$1")
  [ -n "$ids" ] || fail "no running container for invocation $1"
  for id in $ids; do
    dk POST "/containers/$id/kill?signal=SIGKILL" >/dev/null
  done
}

prov_worker_gone() { [ -z "$(running_of "$1")" ]; }

prov_bad_function() {
  printf '{"function_name":"%s","docker_image_override":"%s","command":["sh","%s"],
    "resource_spec":{"virtual_cpus":1,"memory_gbs":4,"max_concurrency":100},
    "execution_spec":{"max_retries":%d,"timeout_seconds":60}}' "$1" "$SC_MISSING_IMAGE" "$SC_FN" "$2"
}
prov_bad_message() { echo "image \"$SC_MISSING_IMAGE\" not found"; }

# The saved log of a released container (data_dir/docker/logs/NAME.log):
# timestamped lines, the timestamp stripped here.
prov_worker_log() {
  sed 's/^[^ ]* //' "$MN_WORK/data/docker/logs/$(jq -r .identifier <<<"$1").log"
}
