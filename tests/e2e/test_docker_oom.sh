#!/usr/bin/env bash
# A memory hog in a container with a 64 MiB limit (Memory = MemorySwap): the
# kernel kills it; the engine reports the container OOMKilled, the provider
# gives the reason "out of memory", and the attempt fails with an error that
# says "out of memory".
#
# The kernel picks the biggest process of the container's cgroup: the
# command, not multinode-worker, which then reports FAILED itself. The error
# says "out of memory" only when the worker recognises the kill (its cgroup's
# OOM-kill counter rose while the command ran): that is the worker's part.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
IMG=multinode-e2e-worker:oom
docker_image_build "$IMG"
daemon_config main "$(docker_yaml)"
daemon_start main
api PUT /projects/oom >/dev/null
V=$(api POST /projects/oom/versions "{\"default_docker_image\":\"$IMG\",\"functions\":[
  {\"function_name\":\"hog\",\"command\":[\"sh\",\"-c\",\"x=0123456789abcdef; while :; do x=\$x\$x; done\"],
   \"resource_spec\":{\"virtual_cpus\":1,\"memory_gbs\":0.0625,\"max_concurrency\":1},
   \"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":60}}]}" | jq -r .version_id)
[[ $V == ver-* ]] || fail "no version: $V"
base=/projects/oom/versions/$V/functions/hog/invocations
id=$(api POST "$base" '{"input":""}' | jq -r .invocation_id)
ended() { api GET "$base/$id" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
wait_until 60 "the memory hog $id to end" ended
j=$(api GET "$base/$id")
exe=$(jq -r '.executions[0].execution_id' <<<"$j")
jq -e '.executions | length == 1 and (.[0] | .worker_status == "TERMINATED" and
  .outcome != "SUCCEEDED")' <<<"$j" >/dev/null || fail "the memory hog: $(jq -c .executions <<<"$j")"
wait_until 10 "the provider to report the OOM kill" \
  grep -q "execution $exe: the worker exited with code [0-9]*: out of memory" "$MN_WORK/main.log"
pass "the engine's OOMKilled is reported: $(grep -o "execution $exe: the worker exited.*" "$MN_WORK/main.log")"
jq -e '.executions[0].error_message | test("out of memory")' <<<"$j" >/dev/null ||
  fail "the attempt's error does not say out of memory: $(jq -c '.executions[0] | {outcome, error_message}' <<<"$j")"
pass "the attempt failed with: $(jq -r '.executions[0].error_message' <<<"$j")"
wait_until 30 "no container left" no_containers
