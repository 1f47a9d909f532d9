#!/usr/bin/env bash
# Per-execution keys with the local provider (docs/security.md, "Execution
# keys"): a task reads its environment and proves that its key is not the
# daemon's, that it is refused everything outside its scope (other
# projects, another execution's /finish, project and version changes,
# invocations without its parent, logs, credentials), that it may start,
# read, list and cancel its own children, and that the key is refused once
# its execution has ended. The store holds the key's hash, not the key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"

daemon_start main
cat >"$MN_WORK/probe.sh" <<'SH'
read -r other_inv other_exe
K=$MULTINODE_API_KEY U=$MULTINODE_API_URL
P=$MULTINODE_PROJECT_NAME V=$MULTINODE_VERSION_ID F=$MULTINODE_FUNCTION_NAME
I=$MULTINODE_INVOCATION_ID E=$MULTINODE_EXECUTION_ID
base=/projects/$P/versions/$V/functions
code() { # METHOD PATH [BODY]: the HTTP status
  curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $K" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$U$2"
}
echo "key_reversed $(printf %s "$K" | rev)" # the result is stored: never the key itself
echo "list_projects $(code GET /projects)"
echo "other_project $(code GET /projects/other)"
echo "other_invocation $(code GET "$other_inv")"
echo "other_finish $(code PUT "$other_exe/finish" '{"outcome":"SUCCEEDED","final_output":"FORGED"}')"
echo "other_cancel $(code PUT "$other_inv/cancel")"
echo "create_project $(code PUT /projects/evil)"
echo "delete_project $(code DELETE /projects/other)"
echo "create_version $(code POST "/projects/$P/versions" '{"default_docker_image":"x","functions":[]}')"
echo "logs $(code GET "$base/$F/invocations/$I/executions/$E/logs")"
echo "credentials $(code GET /container_repository_credentials)"
echo "own_execution $(code GET "$base/$F/invocations/$I/executions/$E")"
echo "own_version $(code GET "/projects/$P/versions/$V")"
echo "no_parent $(code POST "$base/child/invocations" '{"input":"x"}')"
child=$(curl -s -X POST -H "Authorization: Bearer $K" -H 'Content-Type: application/json' \
  --data "{\"input\":\"x\",\"parent_invocation\":{\"function_name\":\"$F\",\"invocation_id\":\"$I\"}}" \
  "$U$base/child/invocations" | grep -o '"invocation_id": *"inv-[0-9a-f]*"' | head -n1 |
  grep -o 'inv-[0-9a-f]*')
echo "child ${child:-none}"
echo "get_child $(code GET "$base/child/invocations/$child")"
echo "list_children $(code GET "$base/child/invocations?parent_function_name=$F&parent_invocation_id=$I")"
echo "list_all $(code GET "$base/child/invocations")"
echo "cancel_child $(code PUT "$base/child/invocations/$child/cancel")"
SH
deploy() { # PROJECT: a version with probe, child and slow
  api PUT "/projects/$1" >/dev/null
  api POST "/projects/$1/versions" "{\"default_docker_image\":\"none\",\"functions\":[
    {\"function_name\":\"probe\",\"command\":[\"sh\",\"$MN_WORK/probe.sh\"],
     \"resource_spec\":{\"virtual_cpus\":0.1,\"memory_gbs\":0.25,\"max_concurrency\":5},
     \"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":120}},
    {\"function_name\":\"child\",\"command\":[\"sleep\",\"60\"],
     \"resource_spec\":{\"virtual_cpus\":0.1,\"memory_gbs\":0.25,\"max_concurrency\":5},
     \"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":120}},
    {\"function_name\":\"slow\",\"command\":[\"sleep\",\"60\"],
     \"resource_spec\":{\"virtual_cpus\":0.1,\"memory_gbs\":0.25,\"max_concurrency\":5},
     \"execution_spec\":{\"max_retries\":0,\"timeout_seconds\":120}}]}" | jq -r .version_id
}
vo=$(deploy other); vk=$(deploy keys)
[[ $vo == ver-* && $vk == ver-* ]] || fail "no versions ($vo, $vk)"

