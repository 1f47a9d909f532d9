#!/usr/bin/env bash
# Status and faults through the k8s provider against the API simulator:
#  - every status pass is ONE labelled list of Jobs and ONE of Pods, whatever
#    the number of running Jobs (16 here): no per-Job call;
#  - 429 with Retry-After and 500 answers are TRANSIENT: retried without
#    consuming an attempt, the 429 after its Retry-After (the tracker);
#  - a status pass reuses the provider's connection (the simulator counts
#    new API connections, each a TLS handshake);
#  - an image that cannot be pulled, a pod stuck Pending past pending_timeout
#    and an OOM-killed container end the attempt with the reason named;
#  - the Job is created with the Job spec the issue asks for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
SC_PROVIDER=k8s
. "$(dirname "$0")/lib_scenarios.sh"

prov_setup
daemon_config main "scheduler:
  termination_grace_seconds: 5s
  inspect_interval_ms: 200
$(prov_yaml)
    pending_timeout: 3s
    ttl_seconds_after_finished: 2h"
daemon_start main
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
V=$(sc_deploy st 60)

# --- the Job as created ------------------------------------------------------
first=$(invoke st "$V" standard hold)
wait_started "$first"
job=$(field "$first" '.executions[0].worker_details.identifier')
exe=$(field "$first" '.executions[0].execution_id')
[ "$job" = "$K8S_NS/mn-$exe" ] || fail "job reference $job"
j=$(curl -sfk -H "Authorization: Bearer $K8S_TOKEN" "$K8S_URL/apis/batch/v1/namespaces/$K8S_NS/jobs/mn-$exe")
jq -e --arg e "$exe" --arg i "$first" '.spec.backoffLimit == 0 and .spec.ttlSecondsAfterFinished == 7200 and
  .metadata.labels["multinode.dev/execution"] == $e and .metadata.labels["multinode.dev/invocation"] == $i and
  .metadata.labels["multinode.dev/project"] == "st" and .metadata.labels["multinode.dev/function"] == "standard" and
  (.metadata.labels["multinode.dev/cluster"] | length > 0) and
  (.spec.template.spec | .restartPolicy == "Never" and .terminationGracePeriodSeconds == 120 and
    (.containers | length == 1) and (.containers[0] | .name == "main" and
      .image == "registry.example/multinode/worker:e2e" and .args[0] == "sh" and
      .resources.requests == {"cpu": "1", "memory": "4Gi"} and .resources.limits == .resources.requests and
      any(.env[]; .name == "MULTINODE_EXECUTION_ID" and .value == $e) and
      any(.env[]; .name == "MN_HOLD_FILE")))' <<<"$j" >/dev/null || fail "the Job: $(jq -c . <<<"$j")"
pass "the Job: backoffLimit 0, TTL, labels, restartPolicy Never, grace, container main, args, env, 1/4Gi"

