#!/usr/bin/env bash
# The Docker provider against a private Docker Engine:
#  - a container per execution, named after the execution id, labelled with
#    the project, version, function, invocation, execution and cluster;
#    NanoCpus, Memory and MemorySwap (= Memory) from the resource spec, the
#    function's command as Cmd, the Multinode environment; all visible in
#    the engine's inspect;
#  - the container is removed once its execution is recorded, its log saved
#    first: the logs endpoint pages it the same way before and after;
#  - a missing image fails the function's preparation with a message naming it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
IMG=multinode-e2e-worker:resources
docker_image_build "$IMG"
daemon_config main "scheduler:
  termination_grace_seconds: 5
$(docker_yaml "retention: 1h")"
daemon_start main
# a saved log from 2 hours ago: past the retention, the first release deletes it
ancient=$MN_WORK/data/docker/logs/multinode-exe-ancient.log
echo "old" >"$ancient"
touch -d '2 hours ago' "$ancient"

cat >"$MN_WORK/fn.sh" <<SH
me=$MN_WORK/\$MULTINODE_INVOCATION_ID
case "\$(cat)" in
hold)
  for i in 1 2 3 4 5 6 7; do echo "err \$i" >&2; done
  touch "\$me.started"
  i=0; while [ ! -f "\$me.go" ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
  echo "the result" ;;
esac
SH
fn() { # NAME VCPUS MEMORY_GB [EXTRA_JSON]
  printf '{"function_name":"%s","command":["sh","%s"],%s
    "resource_spec":{"virtual_cpus":%s,"memory_gbs":%s,"max_concurrency":10},
    "execution_spec":{"max_retries":0,"timeout_seconds":60}}' "$1" "$MN_WORK/fn.sh" "${4:-}" "$2" "$3"
}
MISSING=multinode-e2e-missing:none
api PUT /projects/res >/dev/null
V=$(api POST /projects/res/versions "{\"default_docker_image\":\"$IMG\",\"functions\":[
  $(fn sized 0.5 0.25),
  $(fn missing 1 1 "\"docker_image_override\":\"$MISSING\",")]}" | jq -r .version_id)
[[ $V == ver-* ]] || fail "no version: $V"
base=/projects/res/versions/$V/functions
invoke() { api POST "$base/$1/invocations" "{\"input\":\"$2\"}" | jq -r .invocation_id; }
inv() { api GET "$base/$1/invocations/$2"; }
ended() { inv "$1" "$2" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }

# ---------------------------------------------------------------------------
i1=$(invoke sized hold)
wait_until 30 "the command of $i1 to start" test -f "$MN_WORK/$i1.started"
exe=$(inv sized "$i1" | jq -r '.executions[0].execution_id')
c=$(dk GET "/containers/multinode-$exe/json")
jq -e --arg exe "$exe" --arg inv "$i1" --arg v "$V" --arg fn "$MN_WORK/fn.sh" --arg img "$IMG" '
  .Name == "/multinode-\($exe)" and .Config.Image == $img and .State.Status == "running" and
  .HostConfig.NanoCpus == 500000000 and .HostConfig.Memory == 268435456 and
  .HostConfig.MemorySwap == 268435456 and .HostConfig.NetworkMode == "host" and
  .Config.Cmd == ["sh", $fn] and
  .Config.Labels["multinode.project"] == "res" and .Config.Labels["multinode.version_id"] == $v and
  .Config.Labels["multinode.function"] == "sized" and
  .Config.Labels["multinode.invocation_id"] == $inv and
  .Config.Labels["multinode.execution_id"] == $exe and
  (.Config.Labels["multinode.cluster"] | length > 0) and
  (.Config.Env | index("MULTINODE_EXECUTION_ID=\($exe)") != null) and
  (.Config.Env | index("MULTINODE_INVOCATION_ID=\($inv)") != null)' <<<"$c" >/dev/null ||
  fail "the container of $exe: $(jq -c '{Name, Config: .Config | {Image, Cmd, Labels}, HostConfig: .HostConfig | {NanoCpus, Memory, MemorySwap, NetworkMode}}' <<<"$c")"
inv sized "$i1" | jq -e --arg n "multinode-$exe" '.executions[0].worker_details |
  .type == "docker" and .identifier == $n' >/dev/null || fail "worker_details of $i1"
pass "a container per execution: name, labels, NanoCpus, Memory = MemorySwap, Cmd, env"

# the log pages the same while the container runs and after it is removed
logs_all() { # EXE: every line, one page of 3 at a time
  local off="" page out=""
  for _ in $(seq 1 20); do
    page=$(api GET "$base/sized/invocations/$i1/executions/$1/logs?max_lines=3${off:+&initial_offset=$off}")
    [ "$(last_status)" = 200 ] || fail "logs: $(last_status) $page"
    [ "$(jq '.log_lines | length' <<<"$page")" -gt 0 ] || break
    out+=$(jq -r '.log_lines[]' <<<"$page")$'\n'
    off=$(jq -r '.next_offset' <<<"$page")
  done
  printf '%s' "$out"
}
# the command's stderr goes to the log (its stdout is the result)
want=$(for i in 1 2 3 4 5 6 7; do echo "err $i"; done)
live=$(logs_all "$exe" | grep -E '^err ' || true)
[ "$live" = "$want" ] || fail "live log, paged by 3: $live"
touch "$MN_WORK/$i1.go"
wait_until 30 "$i1 to end" ended sized "$i1"
inv sized "$i1" | jq -e '.executions[0] | .outcome == "SUCCEEDED" and .output == "the result"' \
  >/dev/null || fail "outcome of $i1: $(inv sized "$i1")"
wait_until 30 "the container of $exe to be removed" \
  container_gone "multinode-$exe"
test -s "$MN_WORK/data/docker/logs/multinode-$exe.log" || fail "no saved log for $exe"
[ ! -e "$ancient" ] || fail "the saved log older than the retention (1h) is still there"
saved=$(logs_all "$exe")
[ "$(grep -E '^err ' <<<"$saved")" = "$want" ] || fail "saved log differs: $saved"
grep -q '^multinode-worker: ' <<<"$saved" || fail "the worker's own lines are missing: $saved"
[ "$(sort <<<"$saved" | uniq -d)" = "" ] || fail "a line served twice: $saved"
pass "log paged (3 lines a page) from the engine, then from the saved file after removal; saved logs past the retention deleted"

# ---------------------------------------------------------------------------
i3=$(invoke missing go)
wait_until 30 "$i3 to end" ended missing "$i3"
msg="image \"$MISSING\" not found"
inv missing "$i3" | jq -e --arg m "$msg" '.executions | length == 1 and (.[0] |
  .worker_status == "TERMINATED" and .error_message == $m and .worker_details == null)' \
  >/dev/null || fail "missing image: $(inv missing "$i3" | jq -c .executions)"
api GET "/projects/res/versions/$V" | jq -e --arg m "$msg" \
  '.functions[] | select(.function_name == "missing") | .preparation_error == $m' >/dev/null ||
  fail "preparation_error: $(api GET "/projects/res/versions/$V")"
pass "a missing image fails preparation: $msg"

wait_until 30 "no container left" no_containers
pass "no container left behind"
