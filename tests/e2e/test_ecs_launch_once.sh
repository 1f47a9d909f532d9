#!/usr/bin/env bash
# RunTask happens at most once per execution, whatever fails around it:
#  1. the first RunTask is throttled (ThrottlingException): retried, still
#     exactly one task and one execution;
#  2. the daemon is SIGKILLed between RunTask and recording its result (the
#     simulator holds the RunTask answer back 5 s after it started the
#     task); the restarted daemon launches again with the same clientToken
#     and gets the same task: one task, one execution, SUCCEEDED.
# At exit: no signature mismatch, no model violation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemon.sh"
. "$(dirname "$0")/providers/ecs.sh"

ecs_sim_start
daemon_config main "$(ecs_yaml)"
daemon_start main

cat >"$MN_WORK/fn.sh" <<'SH'
echo "$MULTINODE_EXECUTION_ID" >>"$(dirname "$0")/runs.$MULTINODE_INVOCATION_ID"
echo "ran $(cat)"
SH
api PUT /projects/p >/dev/null
v=$(api POST /projects/p/versions "{\"default_docker_image\":\"$SC_IMAGE\",\"functions\":[
  {\"function_name\":\"f\",\"command\":[\"sh\",\"$MN_WORK/fn.sh\"],
   \"env\":{\"MN_HOLD_FILE\":\"$MN_WORK/hold\"},
   \"resource_spec\":{\"virtual_cpus\":0.5,\"memory_gbs\":1,\"max_concurrency\":10},
   \"execution_spec\":{\"max_retries\":3,\"timeout_seconds\":120}}]}" | jq -r .version_id)
[[ $v == ver-* ]] || fail "no version"
base=/projects/p/versions/$v/functions/f/invocations
run() { api POST "$base" "{\"input\":\"$1\"}" | jq -r .invocation_id; }
done_ok() { api GET "$base/$1" | jq -e '.invocation_status == "TERMINATED"' >/dev/null; }
counter() { sim_get /_sim/counters | jq "$1"; }

# exactly_once INV: one execution, SUCCEEDED; one task; the command ran once
exactly_once() {
  local j t
  j=$(api GET "$base/$1")
  jq -e '(.executions | length) == 1 and .executions[0].outcome == "SUCCEEDED"' <<<"$j" >/dev/null ||
    fail "$2: $(jq -c .executions <<<"$j")"
  t=$(tasks_of "$1")
  jq -e 'length == 1' <<<"$t" >/dev/null || fail "$2: tasks $t"
  [ "$(wc -l <"$MN_WORK/runs.$1")" = 1 ] || fail "$2: the command ran $(wc -l <"$MN_WORK/runs.$1") times"
}

# 1. throttled first RunTask
sim_post /_sim/faults '{"throttle":{"RunTask":1}}' >/dev/null
i1=$(run one)
wait_until 60 "$i1 to finish" done_ok "$i1"
exactly_once "$i1" "throttled launch"
[ "$(counter .throttled)" = 1 ] && [ "$(counter .calls.RunTask)" = 2 ] ||
  fail "expected 1 throttled of 2 RunTask calls: $(sim_get /_sim/counters | jq -c '{throttled, calls}')"
pass "1: the first RunTask throttled, retried: 2 calls, 1 task, 1 execution, the command ran once"

# 2. SIGKILL between RunTask and recording its result
touch "$MN_WORK/hold"
sim_post /_sim/faults '{"delay_ms":{"RunTask":[5000,1]}}' >/dev/null
calls_before=$(counter .calls.RunTask)
i2=$(run two)
has_task() { tasks_of "$i2" | jq -e 'length == 1' >/dev/null; }
wait_until 30 "the simulator to start the task of $i2" has_task
api GET "$base/$i2" | jq -e '.executions[0].worker_details == null' >/dev/null ||
  fail "the daemon recorded the worker before RunTask answered: $(api GET "$base/$i2")"
daemon_kill main KILL
pass "2: daemon SIGKILLed while RunTask of $i2 had started the task but not answered"
daemon_start main
worker_known() {
  api GET "$base/$i2" | jq -e '.executions[0].worker_details.identifier != null' >/dev/null
}
wait_until 60 "the restarted daemon to find the task of $i2" worker_known
rm "$MN_WORK/hold"
wait_until 60 "$i2 to finish" done_ok "$i2"
exactly_once "$i2" "launch interrupted by SIGKILL"
arn=$(tasks_of "$i2" | jq -r '.[0].taskArn')
[ "$(api GET "$base/$i2" | jq -r '.executions[0].worker_details.identifier')" = "$arn" ] ||
  fail "the execution names another task than $arn"
[ "$(counter .calls.RunTask)" -ge $((calls_before + 2)) ] ||
  fail "the restarted daemon did not launch again (RunTask calls $(counter .calls.RunTask))"
pass "2: the restarted daemon's RunTask with the same clientToken got the same task: 1 task, 1 execution"
