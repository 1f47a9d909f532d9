#!/usr/bin/env bash
# Terminate through the k8s provider keeps the worker's log (docs/k8s.md,
# Operations: terminate), against the API simulator:
#  - a cancelled running worker, and one whose timeout passed: its pod is
#    patched (spec.activeDeadlineSeconds 1), not deleted; the "kubelet" sends
#    SIGTERM, the pod ends Failed with reason DeadlineExceeded, the Job
#    fails (BackoffLimitExceeded) and stays for its TTL; the lines the
#    command printed before, and the line of its SIGTERM handler, are still
#    served by the execution's logs endpoint;
#  - a worker cancelled before its pod runs: the Job is deleted;
#  - after a restart, reconciliation (terminate with grace 0 of the workers
#    of ended executions) leaves a Job whose pod has ended, and its log;
#  - the daemon's grace shorter than the pod spec's: the pod is deleted with
#    that grace (a deadline kill cannot shorten it), promptly.
# The simulator refuses (422) a pod patch that changes anything immutable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
SC_PROVIDER=k8s
. "$(dirname "$0")/lib_scenarios.sh"

prov_setup
daemon_config main "scheduler:
  termination_grace_seconds: 3s
  inspect_interval_ms: 200
$(prov_yaml)
    termination_grace_seconds: 3s
    ttl_seconds_after_finished: 1h"
daemon_start main
export MULTINODE_API_URL=$MN_URL MULTINODE_API_KEY=$MN_KEY
V=$(sc_deploy tl 60)
VT=$(sc_deploy tl 3)

# The pod and Job of an invocation's first execution, as the simulator keeps them.
pod_of() { k8s_ctl GET /_sim/objects | jq --arg j "mn-$1" '[.pods[] | select(.obj.metadata.labels["job-name"] == $j)] | last'; }
job_of() { k8s_ctl GET /_sim/objects | jq --arg j "mn-$1" '[.jobs[] | select(.obj.metadata.name == $j)] | last'; }
logs_of() { call GET "$(base_of "$1")/invocations/$1/executions/$2/logs?max_lines=250"; }

# check_kept ID WHAT: the execution of ID ended through its pod's deadline and its log is readable.
check_kept() {
  local id=$1 what=$2 exe pod job logs
  exe=$(field "$id" '.executions[0].execution_id')
  pod=$(pod_of "$exe")
  jq -e '.deleted == false and .patches == [{"spec": {"activeDeadlineSeconds": 1}}] and
    .obj.spec.activeDeadlineSeconds == 1 and .obj.status.phase == "Failed" and
    .obj.status.reason == "DeadlineExceeded" and
    (.obj.status.containerStatuses[0].state.terminated | . != null)' <<<"$pod" >/dev/null ||
    fail "$what: the pod: $(jq -c '{deleted, patches, spec: .obj.spec.activeDeadlineSeconds, status: .obj.status}' <<<"$pod")"
  job=$(job_of "$exe")
  jq -e '.deleted == false and any(.obj.status.conditions[]; .type == "Failed" and .status == "True" and
    .reason == "BackoffLimitExceeded")' <<<"$job" >/dev/null ||
    fail "$what: the Job: $(jq -c '{deleted, status: .obj.status}' <<<"$job")"
  logs=$(logs_of "$id" "$exe")
  for line in "log line before the end 1" "log line before the end 2" "cleanup on SIGTERM" \
    "multinode-worker: recorded outcome ABORTED"; do
    grep -qF "$line" <<<"$logs" || fail "$what: \"$line\" is not in the execution's log: $logs"
  done
  [ -e "$MN_WORK/$id.signalled" ] || fail "$what: the command never got SIGTERM"
}

# --- a cancelled running worker --------------------------------------------
k8s_ctl POST /_sim/reset '{}' >/dev/null
c=$(invoke tl "$V" standard log-trap)
wait_started "$c"
call PUT "$(base_of "$c")/invocations/$c/cancel" >/dev/null
wait_inv 30 "$c" '.invocation_status == "TERMINATED"' "the cancelled invocation TERMINATED"
expect "$c" '(.executions | length) == 1 and .executions[0].outcome == "ABORTED" and
  .executions[0].worker_status == "TERMINATED"' "cancelled: ABORTED, TERMINATED"
