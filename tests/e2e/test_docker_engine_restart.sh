#!/usr/bin/env bash
# The Docker Engine restarted mid-run (it runs with --live-restore, so its
# containers keep running while it is down): the provider's calls fail
# TRANSIENT while it is away and are retried, invocations started meanwhile
# wait in PROVISIONING, and when it is back every invocation ends once with
# its result — nothing lost, nothing run twice, no container left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
IMG=multinode-e2e-worker:restart
docker_image_build "$IMG"
daemon_config main "scheduler:
  inspect_interval_ms: 200
$(docker_yaml)"
daemon_start main
dk_fn_script
dk_deploy restart "$IMG" 100 0 >/dev/null

before=()
for _ in 1 2 3; do before+=("$(dk_invoke)"); done
for id in "${before[@]}"; do wait_until 30 "$id to start" test -f "$MN_WORK/$id.started"; done
pass "3 invocations running"

"$MN_SOURCE_DIR/scripts/docker-engine.sh" halt "$MN_DOCKER_DIR"
dk GET /_ping >/dev/null && fail "the engine still answers"
during=()
for _ in 1 2; do during+=("$(dk_invoke)"); done
# the launches fail TRANSIENT (logged, retried); nothing ends meanwhile
wait_until 30 "a launch to fail for the engine's absence" \
  grep -q "launch: docker engine at" "$MN_WORK/main.log"
for id in "${during[@]}" "${before[@]}"; do
  dk_inv "$id" | jq -e '.invocation_status == "RUNNING" and (.executions | length == 1) and
    .executions[0].outcome == null' >/dev/null || fail "$id while the engine is down: $(dk_inv "$id")"
done
for id in "${during[@]}"; do
  dk_inv "$id" | jq -e '.executions[0].worker_status == "PROVISIONING"' >/dev/null ||
    fail "$id should wait in PROVISIONING: $(dk_inv "$id")"
done
# the engine is away but its containers are not: one finishes meanwhile
touch "$MN_WORK/${before[0]}.go"
pass "engine down: launches retried, invocations wait, running containers carry on"

"$MN_SOURCE_DIR/scripts/docker-engine.sh" start "$MN_DOCKER_DIR" >/dev/null
for id in "${during[@]}"; do wait_until 60 "$id to start" test -f "$MN_WORK/$id.started"; done
for id in "${before[@]}" "${during[@]}"; do touch "$MN_WORK/$id.go"; done
all_done() { for id in "${before[@]}" "${during[@]}"; do dk_terminated "$id" || return 1; done; }
wait_until 60 "every invocation to end" all_done
for id in "${before[@]}" "${during[@]}"; do
  dk_succeeded_once "$id" || fail "$id: $(dk_inv "$id" | jq -c .)"
done
pass "engine back: all 5 invocations SUCCEEDED, one execution each"
wait_until 30 "every container to be removed" no_containers
pass "no container left behind"
