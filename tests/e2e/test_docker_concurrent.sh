#!/usr/bin/env bash
# 20 concurrent invocations through the Docker provider: 20 containers run at
# the same time, each invocation ends once with its own result, and no
# container is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

N=20
docker_engine_up
IMG=multinode-e2e-worker:concurrent
docker_image_build "$IMG"
daemon_config main "$(docker_yaml)"
daemon_start main
dk_fn_script
dk_deploy many "$IMG" 100 0 >/dev/null

ids=()
for _ in $(seq 1 $N); do ids+=("$(dk_invoke)"); done
all_started() { for id in "${ids[@]}"; do test -f "$MN_WORK/$id.started" || return 1; done; }
wait_until 90 "all $N commands to run" all_started
running=$(containers '{"status":["running"],"label":["multinode.execution_id"]}' | wc -l)
[ "$running" -eq $N ] || fail "$running containers run, expected $N"
pass "$N containers run at once"

for id in "${ids[@]}"; do touch "$MN_WORK/$id.go"; done
all_done() { for id in "${ids[@]}"; do dk_terminated "$id" || return 1; done; }
wait_until 60 "all $N invocations to end" all_done
for id in "${ids[@]}"; do
  dk_succeeded_once "$id" || fail "$id: $(dk_inv "$id" | jq -c .)"
done
pass "$N invocations: each SUCCEEDED once with its own output"
wait_until 30 "every container to be removed" no_containers
pass "no container left behind"