# another project's running execution, the target of the forgery
obase=/projects/other/versions/$vo/functions/slow
oid=$(api POST "$obase/invocations" '{"input":""}' | jq -r .invocation_id)
running() { api GET "$obase/invocations/$oid" | jq -e '.executions[0].worker_status == "RUNNING"' >/dev/null; }
wait_until 30 "the other project's worker" running
oexe=$(api GET "$obase/invocations/$oid" | jq -r .executions[0].execution_id)

kbase=/projects/keys/versions/$vk/functions/probe
id=$(api POST "$kbase/invocations" "$(jq -cn --arg i "$obase/invocations/$oid $obase/invocations/$oid/executions/$oexe" '{input: $i}')" |
  jq -r .invocation_id)
done_ok() { api GET "$kbase/invocations/$id" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
wait_until 60 "the probe task" done_ok
inv=$(api GET "$kbase/invocations/$id")
jq -e '.executions[0].outcome == "SUCCEEDED"' <<<"$inv" >/dev/null || fail "probe: $inv"
out=$(jq -r '.executions[0].output' <<<"$inv")
val() { awk -v k="$1" '$1 == k {print $2}' <<<"$out"; }
key=$(val key_reversed | rev)
[[ $key == mnx_* ]] && [ "$key" != "$MN_KEY" ] || fail "the task's key is \"$key\""
pass "the task's MULTINODE_API_KEY is its own (mnx_…), not the daemon's"

for k in list_projects other_project other_invocation other_finish other_cancel create_project \
  delete_project create_version logs credentials no_parent list_all; do
  [ "$(val "$k")" = 403 ] || fail "$k: $(val "$k"), want 403 (all: $out)"
done
pass "refused (403): other projects, another execution's /finish, project and version changes, invocations without its parent, logs, credentials, unfiltered lists"
for k in own_execution own_version get_child list_children cancel_child; do
  [ "$(val "$k")" = 200 ] || fail "$k: $(val "$k"), want 200 (all: $out)"
done
child=$(val child)
jq -e --arg c "$child" '.invocation_status == "RUNNING" and (.executions | length <= 1)' \
  <<<"$(api GET "$obase/invocations/$oid")" >/dev/null || fail "the other invocation changed"
[ "$(api GET "$obase/invocations/$oid" | jq -r '.executions[0].outcome')" = null ] ||
  fail "the forged /finish landed"
cbase=/projects/keys/versions/$vk/functions/child
api GET "$cbase/invocations/$child" | jq -e --arg p "$id" \
  '.parent_invocation.invocation_id == $p and .cancellation_request_time != null' >/dev/null ||
  fail "the child: $(api GET "$cbase/invocations/$child")"
pass "allowed: its own execution and version; start, read, list and cancel its child ($child)"

# after its execution ended: refused everything
exe=$(jq -r '.executions[0].execution_id' <<<"$inv")
ended=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $key" \
  "$MN_URL$kbase/invocations/$id/executions/$exe")
[ "${ended##* }" = 403 ] && grep -q "no longer valid" <<<"$ended" ||
  fail "the key after its execution ended: $ended"
pass "refused after its execution ended: ${ended% *}"

# the store keeps the key's hash only
hash=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
pidfile=$MN_WORK/data/postgres/data/postmaster.pid
stored=$(psql -X -A -t "host=$(sed -n 5p "$pidfile") port=$(sed -n 4p "$pidfile") dbname=multinode user=postgres" \
  -c "SELECT token_hash FROM executions WHERE execution_id = '$exe'")
[ "$stored" = "$hash" ] || fail "stored \"$stored\", want the SHA-256 of the key"
if grep -rqF "$key" "$MN_WORK/data/postgres" 2>/dev/null; then fail "the key is in the database files"; fi
pass "the store holds its SHA-256, not the key"
