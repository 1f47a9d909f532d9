#!/usr/bin/env bash
# examples/expensive_task through the Docker provider, as a user works
# locally: the worker image built from this build's binaries by
# scripts/worker-image.sh (no registry), `multinode deploy`, `multinode start`
# and `multinode wait`. The function asks for 4 vCPUs and 16 GiB: the
# container gets 16 GiB and at most the engine's CPUs (which refuses more).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
"$MN_SOURCE_DIR/scripts/worker-image.sh" --bin-dir "$MN_BIN_DIR" --tag multinode-worker:local \
  >"$MN_WORK/image.log" 2>&1 || fail "scripts/worker-image.sh: $(tail -n 20 "$MN_WORK/image.log")"
pass "worker image multinode-worker:local built without a registry"

daemon_config main "$(docker_yaml)"
daemon_start main
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY HOME=$MN_WORK
mn=$MN_BIN_DIR/multinode
cp -r "$MN_SOURCE_DIR/examples/expensive_task" "$MN_WORK/" # $MN_WORK is bind-mounted
# as its README says for containers: the folder is mounted (binds), the
# `provider: local` line goes, and deploy gets --allow-host-paths
sed -i '/^    provider: local$/d' "$MN_WORK/expensive_task/multinode.yaml"
! grep -q "provider:" "$MN_WORK/expensive_task/multinode.yaml" || fail "the provider line stayed"
v=$("$mn" deploy "$MN_WORK/expensive_task" --project-name demo --allow-host-paths 2>"$MN_WORK/err") ||
  fail "deploy: $(cat "$MN_WORK/err")"
[[ $v == ver-* ]] || fail "deploy printed \"$v\""
id=$("$mn" start --project-name demo --input 100000 run_expensive_task 2>"$MN_WORK/err") ||
  fail "start: $(cat "$MN_WORK/err")"
[[ $id == inv-* ]] || fail "start printed \"$id\""

# the container, while it runs: limits as the engine applied them
containers_of() { containers "{\"label\":[\"multinode.invocation_id=$1\"]}"; }
has_container() { [ -n "$(containers_of "$1")" ]; }
wait_until 60 "the container of $id" has_container "$id"
cid=$(containers_of "$id" | head -n1)
hc=$(dk GET "/containers/$cid/json" | jq -c .HostConfig)
ncpu=$(nproc)
want_cpus=$(( (ncpu < 4 ? ncpu : 4) * 1000000000 ))
jq -e --argjson c "$want_cpus" '.NanoCpus == $c and .Memory == 17179869184 and
  .MemorySwap == 17179869184' <<<"$hc" >/dev/null || fail "HostConfig of $cid: $hc"
pass "container $cid: NanoCpus $want_cpus (4 asked, $ncpu on this engine), Memory 16 GiB"

out=$(timeout 120 "$mn" wait --project-name demo --function run_expensive_task "$id" 2>"$MN_WORK/err") ||
  fail "wait: $(cat "$MN_WORK/err")"
[ "$out" = 9592 ] || fail "the result is \"$out\", want 9592"
status=$("$mn" get --json --project-name demo --function-name run_expensive_task "$id" | jq -r .status)
[ "$status" = SUCCEEDED ] || fail "status $status"
no_container() { ! has_container "$1"; }
wait_until 30 "the container to be removed" no_container "$id"
pass "expensive_task in a container: SUCCEEDED, 9592 primes below 100000; container removed"
