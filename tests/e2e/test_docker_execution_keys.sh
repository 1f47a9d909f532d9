#!/usr/bin/env bash
# Per-execution keys through the Docker provider on a private Docker Engine
# (docs/security.md, "Execution keys on each provider"):
#  - a container's task proves from inside that its key is its own, refused
#    outside its scope, allowed to start and cancel its own child, and
#    refused once its execution ended (tests/e2e/lib_execution_keys.sh);
#  - the key is in the environment of that one container only: each
#    container has a key of its own, none the admin key, no label holds it;
#  - release removes the container, and its environment with it;
#  - neither the daemon's log nor the saved container log holds a key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/lib_docker.sh"
. "$(dirname "$0")/lib_execution_keys.sh"

xk_admin_key
docker_engine_up
image=multinode-e2e-worker:keys
adds=(--add /usr/bin/curl:/usr/bin/curl)
for lib in $(ldd /usr/bin/curl | grep -o '/[^ ]*'); do adds+=(--add "$lib:$lib"); done
"$MN_SOURCE_DIR/scripts/worker-image.sh" --bin-dir "$MN_BIN_DIR" --tag "$image" \
  --entrypoint "$MN_SOURCE_DIR/tests/e2e/worker-hold.sh" "${adds[@]}" >/dev/null ||
  fail "cannot build the worker image $image"
daemon_config main "scheduler:
  termination_grace_seconds: 2s
  inspect_interval_ms: 200
$(docker_yaml)"
daemon_start main
xk_setup "$image"
xk_probe_start

env_key() { # CONTAINER: its MULTINODE_API_KEY
  dk GET "/containers/$1/json" | jq -r '[.Config.Env[] | select(startswith("MULTINODE_API_KEY=")) |
    sub("^MULTINODE_API_KEY="; "")] | if length == 1 then .[0] else "none" end'
}

# --- while the probe runs: the engine's containers ----------------------------
cname=$(api GET "$XK_KBASE/invocations/$XK_ID" | jq -r .executions[0].worker_details.identifier)
ckey=$(env_key "$cname")
[[ $ckey == mnx_* ]] || fail "container $cname holds no execution key"
oname=$(api GET "$XK_OBASE/invocations/$XK_OID" | jq -r .executions[0].worker_details.identifier)
okey=$(env_key "$oname")
[[ $okey == mnx_* ]] && [ "$okey" != "$ckey" ] || fail "container $oname has no key of its own"
for c in $(containers); do
  dk GET "/containers/$c/json" >"$MN_WORK/inspect.json"
  if grep -qF "$MN_KEY" "$MN_WORK/inspect.json"; then fail "the admin key is in container $c"; fi
  if jq -c '[.Config.Labels, .HostConfig, .Mounts]' "$MN_WORK/inspect.json" | grep -F -e "$ckey" -e "$okey" >/dev/null; then
    fail "a key is in the labels, host config or mounts of container $c"
  fi
done
pass "running: each container's environment has a MULTINODE_API_KEY of its own ($cname, $oname);" \
  "no container holds the admin key, no label, host config or mount holds a key"

xk_probe_finish
[ "$XK_KEY" = "$ckey" ] || fail "the task's MULTINODE_API_KEY is not its container's"
pass "the task's MULTINODE_API_KEY is the one of its container's environment"
xk_check_ended
wait_until 20 "release to remove container $cname" container_gone "$cname"
pass "released: container $cname removed, and its environment with it"

xk_no_key_in "$MN_WORK/main.log" "$MN_WORK/data/docker/logs/$cname.log"
pass "neither the daemon's log nor the saved container log holds a key"