# --- one list call per pass ----------------------------------------------------
ids=()
for i in $(seq 1 15); do ids+=("$(invoke st "$V" standard hold)"); done
for id in "${ids[@]}"; do wait_started "$id"; done
k8s_ctl POST /_sim/reset '{}' >/dev/null
passes() { [ "$(k8s_requests 'list jobs')" -ge 10 ]; }
wait_until 30 "10 status passes" passes
s=$(k8s_stats)
jq -e '.requests["list jobs"] as $j | .requests["list pods"] as $p |
  ($p - $j | fabs) <= 1 and ([.requests | to_entries[] | select(.key != "list jobs" and .key != "list pods") | .value] | add // 0) == 0' \
  <<<"$s" >/dev/null || fail "status passes with 16 running Jobs: $(jq -c .requests <<<"$s")"
pass "16 running Jobs: $(jq -c .requests <<<"$s") -- one Job list and one Pod list per pass, nothing per Job"
# the provider keeps its connection (and TLS session) from pass to pass
jq -e '.apiConnections <= 2' <<<"$s" >/dev/null ||
  fail "$(jq .apiConnections <<<"$s") new API connections (TLS handshakes) in $(jq '.requests["list jobs"]' <<<"$s") passes"
pass "$(jq .apiConnections <<<"$s") new API connections (TLS handshakes) in $(jq '.requests["list jobs"]' <<<"$s") status passes"
for id in "$first" "${ids[@]}"; do go "$id"; done
for id in "$first" "${ids[@]}"; do
  wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "$id to end"
  expect "$id" '.executions[0].outcome == "SUCCEEDED"' "SUCCEEDED"
done
[ "$(k8s_stats | jq .jobs)" = 16 ] || fail "finished Jobs are left to their TTL: $(k8s_stats | jq .jobs) Jobs left"
pass "16 SUCCEEDED; the finished Jobs stay (ttlSecondsAfterFinished) with their logs"

# --- logs: pages of one line add up to the whole log ------------------------
lb=$(invoke st "$V" standard fail)
wait_started "$lb"
go "$lb"
wait_inv 30 "$lb" '.invocation_status == "TERMINATED"' "the failing invocation to end"
lexe=$(field "$lb" '.executions[0].execution_id')
lpath="$(base_of "$lb")/invocations/$lb/executions/$lexe/logs"
whole=$(call GET "$lpath?max_lines=250" | jq -c '.log_lines')
jq -e 'length >= 2 and any(.[]; . == "something went wrong")' <<<"$whole" >/dev/null ||
  fail "the log: $whole"
paged='[]' off=''
for _ in $(seq 1 300); do
  page=$(call GET "$lpath?max_lines=1${off:+&initial_offset=$(jq -rn --arg o "$off" '$o|@uri')}")
  [ "$(jq '.log_lines | length' <<<"$page")" -le 1 ] || fail "a page of more than max_lines: $page"
  [ "$(jq '.log_lines | length' <<<"$page")" = 1 ] || break
  paged=$(jq -c --argjson p "$paged" '$p + .log_lines' <<<"$page")
  off=$(jq -r '.next_offset // ""' <<<"$page")
  [ -n "$off" ] || break
done
[ "$paged" = "$whole" ] || fail "paged log $paged differs from the whole log $whole"
pass "logs: $(jq length <<<"$whole") lines, one per page through the timestamp offsets = the whole log"

# --- transient answers -------------------------------------------------------
k8s_ctl POST /_sim/fault '{"kind":"status","code":429,"count":2,"retry_after":1,"verb":"create"}' >/dev/null
k8s_ctl POST /_sim/fault '{"kind":"status","code":500,"count":2,"verb":"create"}' >/dev/null
t=$(invoke st "$V" standard hold)
wait_started "$t"
go "$t"
wait_inv 30 "$t" '.invocation_status == "TERMINATED"' "the throttled invocation to end"
expect "$t" '(.executions | length) == 1 and .executions[0].outcome == "SUCCEEDED"' \
  "429 and 500 retried without consuming an attempt"
grep -q 'answered 429 (retry after 1 s).*trying again in 1000 ms' "$MN_WORK/main.log" ||
  fail "the 429's Retry-After was not what the daemon waited: $(grep 'answered 429' "$MN_WORK/main.log" | head -2)"
grep -q 'answered 500' "$MN_WORK/main.log" || fail "the 500 was not reported"
pass "429 (Retry-After 1 s, waited by the daemon's tracker) and 500 are TRANSIENT: retried, one execution, SUCCEEDED"

# --- 422: INVALID, the attempt fails with the API's message ------------------
k8s_ctl POST /_sim/fault '{"kind":"status","code":422,"count":1,"verb":"create"}' >/dev/null
t=$(invoke st "$V" standard hold)
wait_inv 30 "$t" '.invocation_status == "TERMINATED"' "the refused invocation to end"
expect "$t" '(.executions | length) == 1 and (.executions[0] | .outcome == null and
  .worker_details == null and (.error_message | contains("is invalid: spec.template.spec.containers[0].image: Required value")))' \
  "422 ends the attempt with the API's message (max_retries 0: one execution)"
pass "422 is INVALID: the attempt fails with the API server's message, no retry beyond the policy"

# --- image pull failure, Pending, OOMKilled ----------------------------------
fn_image() { # NAME IMAGE
  sc_function "$1" 100 0 60 | jq -c --arg i "$2" '. + {docker_image_override: $i}'
}
k8s_ctl POST /_sim/fault '{"kind":"image_pull","image":"registry.example/missing:1"}' >/dev/null
k8s_ctl POST /_sim/fault '{"kind":"pending","image":"registry.example/huge:1"}' >/dev/null
k8s_ctl POST /_sim/fault '{"kind":"oom","image":"registry.example/oom:1"}' >/dev/null
V2=$(call POST /projects/st/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  $(fn_image pull registry.example/missing:1), $(fn_image pend registry.example/huge:1),
  $(fn_image oom registry.example/oom:1)]}" | jq -r .version_id)
p=$(invoke st "$V2" pull hold)
q=$(invoke st "$V2" pend hold)
o=$(invoke st "$V2" oom hold)
for spec in "$p|(ErrImagePull|ImagePullBackOff): " "$q|pod Pending for more than 3 s: Unschedulable" \
  "$o|exited with code 137: OOMKilled"; do
  IFS='|' read -r id re <<<"$spec"
  wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "$id to end"
  expect "$id" '(.executions | length) == 1 and (.executions[0] | .outcome == null and
    .worker_status == "TERMINATED" and (.error_message | test($re)))' "the reason named" --arg re "$re"
done
gone_job() { # the API answers 404 for it
  [ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K8S_TOKEN" \
    "$K8S_URL/apis/batch/v1/namespaces/$K8S_NS/jobs/$1")" = 404 ]
}
for id in "$p" "$q"; do
  jn=$(field "$id" '.executions[0].worker_details.identifier'); jn=${jn#*/}
  wait_until 10 "the unfinished Job $jn to be deleted by release" gone_job "$jn"
done
pass "ErrImagePull/ImagePullBackOff, Pending past pending_timeout and OOMKilled end the attempt with the reason; unfinished Jobs deleted"
k8s_assert_no_violations
