#!/usr/bin/env bash
# Idempotent launch through the k8s provider: the daemon is SIGKILLed while
# its create-Job call is in flight (the simulator has stored the Job and
# holds the answer back), then restarted. The restarted daemon launches the
# PROVISIONING execution again, gets 409 AlreadyExists, adopts the Job, and
# the one worker runs the execution to SUCCEEDED: one Job, never two.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
SC_PROVIDER=k8s
. "$(dirname "$0")/lib_scenarios.sh"

sc_daemon 5s
V=$(sc_deploy restart 60)
k8s_ctl POST /_sim/fault '{"kind":"create_delay","ms":30000}' >/dev/null
id=$(invoke restart "$V" standard hold)
created() { [ "$(k8s_stats | jq .jobsCreated)" -ge 1 ]; }
wait_until 30 "the simulator to store the Job" created
expect "$id" '.executions | length == 1 and .[0].worker_status == "PROVISIONING"' \
  "the launch is in flight"
daemon_kill main KILL
pass "daemon SIGKILLed while its create-Job answer was held back"

k8s_ctl POST /_sim/fault '{"kind":"create_delay","ms":0}' >/dev/null
daemon_start main
wait_inv 60 "$id" '.executions[0].worker_status == "RUNNING"' "the adopted worker RUNNING"
wait_started "$id"
go "$id"
wait_inv 30 "$id" '.invocation_status == "TERMINATED"' "the invocation to end"
expect "$id" '(.executions | length) == 1 and (.executions[0] | .outcome == "SUCCEEDED" and
  .output == "done")' "one execution, SUCCEEDED"
s=$(k8s_stats)
jq -e '.jobsCreated == 1 and .requests["create jobs"] == 2 and .requests["get jobs"] >= 1' \
  <<<"$s" >/dev/null || fail "expected one Job, a second create answered 409 and adopted: $(jq -c .requests <<<"$s")"
grep -q "adopted existing job" "$MN_WORK/main.log" || fail "the restarted daemon did not adopt the Job"
pass "restarted daemon: create answered 409, the Job adopted; 1 Job created in all, 1 execution SUCCEEDED"
k8s_assert_no_violations