expect_status "$c" CANCELLED "cancelled"
check_kept "$c" "cancelled"
pname=$(pod_of "$(field "$c" '.executions[0].execution_id')" | jq -r .obj.metadata.name) # for the end
s=$(k8s_stats)
jq -e '(.requests["patch pods"] // 0) == 1 and (.requests["delete jobs"] // 0) == 0 and
  (.requests["deletecollection pods"] // 0) == 0' <<<"$s" >/dev/null ||
  fail "cancelled: the calls: $(jq -c .requests <<<"$s")"
pass "cancelled: pod patched (activeDeadlineSeconds 1), not deleted; Failed/DeadlineExceeded; Job kept, Failed; the log has the lines before and the SIGTERM handler's"

# --- a worker whose timeout passed -----------------------------------------
t=$(invoke tl "$VT" standard log-trap)
wait_started "$t"
wait_inv 30 "$t" '.invocation_status == "TERMINATED"' "the timed-out invocation TERMINATED"
expect "$t" '.executions[0].outcome == "ABORTED" and .executions[0].worker_status == "TERMINATED"' \
  "timed out: ABORTED, TERMINATED"
expect_status "$t" "TIMED OUT" "timed out"
check_kept "$t" "timed out"
pass "timed out: the same, and the log is readable"

# --- the Job controller slow to mark the Job Failed ------------------------
# release comes when the pod has ended but the Job has no Failed condition
# yet: a Job whose pod ended is finished, left to its TTL, its log kept.
k8s_ctl POST /_sim/fault '{"kind":"job_status_delay","ms":8000}' >/dev/null
d=$(invoke tl "$V" standard log-trap)
wait_started "$d"
k8s_ctl POST /_sim/reset '{}' >/dev/null
call PUT "$(base_of "$d")/invocations/$d/cancel" >/dev/null
wait_inv 30 "$d" '.invocation_status == "TERMINATED"' "the cancelled invocation TERMINATED"
released() { [ "$(k8s_requests 'get jobs')" -ge 1 ] && [ "$(k8s_requests 'delete secrets')" -ge 2 ]; }
wait_until 8 "release (its get of the Job; the Secret deleted by terminate, then release)" released
dexe=$(field "$d" '.executions[0].execution_id')
job_of "$dexe" | jq -e '.deleted == false and (.obj.status.conditions | length) == 0' >/dev/null ||
  fail "slow Job controller: the Job was deleted or already finished: $(job_of "$dexe" | jq -c '{deleted, status: .obj.status}')"
k8s_ctl POST /_sim/fault '{"kind":"job_status_delay","ms":0}' >/dev/null
wait_until 10 "the Job controller to mark the Job Failed" bash -c \
  "curl -sfk '$K8S_URL/_sim/objects' | jq -e --arg j mn-$dexe 'any(.jobs[]; .obj.metadata.name == \$j and .deleted == false and any(.obj.status.conditions[]; .type == \"Failed\"))' >/dev/null"
check_kept "$d" "slow Job controller"
pass "a Job whose pod ended before the Job controller marked it Failed is kept by release, its log readable"

# --- released afterwards: the Jobs stay for their TTL ----------------------
hold_for 2 "the three Jobs stay (their TTL is 1 h)" bash -c \
  "[ \"\$(curl -sfk -H 'Authorization: Bearer $K8S_TOKEN' '$K8S_URL/apis/batch/v1/namespaces/$K8S_NS/jobs?labelSelector=multinode.dev%2Fproject%3Dtl' | jq '.items | length')\" = 3 ]"
pass "release leaves the finished Jobs to their TTL"

# --- cancelled before its pod runs: the Job is deleted ---------------------
k8s_ctl POST /_sim/fault '{"kind":"hold_pods","on":true}' >/dev/null
h=$(invoke tl "$V" standard log-trap)
wait_inv 30 "$h" '.executions | length == 1 and .[0].worker_details != null' "the held worker launched"
call PUT "$(base_of "$h")/invocations/$h/cancel" >/dev/null
wait_inv 30 "$h" '.invocation_status == "TERMINATED"' "the held invocation TERMINATED"
k8s_ctl POST /_sim/fault '{"kind":"hold_pods","on":false}' >/dev/null
hexe=$(field "$h" '.executions[0].execution_id')
job_of "$hexe" | jq -e '.deleted == true' >/dev/null || fail "held: the Job was not deleted: $(job_of "$hexe")"
pod_of "$hexe" | jq -e '.patches == []' >/dev/null || fail "held: a pod that never ran was patched"
pass "cancelled before its pod ran: the Job deleted, nothing patched"

# --- the daemon's grace shorter than the pod spec's (120 s) ------------------
daemon_kill main
daemon_config main "scheduler:
  termination_grace_seconds: 2s
  inspect_interval_ms: 200
$(prov_yaml)
    ttl_seconds_after_finished: 1h"
k8s_ctl POST /_sim/reset '{}' >/dev/null
daemon_start main
export MULTINODE_API_URL=$MN_URL
# reconciliation after the restart terminates the workers of ended
# executions again (with grace 0): a Job whose pod has ended stays
reconciled() { [ "$(k8s_requests 'list jobs')" -ge 1 ]; }
wait_until 30 "reconciliation (a labelled list of Jobs)" reconciled
sleep 1
check_kept "$c" "after a restart"
s=$(k8s_stats)
jq -e '(.requests["delete jobs"] // 0) == 0 and (.requests["deletecollection pods"] // 0) == 0' <<<"$s" >/dev/null ||
  fail "after a restart: finished Jobs deleted: $(jq -c .requests <<<"$s")"
pass "after a restart, reconciliation leaves the finished Jobs and their logs"
k8s_ctl POST /_sim/reset '{}' >/dev/null
g=$(invoke tl "$V" standard ignore-term)
wait_started "$g"
call PUT "$(base_of "$g")/invocations/$g/cancel" >/dev/null
wait_inv 30 "$g" '.invocation_status == "TERMINATED"' "the invocation that ignores SIGTERM TERMINATED"
expect "$g" '.executions[0] | .worker_status == "TERMINATED" and .outcome == null and
  .last_update_time_us - .termination_signal_time_us < 15000000' "shorter grace: killed within 15 s"
wait_until 10 "the command that ignored SIGTERM to be killed" prov_worker_gone "$g"
gexe=$(field "$g" '.executions[0].execution_id')
pod_of "$gexe" | jq -e '.deleted == true and .obj.metadata.deletionGracePeriodSeconds == 2' >/dev/null ||
  fail "shorter grace: the pod: $(pod_of "$gexe" | jq -c '{deleted, metadata: .obj.metadata}')"
s=$(k8s_stats)
jq -e '(.requests["deletecollection pods"] // 0) >= 1 and (.requests["patch pods"] // 0) == 0' <<<"$s" >/dev/null ||
  fail "shorter grace: the calls: $(jq -c .requests <<<"$s")"
pass "the daemon's grace (2 s) shorter than the pod's (120 s): the pod deleted with 2 s, killed promptly"

k8s_assert_no_violations

# --- the simulator refuses what the API server refuses ---------------------
patch_pod() {
  curl -sk -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $K8S_TOKEN" \
    -H 'Content-Type: application/merge-patch+json' --data-binary "$1" \
    "$K8S_URL/api/v1/namespaces/$K8S_NS/pods/$pname"
}
refused() { # WHAT PATCH CODE
  local got; got=$(patch_pod "$2")
  [ "$got" = "$3" ] || fail "$1: answered $got, want $3"
}
refused "raising activeDeadlineSeconds" '{"spec":{"activeDeadlineSeconds":5}}' 422
refused "activeDeadlineSeconds 0" '{"spec":{"activeDeadlineSeconds":0}}' 422
refused "a restartPolicy patch" '{"spec":{"restartPolicy":"Always"}}' 422
refused "a grace patch" '{"spec":{"terminationGracePeriodSeconds":1}}' 422
refused "the same deadline again" '{"spec":{"activeDeadlineSeconds":1}}' 200
v=$(k8s_stats | jq .violations)
[ "$v" = 4 ] || fail "the simulator counted $v violations, not the 4 refused patches"
pass "the simulator refuses raising or zeroing the deadline and changing restartPolicy or the grace (422)"
