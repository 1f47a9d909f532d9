# The local provider in the scenario harness (tests/e2e/scenarios/*.sh): the
# workers are child processes of the daemon. The hooks every provider file
# defines are described in tests/e2e/lib_scenarios.sh.
SC_IMAGE=none

prov_setup() { :; }

prov_yaml() {
  printf 'providers:\n  default: local\n  local:\n    worker: %s\n' \
    "$MN_SOURCE_DIR/tests/e2e/worker-hold.sh"
}

# worker_pid FILE: the multinode-worker pid a command recorded ($PPID), checked
worker_pid() {
  local pid; pid=$(cat "$1")
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q multinode-worker ||
    fail "the command's parent $pid is not multinode-worker: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
  echo "$pid"
}

prov_kill_worker() { kill -9 "$(worker_pid "$MN_WORK/$1.worker")"; }

prov_worker_gone() {
  local cmd_pid worker_pid
  read -r cmd_pid worker_pid <"$MN_WORK/$1.pids"
  gone "$worker_pid" && gone "$cmd_pid"
}

prov_bad_function() {
  printf '{"function_name":"%s","resource_spec":{"virtual_cpus":1,"memory_gbs":4,
    "max_concurrency":100},"execution_spec":{"max_retries":%d,"timeout_seconds":60}}' "$1" "$2"
}
prov_bad_message() {
  echo "function \"$1\" has no command: the local provider runs a command, not an image"
}

# prov_worker_log DETAILS_JSON (optional hook): the worker's log, readable
# even after its project is gone.
prov_worker_log() { cat "$(jq -r .logs_identifier <<<"$1")"; }
