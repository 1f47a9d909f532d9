#!/usr/bin/env bash
# The daemon SIGKILLed while its containers run, and restarted: it finds its
# containers again through their labels (adopts them, launches nothing twice),
# removes a stray container of its cluster that no execution knows, and every
# invocation ends once; no container is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"

docker_engine_up
IMG=multinode-e2e-worker:kill
docker_image_build "$IMG"
daemon_config main "$(docker_yaml)"
daemon_start main
dk_fn_script
dk_deploy crash "$IMG" 100 2 >/dev/null

ids=()
for _ in 1 2 3 4; do ids+=("$(dk_invoke)"); done
for id in "${ids[@]}"; do wait_until 30 "$id to start" test -f "$MN_WORK/$id.started"; done
cluster=$(dk GET "/containers/json" | jq -r '.[0].Labels["multinode.cluster"]')
[ -n "$cluster" ] && [ "$cluster" != null ] || fail "no cluster label"
# a container of this cluster for an execution the database never knew
stray=$(curl -s --unix-socket "$MN_DOCKER_SOCK" -H 'Content-Type: application/json' \
  -X POST "http://engine/v1.41/containers/create?name=multinode-exe-stray" \
  --data "{\"Image\":\"$IMG\",\"Entrypoint\":[\"sleep\",\"300\"],\"StopTimeout\":1,
    \"Labels\":{\"multinode.cluster\":\"$cluster\",\"multinode.execution_id\":\"exe-stray\"},
    \"HostConfig\":{\"NetworkMode\":\"host\"}}" | jq -r .Id)
dk POST "/containers/$stray/start" >/dev/null
[ "$(containers '{"status":["running"]}' | wc -l)" -eq 5 ] || fail "expected 5 running containers"
pass "4 invocations running, plus a stray container"

daemon_kill main KILL
# two finish while the daemon is down: their workers retry the report
touch "$MN_WORK/${ids[0]}.go" "$MN_WORK/${ids[1]}.go"
daemon_start main
wait_until 30 "the stray container to be removed" \
  container_gone multinode-exe-stray
for id in "${ids[@]}"; do touch "$MN_WORK/$id.go"; done
all_done() { for id in "${ids[@]}"; do dk_terminated "$id" || return 1; done; }
wait_until 90 "every invocation to end" all_done
for id in "${ids[@]}"; do
  dk_succeeded_once "$id" || fail "$id: $(dk_inv "$id" | jq -c .)"
done
pass "restarted: the stray is removed; all 4 invocations SUCCEEDED, one execution each"
wait_until 30 "every container to be removed" no_containers
pass "no container left behind"
